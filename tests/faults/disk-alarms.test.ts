/**
 * "Disk full / read-only filesystem: free space before and during jobs; EROFS → retention policy; refuse
 * with a reason; alarm" (DOMAIN.md §6), end to end through the RUNNING headend (issue 8): a real agent
 * with a small recordings quota reports its disk in telemetry; the headend raises `disk_low` (cause row
 * `disk-full`) and offers the `recordings.retention` remedy next to it; the technician runs it through
 * the HTTP API, the station deletes what the retention policy allows, and the alarm clears. A recording
 * the station cannot make for lack of space is refused with the reason, and the reason reaches the headend.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import t from 'tap';
import { startAgent } from '../../device/agent.js';
import { databasePath } from '../../device/config.js';
import { systemClock } from '../../device/link/clock.js';
import { createLogger } from '../../device/log.js';
import { openStationStore } from '../../device/store/db.js';
import { agentConfig, startSimReceiver, tempDir } from '../helpers/agent-harness.js';
import { startTechnicianRig, type TechnicianRig, until } from '../helpers/technician-rig.js';

const MB = 1024 * 1024;
const DAY = 86_400_000;

/** A station whose disk already holds `old` finished recordings, with a quota and a retention policy. */
async function station(
  t: Test,
  rig: TechnicianRig,
  id: string,
  o: {
    quotaBytes: number;
    old: { ageDays: number; bytes: number; protect?: boolean }[];
    maxAgeDays?: number;
  },
) {
  const dir = await tempDir(t, `disk-${id}-`);
  const rx = await startSimReceiver(t);
  const config = agentConfig({
    dir,
    brokerUrl: rig.brokerUrl,
    port: rx.port,
    streamUrl: rx.streamUrl,
    stationId: id,
    extra: {
      broker: { url: rig.brokerUrl, password: rig.secrets[id] ?? '' },
      disk: { quotaBytes: o.quotaBytes, minFreeBytes: 0 },
      // The automatic sweep stays out of the way: the technician's remedy is what frees the space here.
      timing: { tunePreRollMs: 4000, retentionSweepMs: 3_600_000 },
    },
  });
  mkdirSync(config.dataDir, { recursive: true });
  mkdirSync(config.recordingsDir, { recursive: true });
  const store = openStationStore(databasePath(config));
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const [i, r] of o.old.entries()) {
    const end = Date.now() - r.ageDays * DAY;
    const rel = `old-${i}/${r.ageDays}`;
    mkdirSync(path.join(config.recordingsDir, rel), { recursive: true });
    writeFileSync(path.join(config.recordingsDir, rel, 'seg-00000.ts'), Buffer.alloc(r.bytes));
    const { recording } = store.recordings.open({
      entryId: `old-${i}`,
      nominalStart: iso(end - 3_600_000),
      service: 'cctv1',
      serviceId: 101,
      dir: rel,
      plannedStart: iso(end - 3_600_000),
      plannedEnd: iso(end),
      startedAt: iso(end - 3_600_000),
      clockTrusted: true,
    });
    store.transaction((tx) =>
      store.recordings.finish(tx, recording.id, {
        outcome: 'completed',
        bytes: r.bytes,
        durationMs: 3_600_000,
        gapsMs: 0,
        quality: 100,
        clockTrusted: true,
        finishedAt: iso(end),
      }),
    );
    if (r.protect) store.recordings.setProtected(recording.id, true);
  }
  store.close();
  if (o.maxAgeDays !== undefined) {
    writeFileSync(
      path.join(config.dataDir, 'retention-policy.json'),
      JSON.stringify({ maxAgeDays: o.maxAgeDays }),
    );
  }
  const dest = createWriteStream(path.join(dir, 'agent.log'), { flags: 'a' });
  const agent = await startAgent(config, {
    clock: systemClock(),
    logger: createLogger({ level: 'info', name: 'ruralsat-agent', destination: dest }),
    spawn,
    controlSocket: false,
  });
  t.teardown(async () => {
    await agent.stop();
    dest.end();
  });
  const cp = rig.headend.controlPlane;
  await until(() => cp.presence.get(id)?.connection === 'online', `${id} online`, 20_000);
  return { agent, config };
}

interface AlarmView {
  id: string;
  kind: string;
  cause: { row: string; text: string };
  evidence: { text: string };
  remedies?: { method: string; params: Record<string, unknown> }[];
}

t.test(
  'disk nearly full: disk_low, the retention remedy via the API frees space, the alarm clears',
  async (t) => {
    const S = 'kongtong-disk1';
    const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
    // 19 of 20 MiB used by a recording from two months ago; the station keeps 30 days.
    await station(t, rig, S, { quotaBytes: 20 * MB, old: [{ ageDays: 60, bytes: 19 * MB }], maxAgeDays: 30 });
    const t0 = Date.now();
    const low = await until(
      () => rig.alarms({ station: S, kind: 'disk_low' })[0],
      'disk_low at the headend',
      20_000,
      20,
    );
    t.equal(low.cause.row, 'disk-full', `cause: ${low.cause.text}`);
    t.match(low.evidence.text, /recordings disk nearly full: 5 ?% free/, low.evidence.text);
    t.comment(`disk_low raised ${Date.now() - t0} ms after the station came online`);

    const tech = await rig.as('tech');
    const list = await tech.request('GET', `/api/v1/alarms?station=${S}&kind=disk_low`);
    t.equal(list.status, 200);
    const view = (list.body as AlarmView[])[0];
    const remedy = view?.remedies?.find((r) => r.method === 'recordings.retention');
    t.ok(
      remedy,
      `the alarm offers the retention remedy (${JSON.stringify(view?.remedies?.map((r) => r.method))})`,
    );
    const run = await tech.request(
      'POST',
      `/api/v1/stations/${S}/diagnostics/recordings.retention`,
      remedy?.params ?? { sweep: true },
    );
    t.equal(run.status, 200, JSON.stringify(run.body).slice(0, 300));
    const result = JSON.stringify(run.body);
    t.match(
      result,
      /"deleted":1/,
      `the sweep deleted the recording past the max age: ${result.slice(0, 300)}`,
    );
    const t1 = Date.now();
    await until(
      () => rig.alarms({ station: S, kind: 'disk_low' }).length === 0,
      'disk_low cleared',
      20_000,
      20,
    );
    t.comment(`disk_low cleared ${Date.now() - t1} ms after the remedy`);
    t.ok(
      rig.transitions.some((x) => x.station === S && x.kind === 'disk_low' && x.type === 'cleared'),
      'raised → cleared in the history',
    );
  },
);

interface PlanView {
  occurrences: { entryId: string; execution: { state: string; reason?: string | null } | null }[];
}

t.test(
  'a recording refused for lack of space: disk_full and the missed occurrence at the headend, saying why; cleared once space is back',
  async (t) => {
    const S = 'kongtong-disk2';
    const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
    // Everything on the disk is protected: retention may not free it, so the recording cannot start.
    await station(t, rig, S, { quotaBytes: 12 * MB, old: [{ ageDays: 2, bytes: 6 * MB, protect: true }] });
    const entryId = rig.record(S, 'cctv1', 3000, 8000);
    const full = await until(
      () => rig.alarms({ station: S, kind: 'disk_full' })[0],
      'disk_full at the headend',
      30_000,
      20,
    );
    t.equal(full.cause.row, 'disk-full', `cause: ${full.cause.text}`);
    t.equal(full.severity, 'critical');
    t.match(
      full.evidence.text,
      /no space for \d+ bytes: used \d+ of quota 12582912, .* bytes short after retention/,
      `the refusal says why: ${full.evidence.text}`,
    );
    const tech = await rig.as('tech');
    const list = await tech.request('GET', `/api/v1/alarms?station=${S}&kind=disk_full`);
    const view = (list.body as AlarmView[])[0];
    t.ok(
      view?.remedies?.some((r) => r.method === 'recordings.retention'),
      'the retention remedy is offered next to it',
    );

    // The occurrence as the headend reports it (the station's plan with execution states, via the API).
    const occ = await until(
      async () => {
        const r = await tech.request('GET', `/api/v1/stations/${S}/plan`);
        const o = (r.body as PlanView).occurrences.find((x) => x.entryId === entryId);
        return o?.execution?.state === 'missed' ? o.execution : undefined;
      },
      'the refused occurrence reported missed',
      30_000,
      200,
    );
    t.match(
      occ.reason ?? '',
      /^disk_full: no space for \d+ bytes: .* bytes short after retention/,
      `missed, with the refusal's reason: ${occ.reason}`,
    );
    t.equal(rig.alarms({ station: S, kind: 'disk_full' }).length, 1, 'disk_full still active: no space yet');

    // Space comes back (the technician raises the quota): the station sees room on its next disk
    // measurement and clears disk_full — no recording has to start for that.
    const t1 = Date.now();
    const raise = await tech.request('POST', `/api/v1/stations/${S}/diagnostics/recordings.retention`, {
      policy: { quotaBytes: 64 * MB },
    });
    t.equal(raise.status, 200, JSON.stringify(raise.body).slice(0, 300));
    await until(
      () => rig.alarms({ station: S, kind: 'disk_full' }).length === 0,
      'disk_full cleared once space is back',
      20_000,
      20,
    );
    t.comment(`disk_full cleared ${Date.now() - t1} ms after the quota was raised`);
    t.ok(
      rig.transitions.some((x) => x.station === S && x.kind === 'disk_full' && x.type === 'cleared'),
      'raised → cleared in the history',
    );
  },
);
