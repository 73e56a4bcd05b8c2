/**
 * The headend's one logger: pino, JSON lines on stdout (journald keeps them, DESIGN.md §3), one child
 * logger per module so every line says where it came from (STYLE.md guideline 7).
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Levels accepted by config and `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** Lowest level written. */
  level: LogLevel;
  /** Where lines go; stdout when omitted. Tests pass a collecting stream. */
  destination?: DestinationStream;
  /** Fields on every line (besides `app`). */
  base?: Record<string, string | number>;
}

/** The root logger of one headend process. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { app: 'ruralsat-headend', pid: process.pid, ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** Child logger of one module, e.g. `moduleLogger(root, 'headend/broker')`. */
export function moduleLogger(parent: Logger, module: string): Logger {
  return parent.child({ module });
}

/** A logger that drops everything: for CLI subcommands and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
