/**
 * The agent's recent log lines in memory, for `logs.tail` (DESIGN.md §6 Diagnostics RPC): a technician in
 * the city reads what the station logged without a shell on it. A pino destination (it receives the same
 * JSON lines as stdout, see device/log.ts) that keeps the newest `capacity` lines, parsed, in a ring — fixed
 * memory on an embedded box, no disk writes. Lines that are not pino JSON are kept as info text.
 */
import type { RpcParams, RpcResult } from '../../protocol/messages/rpc-methods.js';

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** One kept line. */
export interface LogLine {
  at: string;
  level: LogLevelName;
  module?: string;
  msg: string;
}

/** pino's numeric levels. */
const LEVELS: readonly [number, LogLevelName][] = [
  [60, 'fatal'],
  [50, 'error'],
  [40, 'warn'],
  [30, 'info'],
  [20, 'debug'],
  [10, 'trace'],
];
const RANK: Record<LogLevelName, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Fields pino adds to every line, or that the line already says elsewhere. */
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'module', 'station', 'v']);
const MSG_MAX = 2000;

function levelName(n: unknown): LogLevelName {
  if (typeof n === 'string' && n in RANK) return n as LogLevelName;
  const v = typeof n === 'number' ? n : 30;
  for (const [min, name] of LEVELS) if (v >= min) return name;
  return 'trace';
}

/** A field's value as short text (nested objects compactly, errors by message). */
function brief(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  const err = v as { message?: unknown; type?: unknown };
  if (typeof err.message === 'string') return err.message;
  const s = JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}

/** One pino JSON line → a kept line (pure). Fields beyond the message are appended as `key=value`. */
export function parseLogLine(line: string, fallbackNow: number): LogLine | null {
  const text = line.trim();
  if (!text) return null;
  let o: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not a record');
    o = parsed as Record<string, unknown>;
  } catch {
    return { at: new Date(fallbackNow).toISOString(), level: 'info', msg: text.slice(0, MSG_MAX) };
  }
  const time = typeof o.time === 'number' ? o.time : typeof o.time === 'string' ? Date.parse(o.time) : NaN;
  const extras = Object.entries(o)
    .filter(([k, v]) => !SKIP.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${brief(v)}`);
  const msg = [typeof o.msg === 'string' ? o.msg : '', ...extras].filter(Boolean).join(' ');
  return {
    at: new Date(Number.isFinite(time) ? time : fallbackNow).toISOString(),
    level: levelName(o.level),
    ...(typeof o.module === 'string' ? { module: o.module.slice(0, 100) } : {}),
    msg: msg.slice(0, MSG_MAX),
  };
}

/** The ring. Implements pino's `DestinationStream` (`write(line)`). */
export class LogRing {
  private readonly lines: (LogLine | undefined)[];
  private next = 0;
  private count = 0;
  /** Lines dropped because the ring was full (oldest first). */
  overwritten = 0;

  constructor(
    readonly capacity = 2000,
    private readonly now: () => number = Date.now,
  ) {
    this.lines = new Array(capacity);
  }

  /** pino destination: one or more JSON lines. Never throws (logging must not break the agent). */
  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      const parsed = parseLogLine(line, this.now());
      if (!parsed) continue;
      if (this.count === this.capacity) this.overwritten++;
      else this.count++;
      this.lines[this.next] = parsed;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  /** Kept lines, oldest first. */
  all(): LogLine[] {
    const out: LogLine[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const l = this.lines[(start + i) % this.capacity];
      if (l) out.push(l);
    }
    return out;
  }

  /**
   * The `logs.tail` answer: the newest `lines` matching the filters, oldest first; `truncated` when more
   * matched (or the ring has already overwritten lines that might have).
   */
  tail(p: RpcParams<'logs.tail'>): RpcResult<'logs.tail'> {
    const min = p.minLevel ? RANK[p.minLevel] : 0;
    const matching = this.all().filter(
      (l) => RANK[l.level] >= min && (p.module === undefined || (l.module ?? '').startsWith(p.module)),
    );
    const entries = matching.slice(-p.lines);
    return { entries, truncated: matching.length > entries.length || this.overwritten > 0 };
  }
}
