/**
 * "Disk full / read-only filesystem: … EROFS … alarm" (DOMAIN.md §6), judged continuously and end to end
 * through the RUNNING headend (issue 8): the recordings directory of a real agent is a real filesystem
 * (tmpfs) that is remounted read-only and back while the agent runs — no recording is scheduled, so only
 * the agent's periodic disk measurement (telemetry every period) can notice. `filesystem_read_only` is
 * raised after the hold, cleared once the disk is writable again, and survives an agent restart while the
 * disk stays read-only (the restart reconciliation must not clear it as "not seen again").
 *
 * A tmpfs mount needs root. Without it (a developer's laptop) the same story runs on an injected disk view
 * (AgentDeps.measureDisk reporting EROFS), which the test says in a comment.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import t from 'tap';
import { type Agent, startAgent } from '../../device/agent.js';
import type { AgentConfig } from '../../device/config.js';
import { systemClock } from '../../device/link/clock.js';
import { createLogger } from '../../device/log.js';
import { type DiskPolicy, measureDisk } from '../../device/recorder/disk.js';
import { agentConfig, startSimReceiver, tempDir } from '../helpers/agent-harness.js';
import { sleep, startTechnicianRig, type TechnicianRig, until } from '../helpers/technician-rig.js';

const KIND = 'filesystem_read_only';

/** The recordings filesystem, read-only or writable on demand: a real tmpfs mount, or an injected view. */
interface RecordingsFs {
  real: boolean;
  setReadOnly(ro: boolean): void;
  measure?: (root: string, policy: DiskPolicy) => Promise<Awaited<ReturnType<typeof measureDisk>>>;
}

function mountTmpfs(t: Test, dir: string): RecordingsFs {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    t.comment(`no tmpfs mount here (${(err as Error).message.split('\n')[0]}): injecting the disk view`);
    let ro = false;
    return {
      real: false,
      setReadOnly: (v) => {
        ro = v;
      },
      measure: async (root, policy) => ({ ...(await measureDisk(root, policy)), readOnly: ro }),
    };
  }
  t.teardown(() => {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch {
      // Already gone with the temp dir.
    }
  });
  return {
    real: true,
    setReadOnly: (ro) => execFileSync('mount', ['-o', `remount,${ro ? 'ro' : 'rw'}`, dir], { stdio: 'pipe' }),
  };
}

/** Starts an agent for `id` on `config` (again, for a restart); resolves once it is online. */
async function startStation(rig: TechnicianRig, id: string, config: AgentConfig, fs: RecordingsFs) {
  const dest = createWriteStream(path.join(config.dataDir, '..', 'agent.log'), { flags: 'a' });
  const agent: Agent = await startAgent(config, {
    clock: systemClock(),
    logger: createLogger({ level: 'info', name: 'ruralsat-agent', destination: dest }),
    spawn,
    controlSocket: false,
    ...(fs.measure ? { measureDisk: fs.measure } : {}),
  });
  const cp = rig.headend.controlPlane;
  await until(() => cp.presence.get(id)?.connection === 'online', `${id} online`, 20_000);
  return {
    agent,
    async stop() {
      await agent.stop();
      dest.end();
    },
  };
}

const active = (rig: TechnicianRig, s: string) => rig.alarms({ station: s, kind: KIND });
const transitionsOf = (rig: TechnicianRig, s: string, type: string, from: number) =>
  rig.transitions.filter((x) => x.station === s && x.kind === KIND && x.type === type && x.at >= from);

t.test(
  'read-only recordings filesystem: raised while the agent runs, cleared when writable, kept across a restart',
  async (t) => {
    const S = 'kongtong-erofs1';
    const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
    const dir = await tempDir(t, 'erofs-');
    const rx = await startSimReceiver(t);
    const config = agentConfig({
      dir,
      brokerUrl: rig.brokerUrl,
      port: rx.port,
      streamUrl: rx.streamUrl,
      stationId: S,
      extra: { broker: { url: rig.brokerUrl, password: rig.secrets[S] ?? '' } },
    });
    const fs = mountTmpfs(t, config.recordingsDir);
    t.comment(fs.real ? 'recordings on a real tmpfs mount' : 'recordings on an injected disk view');
    writeFileSync(path.join(config.recordingsDir, 'keep.txt'), 'written while writable');
    let station = await startStation(rig, S, config, fs);
    t.teardown(async () => {
      await station.stop();
      fs.setReadOnly(false);
    });
    await sleep(2000);
    t.same(active(rig, S), [], 'a writable disk raises nothing');

    // 1. The filesystem goes read-only (a kernel remount after I/O errors): no recording is due.
    const t0 = Date.now();
    fs.setReadOnly(true);
    const alarm = await until(() => active(rig, S)[0], `${KIND} at the headend`, 20_000, 20);
    t.equal(alarm.cause.row, 'disk-full', `cause: ${alarm.cause.text}`);
    t.equal(alarm.severity, 'critical');
    t.match(alarm.evidence.text, /read-only \(EROFS\)/, `evidence: ${alarm.evidence.text}`);
    t.comment(`read-only: raised ${Date.now() - t0} ms after the remount (hold 1 s, telemetry 1 s)`);

    // 2. Writable again (fsck, remount): cleared while the agent runs, after the clear hold.
    const t1 = Date.now();
    fs.setReadOnly(false);
    await until(() => active(rig, S).length === 0, `${KIND} cleared`, 20_000, 20);
    t.comment(`writable: cleared ${Date.now() - t1} ms after the remount`);
    t.equal(transitionsOf(rig, S, 'cleared', t1).length, 1, 'raised → cleared in the history');

    // 3. Read-only again, and the agent restarts: the alarm must outlive the restart while the disk stays
    // read-only — the reconciliation after a restart clears only what no detector sees again.
    fs.setReadOnly(true);
    await until(() => active(rig, S)[0], `${KIND} raised again`, 20_000, 20);
    await station.stop();
    await until(
      () => rig.headend.controlPlane.presence.get(S)?.connection !== 'online',
      `${S} offline after the stop`,
      20_000,
    );
    const t2 = Date.now();
    station = await startStation(rig, S, config, fs);
    // Reconciliation runs max(2 × 1 s, 2 s + 1 s) + 0.3 s after the start (device/agent/alarms.ts).
    await sleep(6000);
    t.equal(active(rig, S).length, 1, 'still raised after the restart: the disk is still read-only');
    t.same(transitionsOf(rig, S, 'cleared', t2), [], 'not cleared as "not seen again" by the restart');

    // 4. Writable again after the restart: the restored alarm clears on the new run's measurements.
    const t3 = Date.now();
    fs.setReadOnly(false);
    await until(() => active(rig, S).length === 0, `${KIND} cleared after the restart`, 20_000, 20);
    t.comment(`after the restart: cleared ${Date.now() - t3} ms after the remount`);
    t.equal(transitionsOf(rig, S, 'cleared', t3).length, 1, 'raised → cleared once, in the history');
  },
);
