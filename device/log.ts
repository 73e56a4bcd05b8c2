/**
 * The device side's one logger (STYLE.md §7, §12): pino, JSON lines to stdout (journald-friendly), one child
 * logger per module carrying `{module: 'device/receiver/link'}` so a field, not a string prefix, says where a
 * line came from. Created by the composition root and passed down in `deps`; never a module singleton.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** pino's level names, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerConfig {
  /** Minimum level written; `debug` adds hex dumps of serial frames (STYLE.md §7). */
  level: LogLevel;
  /** Application name written on every line (`name` field), e.g. `ruralsat-agent`. */
  name: string;
  /** Where lines go; stdout when omitted. Tests pass a stream to assert on log lines. */
  destination?: DestinationStream;
  /** Also keep the recent lines in memory (device/diagnostics/log-ring.ts), for the `logs.tail` RPC. */
  ring?: DestinationStream;
}

/** Root logger of one device-side application. */
export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    name: config.name,
    // Numeric epoch ms is what journald and log shippers index fastest; ISO is derived on display.
    base: { pid: process.pid },
  };
  if (config.ring && config.level !== 'silent') {
    const level = config.level;
    const out = config.destination ?? pino.destination(1);
    return pino(
      options,
      pino.multistream([
        { level, stream: out },
        { level, stream: config.ring },
      ]),
    );
  }
  return config.destination ? pino(options, config.destination) : pino(options);
}

/** Child logger for one module (STYLE.md §7: `{module: "device/receiver/link"}`). */
export function moduleLogger(parent: Logger, module: string, fields: Record<string, unknown> = {}): Logger {
  return parent.child({ module, ...fields });
}

/** A logger that drops everything (library callers and tests that do not care about logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
