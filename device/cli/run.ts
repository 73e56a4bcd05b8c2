/**
 * The on-site CLI's commands, run against a `ReceiverAccess` (DESIGN.md §6). In-process callable (tests
 * pass their own output sinks and an abort signal); device/cli.ts is the process shell.
 * Exit codes: 0 done, 1 the receiver or port failed (typed error shown with a hint), 2 bad invocation.
 */
import type { DestinationStream } from 'pino';
import { defaultTiming, shortTiming } from '../../protocol/timing.js';
import { createLogger } from '../log.js';
import { isReceiverError, type ReceiverDriver, ReceiverError } from '../receiver/driver.js';
import { loadLineup } from '../receiver/lineup-file.js';
import { sleep, type Timers } from '../receiver/timers.js';
import { DirectPortAccess, type ReceiverAccess } from './access.js';
import { CLI_USAGE, type CliArgs, CliUsageError, parseCliArgs } from './args.js';
import { formatError, formatIdentity, formatStatus, formatWatchLine } from './format.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Rewrite the watch line in place (a terminal) instead of one line per reading (a pipe or a log). */
  isTTY: boolean;
  timers: Timers;
  /** Where diagnostics go (stderr in the shell), at the level `--log-level` asks for. */
  logDestination: DestinationStream;
  /** Aborting stops `watch` (Ctrl-C). */
  signal?: AbortSignal;
  /** Route to the receiver; the direct port by default (the agent socket route plugs in here). */
  access?: (args: CliArgs) => ReceiverAccess;
}

async function execute(args: CliArgs, driver: ReceiverDriver, via: string, io: CliIo): Promise<void> {
  const out = (v: unknown, human: string) => io.stdout(`${args.json ? JSON.stringify(v) : human}\n`);
  const timing = args.timing === 'short' ? shortTiming : defaultTiming;
  const cmd = args.command;
  switch (cmd.name) {
    case 'status': {
      const s = await driver.status();
      out(s, formatStatus(s, via));
      return;
    }
    case 'identify': {
      const id = await driver.identify();
      out(id, formatIdentity(id, via));
      return;
    }
    case 'tune': {
      let lineup: Awaited<ReturnType<typeof loadLineup>>;
      try {
        lineup = await loadLineup(args.lineup ?? '');
      } catch (err) {
        throw new CliUsageError((err as Error).message);
      }
      const service = lineup.find((s) => s.key === cmd.service);
      if (!service) {
        throw new CliUsageError(
          `no service ${cmd.service} in ${args.lineup}; known: ${lineup.map((s) => s.key).join(', ')}`,
        );
      }
      if (!args.json)
        io.stdout(`tuning to ${service.name} (${service.key}, service id ${service.serviceId})…\n`);
      await driver.tune(service.transponder);
      await driver.selectService(service.serviceId);
      const s = await driver.status();
      out(s, formatStatus(s, via));
      return;
    }
    case 'select': {
      await driver.selectService(cmd.serviceId);
      out({ ok: true, serviceId: cmd.serviceId }, `service ${cmd.serviceId} selected (read back)`);
      return;
    }
    case 'lnb': {
      await driver.setLnbPower(cmd.on);
      out({ ok: true, lnbPower: cmd.on }, `LNB power ${cmd.on ? 'on' : 'off'} (read back)`);
      return;
    }
    case 'reset': {
      await driver.reset();
      out({ ok: true }, 'reset sent');
      return;
    }
    case 'raw': {
      const reply = await driver.raw(cmd.line);
      out({ reply }, reply);
      return;
    }
    case 'watch': {
      const period = args.interval ?? timing.receiverPollMs;
      for (let n = 0; args.count === undefined || n < args.count; n++) {
        if (io.signal?.aborted) break;
        if (n > 0) await sleep(io.timers, period);
        if (io.signal?.aborted) break;
        try {
          const s = await driver.status();
          const line = formatWatchLine(s, new Date(io.timers.now()));
          if (args.json)
            io.stdout(`${JSON.stringify({ at: new Date(io.timers.now()).toISOString(), ...s })}\n`);
          else io.stdout(io.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
        } catch (err) {
          // A watch survives a dropped reading (a hang or a fade is what the technician is watching for).
          if (!isReceiverError(err, 'TIMEOUT', 'CHECKSUM')) throw err;
          const line = `${new Date(io.timers.now()).toISOString().slice(11, 19)}Z  no answer: ${err.code}`;
          io.stdout(io.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
        }
      }
      if (io.isTTY && !args.json) io.stdout('\n');
      return;
    }
  }
}

/** Run one CLI invocation; returns the exit code. Never throws for receiver or usage problems. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    io.stderr(`ruralsat-rx: ${err.message}\n\n${CLI_USAGE}\n`);
    return 2;
  }
  const timing = args.timing === 'short' ? shortTiming : defaultTiming;
  const logger = createLogger({ level: args.logLevel, name: 'ruralsat-rx', destination: io.logDestination });
  const access =
    io.access?.(args) ??
    new DirectPortAccess(
      { target: args.target, address: args.address, timing },
      { timers: io.timers, logger },
    );
  let driver: ReceiverDriver | null = null;
  try {
    driver = await access.open();
    await execute(args, driver, access.description, io);
    return 0;
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.stderr(`ruralsat-rx: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ReceiverError) {
      if (args.json) io.stdout(`${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`);
      io.stderr(`${formatError(err)}\n`);
      return 1;
    }
    throw err;
  } finally {
    await driver?.close();
  }
}
