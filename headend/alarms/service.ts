/**
 * The thin shell around the pure engine: persists every transition (store.ts), posts webhooks (webhook.ts),
 * fans transitions out to listeners (the HTTP layer's SSE stream and fleet board), ticks the engine once a
 * second, and on start re-adopts the alarms that were active when the headend stopped. Ingest
 * (headend/fleet) calls `service.engine.observe*`; the HTTP API calls `acknowledge`, `repo.list`,
 * `repo.history` and `calendar.calendar`.
 *
 * A failure to persist or notify is logged and counted, never thrown into ingest (STYLE.md guideline 6):
 * the engine's decision stands and the next transition of that alarm rewrites its row.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Logger } from '../log.js';
import { type AlarmEngine, type AlarmEngineDeps, createAlarmEngine } from './engine.js';
import type { AlarmPolicyInput } from './rules.js';
import { type AlarmsRepo, createAlarmsRepo } from './store.js';
import type { AlarmRecord, AlarmTransition, CarrierInfo, OutageWindow } from './types.js';
import {
  createWebhookNotifier,
  type WebhookConfigInput,
  type WebhookNotifier,
  type WebhookStats,
} from './webhook.js';

/** Dependencies of the alarm service. */
export interface AlarmServiceDeps {
  /** The headend database, migrated (migration 005-alarms). */
  db: Database;
  timing: TimingProfile;
  /** Headend time, ms (default `Date.now`). */
  clock?: () => number;
  /** Service → carrier. Called on every lookup, so a closure over the current line-up follows changes. */
  carrierOf: (service: string) => CarrierInfo | undefined;
  sunOutage?: (station: string, fromMs: number, toMs: number) => readonly OutageWindow[];
  receiverNeeded?: AlarmEngineDeps['receiverNeeded'];
  policy?: AlarmPolicyInput;
  webhooks?: readonly WebhookConfigInput[];
  /** HTTP client for webhooks (default: global fetch). */
  fetch?: typeof fetch;
  logger?: Pick<Logger, 'warn' | 'info' | 'debug' | 'error'>;
  /** Records acknowledgements in the audit log (DESIGN.md §7: every control action). */
  audit?: (e: { actor: string; action: string; target?: string; details?: Record<string, unknown> }) => void;
  /**
   * Stored per-minute margins for rebuilding trends after a restart (engine `marginHistory`); default: the
   * headend's `telemetry_minutes` rows in `db` (headend/fleet/telemetry.ts).
   */
  marginHistory?: AlarmEngineDeps['marginHistory'];
  /** Tick period of `start()` (default 1000 ms). */
  tickMs?: number;
}

/** The alarm service. */
export interface AlarmService {
  readonly engine: AlarmEngine;
  readonly repo: AlarmsRepo;
  /** Subscribes to transitions (after they are stored); returns the unsubscribe function. */
  onTransition(listener: (t: AlarmTransition) => void): () => void;
  /** Acknowledges an active alarm as `by` (audited); throws `AlarmError` like the engine. */
  acknowledge(id: string, by: string): AlarmRecord;
  /** Starts the tick timer (idempotent). */
  start(): void;
  /** Stops ticking and webhook deliveries. */
  close(): void;
  /** Resolves when queued webhooks are delivered or given up. */
  webhooksIdle(): Promise<void>;
  stats(): { persistFailures: number; listenerFailures: number; webhooks: WebhookStats[] };
}

/** Builds the service; nothing runs until `start()` except restoring active alarms. */
export function createAlarmService(deps: AlarmServiceDeps): AlarmService {
  const repo = createAlarmsRepo(deps.db);
  const listeners = new Set<(t: AlarmTransition) => void>();
  const counters = { persistFailures: 0, listenerFailures: 0 };
  const webhooks: WebhookNotifier = createWebhookNotifier({
    hooks: deps.webhooks ?? [],
    timing: deps.timing,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const clock = deps.clock ?? Date.now;

  function onTransition(t: AlarmTransition): void {
    try {
      repo.record(t);
    } catch (err) {
      counters.persistFailures += 1;
      deps.logger?.error({ err, alarmId: t.alarm.id, type: t.type }, 'alarm transition not stored');
    }
    webhooks.notify(t);
    for (const l of listeners) {
      try {
        l(t);
      } catch (err) {
        counters.listenerFailures += 1;
        deps.logger?.warn({ err, alarmId: t.alarm.id }, 'alarm listener failed');
      }
    }
  }

  const engine = createAlarmEngine({
    timing: deps.timing,
    clock,
    carrierOf: (s) => deps.carrierOf(s),
    ...(deps.sunOutage ? { sunOutage: deps.sunOutage } : {}),
    ...(deps.receiverNeeded ? { receiverNeeded: deps.receiverNeeded } : {}),
    ...(deps.policy ? { policy: deps.policy } : {}),
    marginHistory: deps.marginHistory ?? storedMarginHistory(deps.db, deps.logger),
    onTransition,
  });
  engine.restore(repo.active());

  let timer: NodeJS.Timeout | null = null;
  return {
    engine,
    repo,
    onTransition(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    acknowledge(id, by) {
      const a = engine.acknowledge(id, by);
      deps.audit?.({
        actor: by,
        action: 'alarm.acknowledge',
        target: a.station ?? `carrier:${a.carrier ?? ''}`,
        details: { alarmId: id, kind: a.kind },
      });
      return a;
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        try {
          engine.tick(clock());
        } catch (err) {
          deps.logger?.error({ err }, 'alarm tick failed');
        }
      }, deps.tickMs ?? 1000);
      timer.unref();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      webhooks.close();
    },
    webhooksIdle: () => webhooks.idle(),
    stats: () => ({ ...counters, webhooks: webhooks.stats() }),
  };
}

/**
 * Per-minute average margins of one receiver from `telemetry_minutes`. A database without the table (or a
 * failing read) gives no history: the trend then starts empty, as before a restart-proof trend existed.
 */
function storedMarginHistory(
  db: Database,
  logger: AlarmServiceDeps['logger'],
): NonNullable<AlarmEngineDeps['marginHistory']> {
  let warned = false;
  let stmt: Statement<[string, string, number, number]> | null = null;
  return (station, receiver, fromMs, toMs) => {
    try {
      stmt ??= db.prepare<[string, string, number, number]>(
        `SELECT minute_ms AS at, avg AS marginDb FROM telemetry_minutes
          WHERE station_id = ? AND subject = ? AND metric = 'marginDb' AND minute_ms >= ? AND minute_ms < ?
          ORDER BY minute_ms`,
      );
      return stmt.all(station, receiver, fromMs, toMs) as { at: number; marginDb: number }[];
    } catch (err) {
      if (!warned) logger?.warn({ err }, 'margin history unreadable: trends start empty');
      warned = true;
      return [];
    }
  };
}
