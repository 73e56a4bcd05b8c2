/**
 * The station's stream detectors (issue 8; DOMAIN.md §6 "Scrambled service", "Service/PID reshuffle",
 * "Black/silent programme with good RF"), wired from the agent's parts: the receiver watch
 * (service-watch.ts) and the content check of running recordings (content-check.ts), both raising station
 * alarms through one `AlarmSlots`. While `scrambled` or `service_missing` is raised on a receiver, every
 * recording on it gets a note, so its manifest says so instead of recording garbage silently.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import type { OccurrenceRun } from '../executor/occurrence-machine.js';
import type { Clock } from '../link/clock.js';
import type { SpawnFn } from '../recorder/spawn.js';
import type { StationStore } from '../store/db.js';
import { type AlarmSink, AlarmSlots } from './alarm-slots.js';
import { type CheckedRecording, ContentCheck } from './content-check.js';
import { ServiceWatch, type WatchedReceiver } from './service-watch.js';

export interface StreamDetectorDeps {
  alarms: AlarmSink;
  receivers: () => Iterable<WatchedReceiver>;
  /** The executor's occurrences holding a receiver now (`executor.active()`). */
  active: () => readonly OccurrenceRun[];
  /** The default receiver of an occurrence without one (single-receiver stations). */
  defaultReceiverId: string;
  /** DVB service id of a line-up key. */
  serviceIdOf: (service: string) => number | null;
  store: Pick<StationStore, 'recordings'>;
  recordingsRoot: string;
  timing: TimingProfile;
  clock: Clock;
  now: () => number;
  spawn: SpawnFn;
  ffmpegPath?: string;
  logger: Logger;
}

export interface StreamDetectors {
  start(): void;
  stop(): void;
  /** The service watch and content check (tests drive them directly). */
  readonly watch: ServiceWatch;
  readonly content: ContentCheck;
}

export function streamDetectors(deps: StreamDetectorDeps): StreamDetectors {
  const slots = new AlarmSlots(deps.alarms);
  const log = deps.logger.child({ module: 'device/detect' });
  const receiverOf = (r: OccurrenceRun) => r.occ?.receiverId ?? deps.defaultReceiverId;
  const noteRecordings = (receiverId: string, issue: string) => {
    for (const r of deps.active()) if (r.recording && receiverOf(r) === receiverId) r.recording.note?.(issue);
  };
  const byId = () => new Map([...deps.receivers()].map((r) => [r.id, r]));
  const watch = new ServiceWatch({
    receivers: deps.receivers,
    serviceIdOf: deps.serviceIdOf,
    slots,
    clock: deps.clock,
    now: deps.now,
    timing: deps.timing,
    logger: log,
    onActive: (kind, rx, message) => noteRecordings(rx, `${kind}: ${message}`),
  });
  const recordings = (): CheckedRecording[] =>
    deps.active().flatMap((r) => {
      const run = r.recording;
      if (!run) return [];
      return [
        {
          key: r.key,
          receiverId: receiverOf(r),
          service: r.occ?.service ?? 'unknown',
          bitrateBps: () => run.figures().bitrateBps,
          segmentFile: () => {
            const rec = deps.store.recordings.byOccurrence(r.entryId, r.nominalStart);
            if (!rec) return null;
            const seg = deps.store.recordings
              .segments(rec.id)
              .filter((s) => s.state === 'writing')
              .at(-1);
            return seg ? path.join(deps.recordingsRoot, seg.file) : null;
          },
        },
      ];
    });
  const content = new ContentCheck({
    recordings,
    receiver: (id) => {
      const s = byId().get(id)?.lastStatus;
      return s ? { locked: s.locked, marginDb: s.marginDb } : null;
    },
    slots,
    clock: deps.clock,
    now: deps.now,
    timing: deps.timing,
    spawn: deps.spawn,
    ...(deps.ffmpegPath ? { ffmpegPath: deps.ffmpegPath } : {}),
    logger: log,
    onScrambled: (rx, message) => noteRecordings(rx, `scrambled: ${message}`),
  });
  return {
    watch,
    content,
    start() {
      watch.start();
      content.start();
    },
    stop() {
      watch.stop();
      content.stop();
    },
  };
}
