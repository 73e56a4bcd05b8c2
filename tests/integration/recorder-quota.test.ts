import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { systemClock } from '../../device/link/clock.js';
import { silentLogger } from '../../device/log.js';
import { DiskGuard, measureDisk } from '../../device/recorder/disk.js';
import { Recorder } from '../../device/recorder/recorder.js';
import { manifestEvent } from '../../device/recorder/segments.js';
import { catalogueSink } from '../../device/recorder/sink.js';
import { openStationStore, type StationStore } from '../../device/store/db.js';
import { StationEvent } from '../../protocol/messages/events.js';
import { shortTiming } from '../../protocol/timing.js';
import { startTsSource, UdpGate } from '../helpers/recorder-source.js';

const SID = 303;
const OLD_BYTES = 400_000;

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A finished recording with one real segment file of `bytes`, as an earlier day left it. */
function seedRecording(
  store: StationStore,
  root: string,
  entryId: string,
  day: string,
  opts: { protect?: boolean } = {},
) {
  const dir = `${entryId}/${day}`;
  mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, dir, 'seg-00000.ts'), Buffer.alloc(OLD_BYTES, 0x47));
  const start = `${day}T11:00:00.000Z`;
  const { recording } = store.recordings.open({
    entryId,
    nominalStart: start,
    service: 'cctv1',
    serviceId: SID,
    dir,
    plannedStart: start,
    plannedEnd: `${day}T12:00:00.000Z`,
    startedAt: start,
    clockTrusted: true,
  });
  store.transaction((tx) =>
    store.recordings.finish(tx, recording.id, {
      outcome: 'completed',
      bytes: OLD_BYTES,
      durationMs: 3_600_000,
      gapsMs: 0,
      quality: 100,
      clockTrusted: true,
      finishedAt: `${day}T12:00:00.000Z`,
    }),
  );
  if (opts.protect) store.recordings.setProtected(recording.id, true);
  return recording.id;
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const gate = await UdpGate.open();
  t.teardown(() => gate.close());
  const source = startTsSource({ port: gate.inPorts[0]!, serviceId: SID });
  t.teardown(() => source.stop());
  const root = mkdtempSync(path.join(tmpdir(), 'rec-quota-'));
  const data = mkdtempSync(path.join(tmpdir(), 'rec-quota-db-'));
  t.teardown(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  });
  const store = openStationStore(path.join(data, 'station.db'));
  t.teardown(() => store.close());
  await waitFor(() => gate.forwarded > 50, 10_000);
  return { gate, root, store };
}

t.test(
  'quota reached mid-recording: retention deletes the oldest unprotected; running and protected untouched',
  async (t) => {
    const { gate, root, store } = await setup(t);
    const protectedId = seedRecording(store, root, 'mandated', '2026-02-01', { protect: true });
    const oldest = seedRecording(store, root, 'news', '2026-02-02');
    const middle = seedRecording(store, root, 'news', '2026-02-03');
    const newest = seedRecording(store, root, 'sport', '2026-02-04');
    const before = await measureDisk(root, { quotaBytes: 0, minFreeBytes: 0 });
    // Room for the pre-start check (one segment at the estimated rate) but not for the whole recording.
    const guard = new DiskGuard({
      root,
      policy: { quotaBytes: before.usedBytes + 1_000_000, minFreeBytes: 0 },
      recordings: store.recordings,
      logger: silentLogger(),
    });
    const plannedStart = Date.now() + 1_000;
    const { recording } = store.recordings.open({
      entryId: 'live',
      nominalStart: new Date(plannedStart).toISOString(),
      service: 'cctv1',
      serviceId: SID,
      dir: 'live/today',
      plannedStart: new Date(plannedStart).toISOString(),
      plannedEnd: new Date(plannedStart + 14_000).toISOString(),
      startedAt: new Date().toISOString(),
      clockTrusted: true,
    });
    const recorder = new Recorder({
      spawn,
      clock: systemClock(),
      logger: silentLogger(),
      timing: shortTiming,
      space: guard,
      sink: catalogueSink(store, recording),
    });
    t.teardown(() => recorder.stop());
    await recorder.start({
      url: `udp://127.0.0.1:${gate.toPort}`,
      serviceId: SID,
      root,
      dir: 'live/today',
      plannedStart,
      end: plannedStart + 14_000,
      estimatedBitrateBps: 500_000,
    });
    const result = await recorder.finished;

    t.equal(store.recordings.get(oldest), undefined, 'the oldest unprotected recording was deleted');
    t.notOk(existsSync(path.join(root, 'news/2026-02-02')), 'and its files');
    t.ok(store.recordings.get(protectedId), 'the protected (and oldest) recording is kept');
    t.ok(existsSync(path.join(root, 'mandated/2026-02-01/seg-00000.ts')), 'with its files');
    t.ok(store.recordings.get(newest), 'the newest old recording is kept');
    t.equal(result.outcome, 'completed', `the running recording completed (${result.reason ?? ''})`);
    for (const s of result.segments)
      t.ok(existsSync(path.join(root, s.file)), `running recording's ${s.file} kept`);
    const after = await measureDisk(root, { quotaBytes: 0, minFreeBytes: 0 });
    t.ok(after.usedBytes <= before.usedBytes + 1_000_000, `within quota: ${after.usedBytes}`);
    t.ok(
      store.recordings.get(middle) === undefined || existsSync(path.join(root, 'news/2026-02-03')),
      'consistent',
    );

    // The executor's end of the story: outcome and manifest in one transaction; the manifest is a valid event.
    const event = store.transaction((tx) => {
      store.recordings.finish(tx, recording.id, {
        outcome: result.outcome,
        bytes: result.bytes,
        durationMs: result.durationMs,
        gapsMs: result.gapsMs,
        quality: result.quality,
        clockTrusted: result.clockTrusted,
        finishedAt: new Date().toISOString(),
      });
      return store.outbox.appendEvent(
        tx,
        manifestEvent(result, {
          entryId: 'live',
          nominalStart: recording.nominalStart,
          recordingId: String(recording.id),
          service: 'cctv1',
          at: new Date().toISOString(),
        }),
      );
    });
    t.equal(StationEvent.parse(event).type, 'recording.manifest');
    const catalogued = store.recordings.segments(recording.id);
    t.same(
      catalogued.map((s) => [s.file, s.state]),
      result.segments.map((s) => [s.file, 'verified']),
      'the catalogue holds every verified segment',
    );
    t.equal(store.processes.live().length, 0, 'no recorder process left journalled as running');
  },
);

t.test(
  'no space to be found: refused before the start with DISK_FULL, nothing deleted that is protected',
  async (t) => {
    const { gate, root, store } = await setup(t);
    const keep = seedRecording(store, root, 'mandated', '2026-02-01', { protect: true });
    const before = await measureDisk(root, { quotaBytes: 0, minFreeBytes: 0 });
    const guard = new DiskGuard({
      root,
      policy: { quotaBytes: before.usedBytes + 10_000, minFreeBytes: 0 },
      recordings: store.recordings,
      logger: silentLogger(),
    });
    const recorder = new Recorder({
      spawn,
      clock: systemClock(),
      logger: silentLogger(),
      timing: shortTiming,
      space: guard,
    });
    const plannedStart = Date.now() + 1_000;
    await t.rejects(
      recorder.start({
        url: `udp://127.0.0.1:${gate.toPort}`,
        serviceId: SID,
        root,
        dir: 'live/refused',
        plannedStart,
        end: plannedStart + 10_000,
        estimatedBitrateBps: 500_000,
      }),
      { name: 'RecorderError', code: 'DISK_FULL' },
    );
    t.ok(store.recordings.get(keep), 'protected recording kept');
  },
);

t.test(
  'space runs out mid-recording with nothing left to delete: stopped with reason disk_full',
  async (t) => {
    const { gate, root, store } = await setup(t);
    seedRecording(store, root, 'mandated', '2026-02-01', { protect: true });
    const before = await measureDisk(root, { quotaBytes: 0, minFreeBytes: 0 });
    const guard = new DiskGuard({
      root,
      policy: { quotaBytes: before.usedBytes + 1_000_000, minFreeBytes: 0 },
      recordings: store.recordings,
      logger: silentLogger(),
    });
    const recorder = new Recorder({
      spawn,
      clock: systemClock(),
      logger: silentLogger(),
      timing: shortTiming,
      space: guard,
    });
    t.teardown(() => recorder.stop());
    const verdicts: string[] = [];
    recorder.on('disk', (v) => verdicts.push(v.ok ? 'ok' : v.reason));
    const plannedStart = Date.now() + 1_000;
    await recorder.start({
      url: `udp://127.0.0.1:${gate.toPort}`,
      serviceId: SID,
      root,
      dir: 'live/short',
      plannedStart,
      end: plannedStart + 30_000,
      estimatedBitrateBps: 500_000,
    });
    const result = await recorder.finished;
    t.same(verdicts.slice(0, 1), ['disk_full']);
    t.match(result.reason ?? '', /disk_full/);
    t.equal(result.outcome, 'completed_with_errors', 'what was recorded is kept and usable');
    t.equal(result.gaps[result.gaps.length - 1]?.cause, 'early_end');
    t.ok(result.durationMs < 25_000, `stopped early (${result.durationMs} ms)`);
  },
);
