/**
 * Command-line arguments of the standalone simulator (main.ts), validated with zod so a bad argument
 * fails at once with every problem listed (STYLE.md §5). Pure: parsing only, no files opened.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LOG_LEVELS } from '../log.js';
import { parseUdpUrl } from './relay.js';

export const SIMULATOR_USAGE = `usage: ruralsat-sim (--pty PATH | --tcp PORT [--host ADDR] [--count N]) --lineup FILE [options]

  --pty PATH        open this end of a pty pair (socat) or a serial device and speak RX8200 on it
  --tcp PORT        listen for one raw-TCP controller (ser2net style) on PORT
  --host ADDR       TCP listen address (default 127.0.0.1)
  --count N         run N receivers on TCP ports PORT..PORT+N-1, outputs on consecutive UDP ports
  --address N       RX8200 bus address 0-999 (default 2)
  --output URL      where the MPEG-TS goes when locked, e.g. udp://127.0.0.1:5000 (default: no stream)
  --lineup FILE     JSON: ServiceTuning[] or a line-up document {services: [...]} (which service is where)
  --faults FILE     JSON fault script, reloaded whenever the file changes
  --timing NAME     default | short: lock delay from the timing profile (default: default)
  --lock-delay-ms N override the lock delay
  --cn DB           clear-sky C/N of every carrier at this station (default 12)
  --baud N          reply pacing in baud, 0 = none (default 9600)
  --seed N          noise seed (default 1)
  --log-level L     trace|debug|info|warn|error|silent (default info)

At run time, type on stdin: a fault step as JSON ({"kind":"fade","depthDb":8,"durationMs":30000}),
"clear [kind]", or "status".`;

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const SimulatorArgs = z
  .object({
    pty: z.string().min(1).optional(),
    tcp: int(0, 65535).optional(),
    host: z.string().min(1).default('127.0.0.1'),
    count: int(1, 1000).default(1),
    address: int(0, 999).default(2),
    output: z
      .string()
      .optional()
      .superRefine((url, ctx) => {
        if (url === undefined) return;
        try {
          parseUdpUrl(url);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
    lineup: z.string().min(1, 'a line-up file is required'),
    faults: z.string().min(1).optional(),
    timing: z.enum(['default', 'short']).default('default'),
    lockDelayMs: int(0, 600_000).optional(),
    cn: z.string().transform(Number).pipe(z.number().min(-10).max(40)).default(12),
    baud: int(0, 1_000_000).default(9600),
    seed: int(0, 2 ** 31).default(1),
    logLevel: z.enum(LOG_LEVELS).default('info'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if ((a.pty === undefined) === (a.tcp === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['pty'], message: 'give exactly one of --pty or --tcp' });
    }
    if (a.count > 1 && a.pty !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['count'],
        message: '--count needs --tcp (one pty per receiver)',
      });
    }
    if (a.count > 1 && a.tcp === 0) {
      ctx.addIssue({ code: 'custom', path: ['count'], message: '--count needs a fixed --tcp port, not 0' });
    }
  });
export type SimulatorArgs = z.infer<typeof SimulatorArgs>;

/** Thrown for bad arguments; `message` lists every problem, one per line. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

/** Parse argv (without node and script); throws `ArgsError`. */
export function parseSimulatorArgs(argv: readonly string[]): SimulatorArgs {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        pty: { type: 'string' },
        tcp: { type: 'string' },
        host: { type: 'string' },
        count: { type: 'string' },
        address: { type: 'string' },
        output: { type: 'string' },
        lineup: { type: 'string' },
        faults: { type: 'string' },
        timing: { type: 'string' },
        'lock-delay-ms': { type: 'string' },
        cn: { type: 'string' },
        baud: { type: 'string' },
        seed: { type: 'string' },
        'log-level': { type: 'string' },
      },
    }) as { values: Record<string, string | undefined> });
  } catch (err) {
    throw new ArgsError((err as Error).message);
  }
  const { 'lock-delay-ms': lockDelayMs, 'log-level': logLevel, ...rest } = values;
  const input = Object.fromEntries(
    Object.entries({ ...rest, lockDelayMs, logLevel }).filter(([, v]) => v !== undefined),
  );
  const parsed = SimulatorArgs.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const flag = i.path.length
        ? `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
        : '';
      return `${flag}${flag ? ': ' : ''}${i.message}`;
    });
    throw new ArgsError(lines.join('\n'));
  }
  return parsed.data;
}
