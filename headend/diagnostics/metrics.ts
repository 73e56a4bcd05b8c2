/**
 * Prometheus metrics at `/metrics` (issue 8; DESIGN.md §7: "Event-loop lag is exported as a metric"):
 * stations online, active alarms by severity, schedule lag, ingest and telemetry rates, RPC and diagnostics
 * calls, webhook deliveries, and Node's own process metrics (event-loop lag, heap, CPU). One registry per
 * headend (no prom-client default registry: no module singletons); gauges are computed when scraped, so
 * nothing ticks between scrapes.
 */
import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { AlarmService } from '../alarms/service.js';
import type { ControlPlane } from '../mqtt/control-plane.js';
import type { Store } from '../store/index.js';
import type { Diagnostics } from './service.js';

export interface MetricsDeps {
  store: Store;
  controlPlane: ControlPlane;
  alarms: AlarmService;
  diagnostics?: Diagnostics;
}

export interface HeadendMetrics {
  registry: Registry;
  /** The `/metrics` handler (text exposition format). */
  handler: RequestHandler;
  /** Stops the default collectors (event-loop lag monitor). */
  close(): void;
}

/** A counter that follows a monotonically growing total read from elsewhere. */
function follow(
  c: Counter<string>,
  labels: Record<string, string>,
  last: Map<string, number>,
  total: number,
): void {
  const key = JSON.stringify(labels);
  const prev = last.get(key) ?? 0;
  if (total > prev) c.inc(labels, total - prev);
  last.set(key, Math.max(prev, total));
}

export function createMetrics(deps: MetricsDeps): HeadendMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'ruralsat-headend' });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const cp = deps.controlPlane;
  const last = new Map<string, number>();

  // Registered first: its collector refreshes the counters below before they are read.
  new Gauge({
    name: 'ruralsat_stations',
    help: 'Registered stations by connection (online, disconnected, unknown)',
    labelNames: ['connection'],
    registers: [registry],
    collect() {
      refresh();
      const n = { online: 0, disconnected: 0, unknown: 0 };
      for (const p of cp.presence.list()) n[p.connection]++;
      for (const [k, v] of Object.entries(n)) this.set({ connection: k }, v);
    },
  });
  const events = new Counter({
    name: 'ruralsat_events_total',
    help: 'Station events ingested, by result (inserted, duplicates, conflicts, invalid, dropped)',
    labelNames: ['result'],
    registers: [registry],
  });
  const telemetry = new Counter({
    name: 'ruralsat_telemetry_samples_total',
    help: 'Telemetry samples received, by result (accepted, invalid, unknown_station)',
    labelNames: ['result'],
    registers: [registry],
  });
  const rpc = new Counter({
    name: 'ruralsat_rpc_total',
    help: 'RPC requests to stations, by result (sent, answered, timeouts, late)',
    labelNames: ['result'],
    registers: [registry],
  });
  const diag = new Counter({
    name: 'ruralsat_diagnostics_calls_total',
    help: 'Diagnostics calls made through the API, by method and outcome',
    labelNames: ['method', 'outcome'],
    registers: [registry],
  });
  const hooks = new Counter({
    name: 'ruralsat_webhook_deliveries_total',
    help: 'Alarm webhook POSTs by result (delivered, failed, dropped)',
    labelNames: ['result', 'url'],
    registers: [registry],
  });
  // Counters follow totals kept by the parts; refreshed by the first collector of each scrape.
  const refresh = () => {
    const e = cp.ingest.stats();
    for (const k of ['inserted', 'duplicates', 'conflicts', 'invalid', 'dropped'] as const)
      follow(events, { result: k }, last, e[k]);
    const t = cp.telemetry.stats();
    follow(telemetry, { result: 'accepted' }, last, t.samples);
    follow(telemetry, { result: 'invalid' }, last, t.invalid);
    follow(telemetry, { result: 'unknown_station' }, last, t.unknownStation);
    const r = cp.rpc.stats();
    for (const k of ['sent', 'answered', 'timeouts', 'late'] as const) follow(rpc, { result: k }, last, r[k]);
    for (const [method, c] of Object.entries(deps.diagnostics?.stats().calls ?? {})) {
      follow(diag, { method, outcome: 'ok' }, last, c.ok);
      follow(diag, { method, outcome: 'failed' }, last, c.failed);
    }
    for (const w of deps.alarms.stats().webhooks)
      for (const k of ['delivered', 'failed', 'dropped'] as const)
        follow(hooks, { result: k, url: w.url }, last, w[k]);
  };
  new Gauge({
    name: 'ruralsat_alarms_active',
    help: 'Active alarms by severity',
    labelNames: ['severity'],
    registers: [registry],
    collect() {
      const s = deps.alarms.engine.stats().active;
      for (const [k, v] of Object.entries(s)) this.set({ severity: k }, v);
    },
  });
  new Gauge({
    name: 'ruralsat_alarms_unacknowledged',
    help: 'Active alarms nobody has acknowledged yet',
    registers: [registry],
    collect() {
      this.set(deps.alarms.engine.active().filter((a) => a.ackedBy === null).length);
    },
  });
  new Gauge({
    name: 'ruralsat_schedule_behind_stations',
    help: 'Stations whose applied schedule differs from the desired one',
    registers: [registry],
    collect() {
      this.set(cp.tracker.list().filter((s) => !s.inSync && s.desired !== null).length);
    },
  });
  new Gauge({
    name: 'ruralsat_schedule_lag_max_seconds',
    help: 'Longest time any station has been behind its desired schedule',
    registers: [registry],
    collect() {
      let max = 0;
      for (const s of cp.tracker.list()) if (s.lagMs !== null) max = Math.max(max, s.lagMs);
      this.set(max / 1000);
    },
  });
  new Gauge({
    name: 'ruralsat_telemetry_buffered_rows',
    help: 'Per-minute telemetry rows held in memory before they are written',
    registers: [registry],
    collect() {
      const t = cp.telemetry.stats();
      this.set(t.buffered);
    },
  });

  return {
    registry,
    handler: async (_req, res) => {
      const body = await registry.metrics();
      res.set('content-type', registry.contentType).set('cache-control', 'no-store').send(body);
    },
    close: () => registry.clear(),
  };
}
