/**
 * Arguments of the on-site CLI (pure, zod-validated; a bad invocation lists every problem and the usage).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LOG_LEVELS } from '../log.js';
import { parseHostPort } from '../receiver/transports/tcp.js';
import type { DirectTarget } from './access.js';

export const CLI_USAGE = `usage: ruralsat-rx (--port PATH | --tcp HOST:PORT) [--address N] <command>

commands:
  status                 lock, level, C/N, margin, BER, alarms, LNB, tuning, service
  identify               who answers on this port/address
  tune SERVICE           tune to a line-up service and select it (needs --lineup)
  select SID             select a service id on the current carrier
  lnb on|off             switch the LNB supply
  reset                  soft reset (if the receiver family has one)
  watch                  one updating line: lock / C/N / margin (Ctrl-C to stop)
  raw "CMD;SUB[=..]"     send one command as typed, print the reply line

options:
  --port PATH            serial port, preferably /dev/serial/by-id/...
  --tcp HOST:PORT        serial device server (ser2net raw) or the simulator
  --address N            receiver bus address 0-999 (default 2)
  --lineup FILE          line-up JSON (ServiceTuning[] or {services}) for "tune"
  --interval MS          watch: poll period (default: the timing profile's receiver poll)
  --count N              watch: stop after N readings
  --timing NAME          default | short (default: default)
  --json                 machine-readable output
  --log-level L          diagnostics on stderr (default warn)`;

const COMMANDS = ['status', 'identify', 'tune', 'select', 'lnb', 'reset', 'watch', 'raw'] as const;

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export type CliCommand =
  | { name: 'status' }
  | { name: 'identify' }
  | { name: 'tune'; service: string }
  | { name: 'select'; serviceId: number }
  | { name: 'lnb'; on: boolean }
  | { name: 'reset' }
  | { name: 'watch' }
  | { name: 'raw'; line: string };

const Options = z
  .object({
    port: z.string().min(1).optional(),
    tcp: z.string().min(1).optional(),
    address: int(0, 999).default(2),
    lineup: z.string().min(1).optional(),
    interval: int(50, 3_600_000).optional(),
    count: int(1, 1_000_000).optional(),
    timing: z.enum(['default', 'short']).default('default'),
    json: z.boolean().default(false),
    logLevel: z.enum(LOG_LEVELS).default('warn'),
  })
  .strict();

export interface CliArgs {
  target: DirectTarget;
  address: number;
  lineup: string | undefined;
  interval: number | undefined;
  count: number | undefined;
  timing: 'default' | 'short';
  json: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  command: CliCommand;
}

export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

function command(positionals: string[], problems: string[]): CliCommand | null {
  const [name, ...rest] = positionals;
  if (name === undefined) {
    problems.push(`a command is required: ${COMMANDS.join(', ')}`);
    return null;
  }
  const arity = (n: number, what: string) => {
    if (rest.length !== n) problems.push(`${name} takes ${what}`);
    return rest[0] ?? '';
  };
  switch (name) {
    case 'status':
    case 'identify':
    case 'reset':
    case 'watch':
      arity(0, 'no arguments');
      return { name };
    case 'tune':
      return { name, service: arity(1, 'one line-up service key, e.g. tune cctv1') };
    case 'select': {
      const sid = Number(arity(1, 'one service id, e.g. select 101'));
      if (!Number.isInteger(sid) || sid < 1 || sid > 65535)
        problems.push('select: service id must be 1-65535');
      return { name, serviceId: sid };
    }
    case 'lnb': {
      const v = arity(1, 'on or off');
      if (v !== 'on' && v !== 'off') problems.push('lnb: expected on or off');
      return { name, on: v === 'on' };
    }
    case 'raw':
      return { name, line: arity(1, 'one quoted command, e.g. raw "OPR;QUA"') };
    default:
      problems.push(`unknown command ${JSON.stringify(name)}; one of ${COMMANDS.join(', ')}`);
      return null;
  }
}

/** Parse argv (without node and script); throws `CliUsageError` listing every problem. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        tcp: { type: 'string' },
        address: { type: 'string' },
        lineup: { type: 'string' },
        interval: { type: 'string' },
        count: { type: 'string' },
        timing: { type: 'string' },
        json: { type: 'boolean' },
        'log-level': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  const problems: string[] = [];
  const cmd = command(positionals, problems);
  const { 'log-level': logLevel, ...rest } = values;
  const parsed = Options.safeParse(
    Object.fromEntries(Object.entries({ ...rest, logLevel }).filter(([, v]) => v !== undefined)),
  );
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`--${String(i.path[0] ?? '')}: ${i.message}`);
  }
  const o = parsed.success ? parsed.data : null;
  // The route is checked from the raw values so its problems are listed even when another option is bad.
  const port = typeof values.port === 'string' ? values.port : undefined;
  const tcp = typeof values.tcp === 'string' ? values.tcp : undefined;
  let target: DirectTarget | null = null;
  if ((port === undefined) === (tcp === undefined)) {
    problems.push('give exactly one of --port PATH or --tcp HOST:PORT');
  } else if (port !== undefined) {
    target = { kind: 'serial', path: port };
  } else {
    try {
      target = { kind: 'tcp', ...parseHostPort(tcp ?? '') };
    } catch (err) {
      problems.push(`--tcp: ${(err as Error).message}`);
    }
  }
  if (cmd?.name === 'tune' && values.lineup === undefined) problems.push('tune needs --lineup FILE');
  if (problems.length > 0 || !o || !cmd || !target) throw new CliUsageError(problems.join('\n'));
  return {
    target,
    address: o.address,
    lineup: o.lineup,
    interval: o.interval,
    count: o.count,
    timing: o.timing,
    json: o.json,
    logLevel: o.logLevel,
    command: cmd,
  };
}
