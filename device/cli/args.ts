/**
 * Arguments of the on-site CLI (pure, zod-validated; a bad invocation lists every problem and the usage).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LOG_LEVELS } from '../log.js';
import { parseHostPort } from '../receiver/transports/tcp.js';
import type { DirectTarget } from './access.js';

export const CLI_USAGE = `usage: ruralsat-rx [route] [options] <command>

commands:
  status                 lock, level, C/N, margin, BER, alarms, LNB, tuning, service (+ the agent's hold)
  identify               who answers on this port/address
  tune SERVICE           tune to a line-up service and select it (the direct port needs --lineup)
  select SID             select a service id on the current carrier
  lnb on|off             switch the LNB supply
  reset                  soft reset (if the receiver family has one)
  watch                  one updating line: lock / C/N / margin (Ctrl-C to stop)
  raw "CMD;SUB[=..]"     send one command as typed, print the reply line
  hold                   keep the agent paused (maintenance hold) while you work; --minutes N, --reason TEXT
  release                end the maintenance hold now (--force: whoever holds it)

route: through the running agent's control socket when it answers (changes take a time-limited
maintenance hold: the agent starts nothing new, the headend sees it); otherwise the port itself.
  --socket PATH          the agent's control socket (default /var/lib/ruralsat/agent.sock,
                         then /var/lib/ruralsat/agent/agent.sock)
  --config FILE          the agent's config: its socket, and its receiver port when the agent is stopped
  --direct               open the port yourself (BUSY while the agent holds it)
  --port PATH            serial port, preferably /dev/serial/by-id/...
  --tcp HOST:PORT        serial device server (ser2net raw) or the simulator
  --address N            receiver bus address 0-999 (default 2, or the agent config's)

options:
  --lineup FILE          line-up JSON (ServiceTuning[] or {services}) for "tune" on the direct port
  --receiver ID          which of the agent's receivers (default its first)
  --hold-minutes N       length of the session's hold, renewed during watch (default: the timing
                         profile's maintenance hold, 15 min); --minutes N is the same, for "hold"
  --holder NAME          who holds (default user@hostname)
  --reason TEXT          why, shown at the headend
  --hold                 hold the agent for status/identify/watch too (e.g. aligning the dish)
  --force                change the receiver even while the agent records on it; release another's hold
  --interval MS          watch: poll period (default: the timing profile's receiver poll)
  --count N              watch: stop after N readings
  --timing NAME          default | short (default: the agent config's, else default)
  --json                 machine-readable output
  --log-level L          diagnostics on stderr (default warn)`;

const COMMANDS = [
  'status',
  'identify',
  'tune',
  'select',
  'lnb',
  'reset',
  'watch',
  'raw',
  'hold',
  'release',
] as const;

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
  | { name: 'raw'; line: string }
  | { name: 'hold' }
  | { name: 'release' };

/** Commands that change the receiver: through the agent they need the maintenance hold. */
export const CHANGING_COMMANDS: ReadonlySet<CliCommand['name']> = new Set([
  'tune',
  'select',
  'lnb',
  'reset',
  'raw',
]);

/** Hold lengths on the command line, in minutes (fractions allowed); the agent caps them at its maximum. */
const Minutes = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be a number of minutes')
  .transform(Number)
  .pipe(
    z
      .number()
      .positive()
      .max(24 * 60),
  );

const Options = z
  .object({
    port: z.string().min(1).optional(),
    tcp: z.string().min(1).optional(),
    address: int(0, 999).optional(),
    lineup: z.string().min(1).optional(),
    interval: int(50, 3_600_000).optional(),
    count: int(1, 1_000_000).optional(),
    timing: z.enum(['default', 'short']).optional(),
    json: z.boolean().default(false),
    socket: z.string().min(1).optional(),
    config: z.string().min(1).optional(),
    direct: z.boolean().default(false),
    receiver: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a receiver id like rx1')
      .optional(),
    holdMinutes: Minutes.optional(),
    minutes: Minutes.optional(),
    holder: z.string().min(1).max(64).optional(),
    reason: z.string().min(1).max(200).optional(),
    hold: z.boolean().default(false),
    force: z.boolean().default(false),
    logLevel: z.enum(LOG_LEVELS).default('warn'),
  })
  .strict();

/** How to reach the receiver (device/cli/socket-access.ts `chooseRoute` decides, DESIGN.md §6). */
export interface RouteArgs {
  /** `--direct`: open the port even if the agent answers. */
  direct: boolean;
  /** `--socket PATH`. */
  socket: string | undefined;
  /** `--config FILE`: the agent's config (its socket; its receiver port for the direct route). */
  config: string | undefined;
}

/** The maintenance hold a session through the agent takes. */
export interface HoldArgs {
  /** `--hold-minutes` / `--minutes`; undefined = the timing profile's `maintenanceHoldMs`. */
  minutes: number | undefined;
  /** `--holder`; undefined = user@hostname. */
  holder: string | undefined;
  reason: string | undefined;
  /** `--hold`: hold for read-only commands too. */
  always: boolean;
  /** `--force`: change the receiver under a running recording; release another's hold. */
  force: boolean;
}

export interface CliArgs {
  /** `--port`/`--tcp`, or null (then the agent's socket, or the agent config's port). */
  target: DirectTarget | null;
  /** `--address`, or undefined (the agent config's, else 2). */
  address: number | undefined;
  route: RouteArgs;
  hold: HoldArgs;
  /** `--receiver ID` through the agent. */
  receiverId: string | undefined;
  lineup: string | undefined;
  interval: number | undefined;
  count: number | undefined;
  /** `--timing`, or undefined (the agent config's profile, else `default`). */
  timing: 'default' | 'short' | undefined;
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
    case 'hold':
    case 'release':
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
        socket: { type: 'string' },
        config: { type: 'string' },
        direct: { type: 'boolean' },
        receiver: { type: 'string' },
        'hold-minutes': { type: 'string' },
        minutes: { type: 'string' },
        holder: { type: 'string' },
        reason: { type: 'string' },
        hold: { type: 'boolean' },
        force: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  const problems: string[] = [];
  const cmd = command(positionals, problems);
  const { 'log-level': logLevel, 'hold-minutes': holdMinutes, ...rest } = values;
  const parsed = Options.safeParse(
    Object.fromEntries(Object.entries({ ...rest, logLevel, holdMinutes }).filter(([, v]) => v !== undefined)),
  );
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = String(i.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      problems.push(`--${key}: ${i.message}`);
    }
  }
  const o = parsed.success ? parsed.data : null;
  // The route is checked from the raw values so its problems are listed even when another option is bad.
  const port = typeof values.port === 'string' ? values.port : undefined;
  const tcp = typeof values.tcp === 'string' ? values.tcp : undefined;
  let target: DirectTarget | null = null;
  if (port !== undefined && tcp !== undefined) {
    problems.push('give one of --port PATH or --tcp HOST:PORT, not both');
  } else if (port !== undefined) {
    target = { kind: 'serial', path: port };
  } else if (tcp !== undefined) {
    try {
      target = { kind: 'tcp', ...parseHostPort(tcp) };
    } catch (err) {
      problems.push(`--tcp: ${(err as Error).message}`);
    }
  }
  const direct = values.direct === true;
  const toAgent = cmd?.name === 'hold' || cmd?.name === 'release';
  if (direct && values.socket !== undefined)
    problems.push('--direct opens the port and --socket goes through the agent: give one of them');
  if (direct && toAgent) problems.push(`${cmd?.name} talks to the agent: drop --direct`);
  if (direct && port === undefined && tcp === undefined && values.config === undefined)
    problems.push(
      '--direct needs --port PATH, --tcp HOST:PORT or --config FILE (the agent config names the port)',
    );
  // Known now only when the port is forced; otherwise the route decides (the agent needs no line-up).
  if (direct && cmd?.name === 'tune' && values.lineup === undefined)
    problems.push('tune needs --lineup FILE');
  if (values['hold-minutes'] !== undefined && values.minutes !== undefined)
    problems.push('--minutes and --hold-minutes are the same: give one');
  if (problems.length > 0 || !o || !cmd) throw new CliUsageError(problems.join('\n'));
  return {
    target,
    address: o.address,
    route: { direct: o.direct, socket: o.socket, config: o.config },
    hold: {
      minutes: o.holdMinutes ?? o.minutes,
      holder: o.holder,
      reason: o.reason,
      always: o.hold,
      force: o.force,
    },
    receiverId: o.receiver,
    lineup: o.lineup,
    interval: o.interval,
    count: o.count,
    timing: o.timing,
    json: o.json,
    logLevel: o.logLevel,
    command: cmd,
  };
}
