/**
 * Housekeeping of the headend database at an admin-set time (DESIGN.md §3: node-cron "for … retention
 * sweeps, roll-ups"; issue 8: telemetry "downsampled … with retention"): per-minute telemetry older than
 * `telemetryDays`, cleared alarms (with their history) older than `alarmDays`, and the audit rows of
 * read-only diagnostics calls older than `diagnosticsAuditDays` (remedies and every other control action
 * stay in the audit log). Deletes run in chunks with a turn of the event loop between them, so a large
 * first run never holds SQLite (and with it the embedded broker) for long (DESIGN.md §7: ≤ ~20 ms).
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Store } from './store/index.js';

const DAY_MS = 86_400_000;
/** Rows per DELETE: a few ms each on the station-box class of disk. */
const CHUNK = 2000;

export interface HousekeepingOptions {
  /** Cron expression (node-cron, 5 or 6 fields), evaluated in `timeZone`. */
  cron: string;
  timeZone: string;
  telemetryDays: number;
  alarmDays: number;
  diagnosticsAuditDays: number;
}

export interface HousekeepingDeps extends HousekeepingOptions {
  store: Store;
  logger: Logger;
  now?: () => Date;
}

/** What one run deleted. */
export interface HousekeepingReport {
  at: string;
  telemetryRows: number;
  alarms: number;
  auditRows: number;
  tookMs: number;
}

export interface Housekeeping {
  /** Runs the job now (also what the schedule runs). */
  runNow(): Promise<HousekeepingReport>;
  /** The next scheduled run. */
  nextRun(): Date | null;
  lastReport(): HousekeepingReport | null;
  stop(): void;
}

/** A bad cron expression, named with node-cron's own field errors. */
export class HousekeepingError extends Error {
  override readonly name = 'HousekeepingError';
}

const tick = () => new Promise<void>((r) => setImmediate(r));

async function chunked(run: () => number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = run();
    total += n;
    if (n < CHUNK) return total;
    await tick();
  }
}

export function startHousekeeping(deps: HousekeepingDeps): Housekeeping {
  const v = cron.validateDetailed(deps.cron);
  if (!v.valid)
    throw new HousekeepingError(
      `housekeeping.retentionCron ${JSON.stringify(deps.cron)}: ${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  const now = deps.now ?? (() => new Date());
  const { db } = deps.store;
  const delTelemetry = db.prepare(
    `DELETE FROM telemetry_minutes WHERE (station_id, minute_ms, subject, metric) IN
       (SELECT station_id, minute_ms, subject, metric FROM telemetry_minutes WHERE minute_ms < ? LIMIT ${CHUNK})`,
  );
  // History rows go with their alarm (ON DELETE CASCADE). A fleet alarm still referenced by a kept station alarm stays (linked_to is a foreign key).
  const delAlarms = db.prepare(
    `DELETE FROM alarms WHERE id IN (SELECT a.id FROM alarms a WHERE a.cleared_at IS NOT NULL AND a.cleared_at < ?
       AND NOT EXISTS (SELECT 1 FROM alarms b WHERE b.linked_to = a.id) LIMIT ${CHUNK})`,
  );
  const delAudit = db.prepare(
    `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? AND action LIKE 'rpc.%'
       AND json_valid(details_json) AND json_extract(details_json, '$.sideEffects') = 0 LIMIT ${CHUNK})`,
  );
  let last: HousekeepingReport | null = null;
  let running: Promise<HousekeepingReport> | null = null;

  const runOnce = async (): Promise<HousekeepingReport> => {
    const t0 = performance.now();
    const nowMs = now().getTime();
    const iso = (days: number) => new Date(nowMs - days * DAY_MS).toISOString();
    const telemetryRows = await chunked(() => delTelemetry.run(nowMs - deps.telemetryDays * DAY_MS).changes);
    const alarmCutoff = iso(deps.alarmDays);
    const alarms = await chunked(() => delAlarms.run(alarmCutoff).changes);
    const auditRows = await chunked(() => delAudit.run(iso(deps.diagnosticsAuditDays)).changes);
    const report = {
      at: new Date(nowMs).toISOString(),
      telemetryRows,
      alarms,
      auditRows,
      tookMs: Math.round(performance.now() - t0),
    };
    last = report;
    deps.logger.info({ event: 'housekeeping', ...report }, 'housekeeping done');
    return report;
  };
  const runNow = () => {
    running ??= runOnce().finally(() => {
      running = null;
    });
    return running;
  };

  const task: ScheduledTask = cron.schedule(
    deps.cron,
    async () => {
      try {
        await runNow();
      } catch (err) {
        deps.logger.error(
          { event: 'housekeeping-failed', err: (err as Error).message },
          'housekeeping failed',
        );
      }
    },
    { timezone: deps.timeZone, name: 'ruralsat-housekeeping', noOverlap: true, unref: true },
  );
  return {
    runNow,
    nextRun: () => task.getNextRun(),
    lastReport: () => last,
    stop: () => {
      void task.destroy();
    },
  };
}
