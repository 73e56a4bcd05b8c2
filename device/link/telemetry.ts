/**
 * Telemetry (`st/{id}/telemetry`, QoS 0, DESIGN.md §4, §6): a sample every `telemetryActiveMs` while the
 * station executes an occurrence and every `telemetryIdleMs` otherwise (timing profile).
 *
 * Telemetry is lossy by design. While the uplink is down, samples are folded into per-minute
 * `telemetry.summary` events (min/avg/max, lock ratio) that go through the outbox, so the headend's signal
 * history has no hole after an outage (DESIGN.md §4: events carry "per-minute summaries made while
 * offline").
 */
import os from 'node:os';
import type { Logger } from 'pino';
import {
  boundReceiverAlarms,
  type ReceiverSignal,
  type Telemetry,
} from '../../protocol/messages/telemetry.js';
import type { EventBody } from '../store/outbox.js';
import type { Clock } from './clock.js';

type SummaryBody = Extract<EventBody, { type: 'telemetry.summary' }>;

export interface TelemetryOptions {
  clock: Clock;
  logger: Logger;
  activeMs: number;
  idleMs: number;
  /** Takes one sample (receivers, recorders, disk, host). */
  sample(): Promise<Telemetry>;
  /** True while an occurrence is being executed (faster period). */
  isActive(): boolean;
  /** True while the link is up. */
  isConnected(): boolean;
  publish(t: Telemetry): void;
  /** Appends a `telemetry.summary` event to the outbox. */
  emitSummary(body: SummaryBody): void;
}

interface Acc {
  min: number;
  max: number;
  sum: number;
  n: number;
}

function add(acc: Acc | undefined, v: number | null | undefined): Acc | undefined {
  if (v === null || v === undefined || !Number.isFinite(v)) return acc;
  if (!acc) return { min: v, max: v, sum: v, n: 1 };
  return { min: Math.min(acc.min, v), max: Math.max(acc.max, v), sum: acc.sum + v, n: acc.n + 1 };
}

function stat(acc: Acc | undefined): { min: number; avg: number; max: number } | undefined {
  if (!acc) return undefined;
  // Rounded so min ≤ avg ≤ max still holds after rounding.
  const r = (x: number) => Math.round(x * 100) / 100;
  const avg = Math.min(r(acc.max), Math.max(r(acc.min), r(acc.sum / acc.n)));
  return { min: r(acc.min), avg, max: r(acc.max) };
}

/** Folds offline samples into one summary per minute. */
export class MinuteSummary {
  private minute: number | null = null;
  private samples = 0;
  private receivers = new Map<
    string,
    { locked: number; n: number; margin?: Acc; cn?: Acc; alarms?: Set<string> }
  >();
  private disk: Acc | undefined;
  private cpu: Acc | undefined;

  /** Adds a sample taken at `atMs`; returns the summary of the previous minute when a minute closed. */
  add(t: Telemetry, atMs: number): SummaryBody | null {
    const minute = Math.floor(atMs / 60_000);
    const closed = this.minute !== null && minute !== this.minute ? this.flush() : null;
    this.minute = minute;
    this.samples++;
    for (const r of t.receivers) {
      const cur = this.receivers.get(r.id) ?? { locked: 0, n: 0 };
      cur.n++;
      if (r.locked) cur.locked++;
      const margin = add(cur.margin, r.marginDb);
      const cn = add(cur.cn, r.cnDb);
      // Union over the minute: a scrambled spell inside an offline minute stays in the history.
      const alarms = r.alarms ? new Set([...(cur.alarms ?? []), ...r.alarms]) : cur.alarms;
      this.receivers.set(r.id, {
        ...cur,
        ...(margin ? { margin } : {}),
        ...(cn ? { cn } : {}),
        ...(alarms ? { alarms } : {}),
      });
    }
    this.disk = add(this.disk, t.disk.freeBytes);
    this.cpu = add(this.cpu, t.host.cpuPct);
    return closed;
  }

  /** The summary of the minute being collected (and resets), or null when empty. */
  flush(): SummaryBody | null {
    if (this.minute === null || this.samples === 0) return null;
    const from = this.minute * 60_000;
    const body: SummaryBody = {
      type: 'telemetry.summary',
      at: new Date(from + 60_000).toISOString(),
      from: new Date(from).toISOString(),
      to: new Date(from + 60_000).toISOString(),
      samples: this.samples,
      receivers: [...this.receivers].map(([id, r]) => {
        const margin = stat(r.margin);
        const cn = stat(r.cn);
        return {
          id,
          lockedRatio: r.n === 0 ? 0 : r.locked / r.n,
          ...(margin ? { marginDb: margin } : {}),
          ...(cn ? { cnDb: cn } : {}),
          ...(r.alarms ? { alarms: boundReceiverAlarms([...r.alarms]) } : {}),
        };
      }),
      ...(stat(this.disk) ? { diskFreeBytes: stat(this.disk) } : {}),
      ...(stat(this.cpu) ? { cpuPct: stat(this.cpu) } : {}),
    } as SummaryBody;
    this.minute = null;
    this.samples = 0;
    this.receivers = new Map();
    this.disk = undefined;
    this.cpu = undefined;
    return body;
  }
}

/** Host CPU (all cores) since the previous call, 0–100. */
export function hostCpuMeter(): () => number {
  let prev = totals();
  return () => {
    const cur = totals();
    const busy = cur.busy - prev.busy;
    const all = cur.all - prev.all;
    prev = cur;
    return all <= 0 ? 0 : Math.min(100, Math.max(0, (busy / all) * 100));
  };
}

function totals(): { busy: number; all: number } {
  let busy = 0;
  let all = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    const sum = t.user + t.nice + t.sys + t.idle + t.irq;
    all += sum;
    busy += sum - t.idle;
  }
  return { busy, all };
}

/** What a telemetry sample is made of. */
export interface SampleSources {
  now: () => number;
  receivers: () => ReceiverSignal[];
  recorders: () => Telemetry['recorders'];
  disk: () => Promise<{ freeBytes: number; usedBytes: number; quotaBytes: number }>;
  cpuPct: () => number;
}

/** One telemetry sample (protocol/messages/telemetry.ts). */
export async function sampleTelemetry(src: SampleSources): Promise<Telemetry> {
  const u = await src.disk();
  return {
    at: new Date(src.now()).toISOString(),
    // Bounded again here: a sample that broke the schema's limits would be dropped whole by the headend.
    receivers: src
      .receivers()
      .slice(0, 8)
      .map((r) => (r.alarms ? { ...r, alarms: boundReceiverAlarms(r.alarms) } : r)),
    recorders: src.recorders().slice(0, 16),
    disk: {
      freeBytes: u.freeBytes,
      usedBytes: u.usedBytes,
      quotaBytes: u.quotaBytes > 0 ? u.quotaBytes : null,
    },
    host: {
      cpuPct: Math.round(src.cpuPct() * 10) / 10,
      memUsedBytes: os.totalmem() - os.freemem(),
      memTotalBytes: os.totalmem(),
    },
  };
}

/** The telemetry loop. */
export class TelemetryLoop {
  private cancel: (() => void) | null = null;
  private running = false;
  private readonly summary = new MinuteSummary();

  constructor(private readonly opts: TelemetryOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Connected again: the minute being collected offline is closed and sent as an event. */
  flushOffline(): void {
    const body = this.summary.flush();
    if (body) this.opts.emitSummary(body);
  }

  stop(): void {
    this.running = false;
    this.cancel?.();
    this.cancel = null;
  }

  private schedule(ms: number): void {
    this.cancel = this.opts.clock.schedule(ms, () => {
      this.cancel = null;
      void this.tick();
    });
  }

  private async tick(): Promise<void> {
    try {
      const t = await this.opts.sample();
      if (this.opts.isConnected()) {
        this.flushOffline();
        this.opts.publish(t);
      } else {
        const closed = this.summary.add(t, Date.parse(t.at));
        if (closed) this.opts.emitSummary(closed);
      }
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'telemetry sample failed');
    }
    if (this.running) this.schedule(this.opts.isActive() ? this.opts.activeMs : this.opts.idleMs);
  }
}
