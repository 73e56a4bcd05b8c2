/**
 * The alarm service (headend/alarms, DESIGN.md §7) wired into the running headend: what the fleet modules
 * observe is fed to the engine, and the engine's alarms — with cause, evidence, holds, fleet correlation and
 * sun-outage suppression — are what the fleet board, the live stream, the alarm pages and `/metrics` show.
 *
 * Feeds (each a function call on a port the module already has; nothing here parses MQTT):
 * - telemetry: every accepted sample (control plane `onTelemetry`) → `observeTelemetry`;
 * - presence: connection changes → `observePresence` (offline after the grace, lock losses of a station
 *   that disconnected are not "current");
 * - the fleet alarm board (presence's offline alarm, the tracker's unknown version, ingest's event conflict,
 *   the stations' own `alarm.raised`/`alarm.cleared`) → relayed (headend/alarms/board-relay.ts);
 * - events: `recording.manifest` → `observeRecording`; `schedule.applied` → a schedule check now;
 * - schedule: desired vs applied from the tracker, every station every few seconds → `observeSchedule`;
 * - clock: the headend's own minimum-RTT exchange with each station (mqtt/rpc-client.ts) → `observeClock`;
 * - credentials rejected by the embedded broker → `observeCredentialsRejected`.
 */
import type { Logger } from 'pino';
import type { Telemetry } from '../protocol/messages/telemetry.js';
import type { TimingProfile } from '../protocol/timing.js';
import { relayToEngine } from './alarms/board-relay.js';
import { type CarrierLookup, carrierLookupFromLineup } from './alarms/carriers.js';
import type { AlarmPolicyInput } from './alarms/rules.js';
import { type AlarmService, createAlarmService } from './alarms/service.js';
import { createSunOutageCalendar, type SunOutageCalendar } from './alarms/sun-calendar.js';
import type { AlarmRecord, AlarmTransition } from './alarms/types.js';
import type { WebhookConfigInput } from './alarms/webhook.js';
import type { EmbeddedBroker } from './broker/embedded.js';
import { DEFAULT_DISH_M, SATELLITE_LON_DEG } from './conferences/sun-warnings.js';
import type { AlarmBoard, AlarmSink, FleetAlarm } from './fleet/alarm-board.js';
import type { ControlPlane } from './mqtt/control-plane.js';
import type { Store } from './store/index.js';

/** C-band downlink frequency the sun-outage calendar uses (DOMAIN.md §2: "1.8 m dish at 4 GHz"). */
const CALENDAR_FREQUENCY_MHZ = 4000;
/** Every station's schedule is compared with what it applied at least this often. */
const SCHEDULE_CHECK_MS = 5000;
const TICK_MS = 1000;

export interface AlarmWiringDeps {
  store: Store;
  timing: TimingProfile;
  logger: Logger;
  policy?: AlarmPolicyInput;
  webhooks?: readonly WebhookConfigInput[];
  /** The sun-outage calendar (default: from each station's coordinates and dish, satellite 115.5°E). */
  calendar?: SunOutageCalendar;
  clock?: () => number;
  fetch?: typeof fetch;
}

/** The fleet board's view of the engine's alarms (the HTTP layer's `FleetPort.alarms`). */
export type AlarmView = Pick<AlarmBoard, 'list' | 'subscribe'>;

export interface AlarmWiring {
  readonly service: AlarmService;
  readonly calendar: SunOutageCalendar;
  /** Engine alarms in the board's shape, for the fleet board, the station page and SSE. */
  readonly view: AlarmView;
  /** For the control plane: one accepted telemetry sample. */
  onTelemetry(stationId: string, t: Telemetry): void;
  /** Subscribes to the running control plane (and the embedded broker) and starts the service. */
  attach(parts: { controlPlane: ControlPlane; broker: EmbeddedBroker | null }): void;
  close(): void;
}

/** A station alarm in the fleet board's shape. */
export function boardAlarmOf(a: AlarmRecord, action: FleetAlarm['action']): FleetAlarm {
  return {
    action,
    kind: a.kind,
    stationId: a.station ?? '',
    subject: a.subject,
    severity: a.severity,
    message: a.evidence.text,
    evidence: {
      ...a.evidence.facts,
      alarmId: a.id,
      cause: a.cause.text,
      ackedBy: a.ackedBy,
      ...(a.linkedTo ? { linkedTo: a.linkedTo } : {}),
    },
    at: new Date(a.clearedAt ?? a.raisedAt).toISOString(),
    fromStation: typeof a.evidence.facts.stationAlarmId === 'string',
  };
}

export function createAlarmWiring(deps: AlarmWiringDeps): AlarmWiring {
  const { store, logger } = deps;
  let lineupVersion = -1;
  let carriers: CarrierLookup = () => undefined;
  const carrierOf: CarrierLookup = (service) => {
    // Rebuilt when the line-up changes: a new transponder moves a service to another carrier.
    const v = store.lineup.version();
    if (v !== lineupVersion) {
      lineupVersion = v;
      carriers = carrierLookupFromLineup(store.lineup.snapshot());
    }
    return carriers(service);
  };
  const calendar =
    deps.calendar ??
    createSunOutageCalendar((id) => {
      const s = store.stations.get(id);
      if (!s || s.lat === null || s.lon === null) return undefined;
      return {
        site: { latDeg: s.lat, lonDeg: s.lon },
        dish: { diameterM: s.dishM ?? DEFAULT_DISH_M, frequencyMHz: CALENDAR_FREQUENCY_MHZ },
        satelliteLonDeg: SATELLITE_LON_DEG,
      };
    });
  const service = createAlarmService({
    db: store.db,
    timing: deps.timing,
    carrierOf,
    sunOutage: (station, fromMs, toMs) => calendar.windows(station, fromMs, toMs),
    ...(deps.policy ? { policy: deps.policy } : {}),
    ...(deps.webhooks ? { webhooks: deps.webhooks } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    logger: logger.child({ module: 'headend/alarms' }),
    audit: (e) => store.audit.record(e),
  });
  const engine = service.engine;

  const sinks = new Set<AlarmSink>();
  service.onTransition((t: AlarmTransition) => {
    // A station alarm folded into a fleet alarm leaves the station's row. A fleet alarm is no station's: it
    // goes out with `stationId: ''` (the live stream sends it to every board, which shows it as a banner).
    const gone = t.type === 'cleared' || t.type === 'linked';
    const a = boardAlarmOf(t.alarm, gone ? 'clear' : 'raise');
    if (t.alarm.scope !== 'station') a.stationId = '';
    for (const s of sinks) s(a);
  });
  const view: AlarmView = {
    list: (stationId) =>
      engine
        .active(stationId === undefined ? {} : { station: stationId })
        .filter((a) => a.scope === 'station' && a.linkedTo === null)
        .map((a) => boardAlarmOf(a, 'raise')),
    subscribe(sink) {
      sinks.add(sink);
      return () => sinks.delete(sink);
    },
  };

  const offs: (() => void)[] = [];
  let timer: NodeJS.Timeout | null = null;
  return {
    service,
    calendar,
    view,
    onTelemetry(stationId, t) {
      try {
        engine.observeTelemetry(stationId, t);
      } catch (err) {
        logger.warn(
          { event: 'alarm-telemetry-failed', stationId, err: (err as Error).message },
          'alarm rule failed',
        );
      }
    },
    attach({ controlPlane: cp, broker }) {
      const guard = (what: string, fn: () => void) => {
        try {
          fn();
        } catch (err) {
          logger.warn(
            { event: 'alarm-feed-failed', what, err: (err as Error).message },
            `alarm feed (${what}) failed`,
          );
        }
      };
      offs.push(cp.alarms.subscribe(relayToEngine(engine)));
      // What the engine last heard per station: presence also "changes" while a station stays online (a
      // new birth after every applied document, 5 000 at once in a fleet-wide push, DESIGN.md §8), and the
      // presence rule only depends on the connection and the store — the same observation again would only
      // rebuild the offline report and re-evaluate the station's alarms to no effect.
      const told = new Map<string, string>();
      const presence = (stationId: string) => {
        const p = cp.presence.get(stationId);
        if (!p || p.connection === 'unknown') return;
        const said = `${p.connection}|${p.storeId ?? ''}`;
        if (told.get(stationId) === said) return;
        engine.observePresence(stationId, {
          online: p.connection === 'online',
          ...(p.storeId ? { storeId: p.storeId } : {}),
        });
        told.set(stationId, said);
      };
      for (const p of cp.presence.list()) guard('presence', () => presence(p.stationId));
      offs.push(cp.presence.onChange((p) => guard('presence', () => presence(p.stationId))));

      const schedule = (stationId: string) => {
        const st = cp.tracker.status(stationId);
        const rej = st.rejected;
        engine.observeSchedule(stationId, {
          desired: st.desired?.version ?? null,
          applied: st.applied?.version ?? null,
          appliedHash: st.applied?.hash ?? null,
          issued: !st.unknownVersion,
          rejection: rej
            ? { ...(rej.version ? { version: rej.version } : {}), code: rej.code, reason: rej.reason }
            : null,
          desiredIssuedAt: st.desired ? Date.parse(st.desired.issuedAt) : null,
        });
      };
      offs.push(
        cp.ingest.onApplied((stationId, e) => {
          if (e.type === 'recording.manifest') {
            guard('recording', () =>
              engine.observeRecording(stationId, {
                recordingId: e.recordingId,
                entryId: e.entryId,
                nominalStart: e.nominalStart,
                outcome: e.outcome,
                quality: e.quality,
                reason: e.reason,
                service: e.service,
                durationMs: e.durationMs,
                gapsMs: e.gapsMs,
                segments: e.segments,
              }),
            );
          } else if (e.type === 'schedule.applied' || e.type === 'schedule.rejected') {
            guard('schedule', () => schedule(stationId));
          }
        }),
      );
      if (broker) {
        offs.push(
          broker.onRejected((r) =>
            guard('credentials', () =>
              engine.observeCredentialsRejected({
                username: r.username,
                clientId: r.clientId,
                reason: r.reason,
              }),
            ),
          ),
        );
      }

      // Schedule and clock: polled, a slice of the stations per tick (cheap at 10 000 stations too).
      const clockSeen = new Map<string, string>();
      let cursor = 0;
      timer = setInterval(() => {
        const online = cp.presence.list().filter((p) => p.connection === 'online');
        const slice = Math.max(1, Math.ceil((online.length * TICK_MS) / SCHEDULE_CHECK_MS));
        for (let i = 0; i < slice && online.length > 0; i++) {
          const p = online[(cursor + i) % online.length];
          if (p) guard('schedule', () => schedule(p.stationId));
        }
        cursor = online.length === 0 ? 0 : (cursor + slice) % online.length;
        for (const p of online) {
          const c = cp.rpc.clockOf(p.stationId);
          if (!c || clockSeen.get(p.stationId) === c.measuredAt) continue;
          clockSeen.set(p.stationId, c.measuredAt);
          guard('clock', () =>
            // The headend's own measurement; the station's `trusted` in its birth predates its first exchange.
            engine.observeClock(p.stationId, { offsetMs: c.offsetMs, rttMs: c.rttMs }),
          );
        }
      }, TICK_MS);
      timer.unref();
      service.start();
    },
    close() {
      for (const off of offs.splice(0)) off();
      if (timer) clearInterval(timer);
      timer = null;
      service.close();
    },
  };
}
