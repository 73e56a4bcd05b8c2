/**
 * The conference service over the headend's REAL store and fleet modules (in-memory SQLite, presence,
 * schedule tracker, event and telemetry ingest, alarm board) with a fake clock and no broker: what stations
 * say is fed as the MQTT payloads the headend would receive (births, events, telemetry). For the
 * conference unit tests; the end-to-end tests use the real headend and real agents instead.
 */
import { pino } from 'pino';
import { createConferenceService } from '../../headend/conferences/index.js';
import { createAlarmBoard } from '../../headend/fleet/alarm-board.js';
import { createEventIngest } from '../../headend/fleet/ingest.js';
import { createPresence } from '../../headend/fleet/presence.js';
import { createScheduleTracker } from '../../headend/fleet/schedule-status.js';
import { createTelemetryIngest } from '../../headend/fleet/telemetry.js';
import { createScheduling } from '../../headend/scheduling/entries.js';
import { openStore, type Store } from '../../headend/store/index.js';
import type { ScheduleVersion } from '../../protocol/messages/common.js';
import { PLANNER_VERSION } from '../../protocol/planner/types.js';
import type { ExecutionState } from '../../protocol/registry.js';
import { shortTiming } from '../../protocol/timing.js';
import { LINEUP } from './headend-harness.js';

export const RIG_STATIONS = [
  { id: 'kongtong-anguo', county: 'kongtong', lat: 35.52, lon: 106.62 },
  { id: 'kongtong-baishui', county: 'kongtong', lat: 35.45, lon: 106.8 },
  { id: 'jingning-weirong', county: 'jingning', lat: 35.62, lon: 105.81 },
  { id: 'chongxin-jinping', county: 'chongxin', lat: 35.3, lon: 107.03 },
] as const;

const STORE_ID = 'a1b2c3d4e5f60718';

export interface ConferenceRig {
  store: Store;
  /** The headend's scheduling (operators' recordings are made with it). */
  scheduling: ReturnType<typeof createScheduling>;
  service: ReturnType<typeof createConferenceService>;
  /** Headend clock, ms. */
  now(): number;
  setNow(ms: number): void;
  advance(ms: number): void;
  /** Station ids the service published documents for, in order. */
  published: string[];
  /** The station connects (a birth) reporting the applied version. */
  birth(id: string, applied?: ScheduleVersion | null, receiver?: Partial<RigReceiver>): void;
  /** The station's Will (disconnected). */
  will(id: string): void;
  /** An `occurrence.state` event of the conference occurrence. */
  occurrence(id: string, entryId: string, nominalStart: string, state: ExecutionState, reason?: string): void;
  /** Any station event (storeId, seq and at are added). */
  event(id: string, body: Record<string, unknown>): void;
  /** A `schedule.applied` event. */
  applied(id: string, version: ScheduleVersion): void;
  /** Telemetry with one receiver and optional recorder figures. */
  telemetry(
    id: string,
    receiver: Partial<RigReceiver>,
    recorder?: { entryId: string; nominalStart: string; bitrateBps: number },
  ): void;
  close(): void;
}

export interface RigReceiver {
  link: 'up' | 'down';
  locked: boolean;
  marginDb: number | null;
  cnDb: number | null;
}

export function startConferenceRig(startMs = Date.parse('2026-03-05T00:00:00Z')): ConferenceRig {
  let nowMs = startMs;
  const now = () => new Date(nowMs);
  const logger = pino({ level: 'silent' });
  const store = openStore(':memory:', { now });
  store.lineup.replace(LINEUP);
  for (const s of RIG_STATIONS)
    store.stations.create({ id: s.id, name: s.id, county: s.county, lat: s.lat, lon: s.lon, dishM: 1.8 });
  const alarms = createAlarmBoard({ logger, now });
  const tracker = createScheduleTracker({ store, alarms, now });
  const presence = createPresence({
    store,
    timing: shortTiming,
    alarms,
    logger,
    now,
    onBirth(id, b) {
      const s = b.schedule;
      tracker.reportState(id, s && !('rejected' in s) ? s : null, null);
    },
  });
  presence.setBrokerUp(true);
  const telemetry = createTelemetryIngest({ store, logger, now });
  const ingest = createEventIngest({
    store,
    logger,
    alarms,
    tracker,
    telemetry,
    publishAck: () => undefined,
    now,
  });
  const scheduling = createScheduling({ store, timing: shortTiming, timeZone: 'Asia/Shanghai', logger, now });
  scheduling.recompile(undefined, { reason: 'rig' });
  const published: string[] = [];
  const service = createConferenceService({
    store,
    scheduling,
    publish: (ids) => published.push(...ids),
    fleet: { presence, tracker, telemetry, alarms, ingest },
    timing: shortTiming,
    timeZone: 'Asia/Shanghai',
    logger,
    now,
    // Listeners on, but no recomputation by the wall clock: the tests tick by hand on their fake clock.
    tickMs: 3_600_000,
  });
  service.start();
  const seqs = new Map<string, number>();
  const event = (id: string, body: Record<string, unknown>) => {
    const seq = (seqs.get(id) ?? 0) + 1;
    seqs.set(id, seq);
    ingest.handle(
      id,
      Buffer.from(JSON.stringify({ storeId: STORE_ID, seq, at: now().toISOString(), ...body })),
    );
    ingest.flush();
  };
  const boots = new Map<string, number>();
  const receiverOf = (r: Partial<RigReceiver> = {}) => ({
    id: 'rx1',
    link: r.link ?? 'up',
    locked: r.locked ?? true,
    service: null,
    marginDb: r.marginDb === undefined ? 4.2 : r.marginDb,
    lnb: 'ok' as const,
  });
  return {
    store,
    scheduling,
    service,
    now: () => nowMs,
    setNow: (ms) => {
      nowMs = ms;
    },
    advance: (ms) => {
      nowMs += ms;
    },
    published,
    birth(id, applied = null, receiver) {
      const conn = (boots.get(id) ?? 0) + 1;
      boots.set(id, conn);
      const hash = applied ? (store.schedules.latest(id)?.sha256 ?? '0'.repeat(64)) : null;
      const birth = {
        online: true,
        boot: { n: 1, conn },
        storeId: STORE_ID,
        agentVersion: 'rig',
        protocolRevision: 0,
        plannerVersion: PLANNER_VERSION,
        at: now().toISOString(),
        schedule: applied ? { version: applied, hash, appliedAt: now().toISOString() } : null,
        receivers: [{ ...receiverOf(receiver), family: 'rx8200', sharing: 'service' }],
        clock: { offsetMs: 0, rttMs: 1, trusted: true },
      };
      presence.handle(id, Buffer.from(JSON.stringify(birth)));
    },
    event,
    will(id) {
      presence.handle(
        id,
        Buffer.from(JSON.stringify({ online: false, boot: { n: 1, conn: boots.get(id) ?? 1 } })),
      );
    },
    occurrence(id, entryId, nominalStart, state, reason) {
      event(id, {
        type: 'occurrence.state',
        entryId,
        nominalStart,
        rev: 1,
        state,
        receiverId: 'rx1',
        ...(reason ? { reason } : {}),
      });
    },
    applied(id, version) {
      const hash = store.schedules.latest(id)?.sha256 ?? '0'.repeat(64);
      event(id, { type: 'schedule.applied', version, hash });
    },
    telemetry(id, receiver, recorder) {
      const r = receiverOf(receiver);
      telemetry.handle(
        id,
        Buffer.from(
          JSON.stringify({
            at: now().toISOString(),
            receivers: [{ ...r, level: null, cnDb: receiver.cnDb ?? 11, ber: null }],
            recorders: recorder ? [{ ...recorder, receiverId: 'rx1', bytes: 100_000, ccErrors: 0 }] : [],
            disk: { freeBytes: 1e9, usedBytes: 1e6, quotaBytes: null },
            host: { cpuPct: 3, memUsedBytes: 1e8, memTotalBytes: 1e9 },
          }),
        ),
      );
    },
    close() {
      service.stop();
      store.close();
    },
  };
}
