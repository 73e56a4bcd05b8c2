/**
 * The headend's control plane: its MQTT connection and everything that talks through it — the publisher
 * (outbox and retained documents), scheduling, presence, event and telemetry ingest — built from one deps
 * object (STYLE.md guideline 5) and started by headend/main.ts. Inbound station messages are routed here:
 * `state` → presence, `events` → ingest, `telemetry` → telemetry, `rpc/res` → the RPC client (which also runs
 * the clock exchange). Every payload is decoded with the protocol's zod schemas by the module that owns it.
 */
import type { Logger } from 'pino';
import type { Telemetry } from '../../protocol/messages/telemetry.js';
import type { TimingProfile } from '../../protocol/timing.js';
import { type Conferences, createConferenceService } from '../conferences/index.js';
import { type AlarmBoard, createAlarmBoard } from '../fleet/alarm-board.js';
import { createEventIngest, type EventIngest } from '../fleet/ingest.js';
import { createPresence, type Presence } from '../fleet/presence.js';
import { createScheduleTracker, type ScheduleTracker } from '../fleet/schedule-status.js';
import { createTelemetryIngest, type TelemetryIngest } from '../fleet/telemetry.js';
import { createWriteBatch } from '../fleet/write-batch.js';
import { changedGuideDays } from '../guide/guide-days.js';
import type { ImportReport } from '../guide/import-report.js';
import { createScheduling, type Scheduling } from '../scheduling/entries.js';
import { createPreview, type Preview } from '../scheduling/preview.js';
import { createPublisher, type Publisher } from '../scheduling/publisher.js';
import type { Store } from '../store/index.js';
import type { IssuedDoc } from '../store/schedules.js';
import { HeadendMqtt, type MqttConnect } from './client.js';
import { createRpcClient, type RpcClient } from './rpc-client.js';

/** How often ended entries are pruned from the documents and old rows deleted. */
const HOUSEKEEPING_MS = 3_600_000;
/** Telemetry minute rows and station state history are kept this long. */
const RETENTION_MS = 180 * 86_400_000;

/** Delay of the first clock exchange after a birth (the station subscribes right after it). */
const CLOCK_AFTER_BIRTH_MS = 500;

export interface ControlPlaneDeps {
  store: Store;
  logger: Logger;
  timing: TimingProfile;
  /** Broker URL and the headend's own credentials (embedded broker's internal user, or the external one's). */
  broker: {
    url: string;
    username: string;
    password: string;
    tls?: { ca?: Buffer; rejectUnauthorized?: boolean };
  };
  topicRoot: string;
  /** The prefecture's time zone (DOMAIN.md §1). */
  timeZone: string;
  /** Headend software version (shown in `headend/state`). */
  version: string;
  now?: () => Date;
  connect?: MqttConnect;
  /** Each accepted telemetry sample, decoded (the alarm engine's feed, headend/alarm-wiring.ts). */
  onTelemetry?: (stationId: string, t: Telemetry) => void;
}

/** What the rest of the headend (HTTP API, CLI, tests) uses. */
export interface ControlPlane {
  readonly mqtt: HeadendMqtt;
  readonly publisher: Publisher;
  readonly scheduling: Scheduling;
  readonly preview: Preview;
  readonly presence: Presence;
  readonly tracker: ScheduleTracker;
  readonly ingest: EventIngest;
  readonly telemetry: TelemetryIngest;
  readonly alarms: AlarmBoard;
  /** Diagnostics RPC to stations, and the periodic clock exchange. */
  readonly rpc: RpcClient;
  /** Video conferences and their live attendance (headend/conferences). */
  readonly conferences: Conferences;
  /** After an XMLTV import: republish the changed guide days and re-resolve guide-linked entries. */
  guideImported(report: ImportReport): void;
  /** After a line-up change: publish it and recompile every station (tuning lives in the documents). */
  lineupChanged(): void;
  /** After stations were added, moved or changed receivers: re-resolve group targets and recompile them. */
  stationsChanged(actor: string, stationIds?: readonly string[]): void;
  start(): void;
  /** Resolves true once connected to the broker (false after `timeoutMs`). */
  waitUntilUp(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
  /** For `/healthz`. */
  health(): { ok: boolean; [k: string]: unknown };
}

export function createControlPlane(deps: ControlPlaneDeps): ControlPlane {
  const { store, logger, timing } = deps;
  const child = (module: string) => logger.child({ module });
  const now = deps.now ?? (() => new Date());
  const mqtt = new HeadendMqtt({
    url: deps.broker.url,
    username: deps.broker.username,
    password: deps.broker.password,
    topicRoot: deps.topicRoot,
    timing,
    logger: child('headend/mqtt'),
    version: deps.version,
    epoch: () => store.meta.scheduleEpoch(),
    now,
    ...(deps.broker.tls ? { tls: deps.broker.tls } : {}),
    ...(deps.connect ? { connect: deps.connect } : {}),
  });
  const alarms = createAlarmBoard({ logger: child('headend/fleet/alarms'), now });
  // Bookkeeping rows of a fan-out burst (published flags, state history) share one commit per window.
  const writes = createWriteBatch(store, child('headend/bookkeeping'), 'bookkeeping', { windowMs: 100 });
  let presence: Presence | null = null;
  const rpc = createRpcClient({
    transport: mqtt,
    topics: mqtt.topics,
    presenceOf: (id) => presence?.get(id),
    timing,
    logger: child('headend/rpc'),
    now,
  });
  const publisher = createPublisher({
    store,
    transport: mqtt,
    topics: mqtt.topics,
    logger: child('headend/publisher'),
    timing,
    timeZone: deps.timeZone,
    now,
    currentStoreOf: (id) => presence?.get(id)?.storeId ?? undefined,
    writes,
  });
  const tracker = createScheduleTracker({ store, alarms, now });
  presence = createPresence({
    store,
    timing,
    alarms,
    writes,
    logger: child('headend/fleet/presence'),
    now,
    onBirth(stationId, birth, newConnection) {
      if (newConnection && !store.schedules.latest(stationId)) {
        // Provisioned while the headend ran (the CLI writes the registry directly): its first document now,
        // with every county / group / fleet entry that covers it.
        scheduling.refreshTargets('headend');
        scheduling.recompile([stationId], { reason: 'first connection' });
      }
      if (newConnection) {
        // Its store's ack (a new store starts at 0), and its clock: measured soon, then again to hand the
        // first estimate back (DESIGN.md §6 Clock) — not at once, the station subscribes after its birth.
        publisher.publishAck(stationId);
        const timer = setTimeout(() => {
          void rpc
            .exchangeClock(stationId)
            .then((e) => (e && e.samples === 1 ? rpc.exchangeClock(stationId) : null))
            .catch(() => undefined);
        }, CLOCK_AFTER_BIRTH_MS);
        timer.unref();
      }
      const s = birth.schedule;
      if (s === null) tracker.reportState(stationId, null, null);
      else if ('rejected' in s) {
        const r = s.rejected;
        tracker.reportState(stationId, s.applied ?? null, {
          version: r.version ?? null,
          code: r.code,
          reason: r.reason,
          at: r.at,
        });
      } else tracker.reportState(stationId, s, null);
    },
  });
  const telemetry = createTelemetryIngest({ store, logger: child('headend/fleet/telemetry'), now });
  const ingest = createEventIngest({
    store,
    logger: child('headend/fleet/ingest'),
    alarms,
    tracker,
    telemetry,
    publishAck: (id) => publisher.publishAck(id),
    now,
  });
  const scheduling = createScheduling({
    store,
    timing,
    timeZone: deps.timeZone,
    logger: child('headend/scheduling'),
    now,
    onIssued: (issued, docs) =>
      kick(
        issued.map((i) => i.stationId),
        docs,
      ),
  });
  const preview = createPreview({ store, scheduling, timeZone: deps.timeZone, now });
  /** New documents committed: publish them. */
  function kick(ids: readonly string[], docs?: readonly IssuedDoc[]): void {
    publisher.kickSchedules(ids, docs);
  }
  const p = presence;
  const conferences = createConferenceService({
    store,
    scheduling,
    publish: (ids, docs) => kick(ids, docs),
    fleet: { presence: p, tracker, telemetry, alarms, ingest },
    timing,
    timeZone: deps.timeZone,
    logger: child('headend/conferences'),
    now,
  });

  mqtt.onInbound((kind, stationId, payload) => {
    switch (kind) {
      case 'state':
        p.handle(stationId, payload);
        return;
      case 'events':
        ingest.handle(stationId, payload);
        return;
      case 'telemetry': {
        const latest = telemetry.handle(stationId, payload) ? telemetry.latest(stationId) : undefined;
        if (latest) deps.onTelemetry?.(stationId, latest.telemetry);
        return;
      }
      case 'rpc-res':
        rpc.handleResponse(stationId, payload);
        return;
    }
  });
  mqtt.on('up', () => {
    p.setBrokerUp(true);
    publisher.onConnected();
  });
  mqtt.on('down', () => {
    p.setBrokerUp(false);
    rpc.failPending('the headend lost its broker connection');
  });

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void, what: string) => {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        logger.error({ event: 'background-failed', what, err: (err as Error).message }, `${what} failed`);
      }
    }, ms);
    t.unref();
    timers.push(t);
  };

  return {
    mqtt,
    publisher,
    scheduling,
    preview,
    presence: p,
    tracker,
    ingest,
    telemetry,
    alarms,
    rpc,
    conferences,
    guideImported(report) {
      publisher.publishGuideDays(changedGuideDays(report));
      scheduling.onGuideChanged();
    },
    lineupChanged() {
      publisher.publishLineup();
      scheduling.recompile(undefined, { reason: 'line-up changed' });
    },
    stationsChanged(actor, stationIds) {
      scheduling.refreshTargets(actor);
      scheduling.recompile(stationIds, { reason: 'stations changed' });
    },
    start() {
      p.load();
      // Documents for stations that have none, are of an older epoch (after a restore) or went stale while
      // the headend was down; they wait in the outbox until the broker connection is up.
      scheduling.recompile(undefined, { reason: 'start' });
      every(
        Math.max(100, Math.min(1000, Math.floor(timing.offlineGraceMs / 4))),
        () => p.tick(),
        'presence tick',
      );
      every(15_000, () => telemetry.flush(), 'telemetry flush');
      every(
        HOUSEKEEPING_MS,
        () => {
          // Entries that ended leave the documents; old minute rows and state history go (retention).
          scheduling.recompile(undefined, { reason: 'housekeeping' });
          const cutoff = now().getTime() - RETENTION_MS;
          telemetry.prune(cutoff);
          store.stateHistory.prune(new Date(cutoff).toISOString());
        },
        'housekeeping',
      );
      rpc.startClockExchanges(() =>
        p
          .list()
          .filter((x) => x.connection === 'online')
          .map((x) => x.stationId),
      );
      // A station that comes online exchanges clocks at once: a freshly started agent waits for a trusted
      // clock before it recovers and executes (DESIGN.md §6), and the periodic exchange may be
      // `clockExchangeMs` (5 min) away. Two exchanges: the station learns the headend's estimate of its
      // offset in the request after the one that measured it. A failed attempt is retried once, 5 s later.
      const online = new Set<string>();
      const greet = async (id: string, retry: boolean): Promise<void> => {
        const first = await rpc.exchangeClock(id);
        if (!online.has(id)) return;
        if (first !== null) await rpc.exchangeClock(id);
        else if (retry) setTimeout(() => void greet(id, false), 5000).unref();
      };
      p.onChange((x) => {
        if (x.connection !== 'online') {
          online.delete(x.stationId);
          // Calls waiting on a station that just went away cannot be answered: fail them now, not at the ttl.
          if (x.connection === 'disconnected')
            rpc.failStation(x.stationId, `${x.stationId} is disconnected since ${x.since}`);
          return;
        }
        if (online.has(x.stationId)) return;
        online.add(x.stationId);
        void greet(x.stationId, true);
      });
      mqtt.start();
      conferences.start();
    },
    waitUntilUp(timeoutMs) {
      if (mqtt.connected) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          mqtt.off('up', onUp);
          resolve(false);
        }, timeoutMs);
        const onUp = () => {
          clearTimeout(timer);
          resolve(true);
        };
        mqtt.once('up', onUp);
      });
    },
    async stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      conferences.stop();
      rpc.stop();
      try {
        ingest.flush();
        telemetry.flush(true);
        p.flush();
      } catch (err) {
        logger.error({ event: 'stop-flush-failed', err: (err as Error).message }, 'final flush failed');
      }
      await mqtt.stop();
      publisher.close();
    },
    health() {
      const q = publisher.stats();
      return {
        ok: mqtt.connected,
        connected: mqtt.connected,
        publishPending: q.pending + q.inFlight,
        queueFailures: q.failures,
        lastPublishError: q.lastError,
        ...mqtt.stats,
        events: ingest.stats(),
        telemetry: telemetry.stats(),
        activeAlarms: alarms.list().length,
        rpc: rpc.stats(),
      };
    },
  };
}
