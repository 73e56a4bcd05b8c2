/**
 * The on-site CLI's commands, run against a `ReceiverAccess` (DESIGN.md §6): through the running agent's
 * control socket, or the port itself (device/cli/route.ts decides). In-process callable (tests pass their
 * own output sinks and an abort signal); device/cli.ts is the process shell.
 * Exit codes: 0 done, 1 the receiver, port or agent failed (typed error shown with a hint), 2 bad invocation.
 */
import type { DestinationStream } from 'pino';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import { defaultTiming, shortTiming, type TimingProfile } from '../../protocol/timing.js';
import type { AgentConfig } from '../config.js';
import { createLogger } from '../log.js';
import { isReceiverError, ReceiverError } from '../receiver/driver.js';
import { loadLineup } from '../receiver/lineup-file.js';
import { sleep, type Timers } from '../receiver/timers.js';
import type { CliReceiver, ReceiverAccess } from './access.js';
import { CHANGING_COMMANDS, CLI_USAGE, type CliArgs, CliUsageError, parseCliArgs } from './args.js';
import { AgentSocketError, type AgentStatus } from './control-client.js';
import {
  formatAgent,
  formatError,
  formatHold,
  formatIdentity,
  formatStatus,
  formatWatchLine,
} from './format.js';
import { chooseRoute, type Route } from './route.js';
import type { AgentSocketAccess } from './socket-access.js';

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
  /** Route to the receiver, replacing the choice between the agent's socket and the port (tests). */
  access?: (args: CliArgs) => ReceiverAccess;
  /** Reads the agent's config for `--config` (the shell passes the agent's own loader, env included). */
  loadConfig?: (file: string) => AgentConfig;
  /** Who holds when `--holder` is not given (default user@hostname). */
  holder?: string;
  /** Where to look for the agent's socket without `--socket`/`--config` (default DEFAULT_SOCKET_PATHS). */
  socketPaths?: readonly string[];
}

type Receiver = CliReceiver & { agentStatus?: () => Promise<AgentStatus> };

async function execute(
  args: CliArgs,
  driver: Receiver,
  access: ReceiverAccess,
  timing: TimingProfile,
  io: CliIo,
): Promise<void> {
  const out = (v: unknown, human: string) => io.stdout(`${args.json ? JSON.stringify(v) : human}\n`);
  const via = access.description;
  const cmd = args.command;
  switch (cmd.name) {
    case 'status': {
      const s = await driver.status();
      const agent = await driver.agentStatus?.();
      if (!agent) out(s, formatStatus(s, via));
      else out({ ...s, agent }, `${formatStatus(s, via)}\n${formatAgent(agent)}`);
      return;
    }
    case 'identify': {
      const id = await driver.identify();
      out(id, formatIdentity(id, via));
      return;
    }
    case 'tune': {
      // The agent tunes from its applied schedule; the direct port needs the line-up file.
      let service: ServiceTuning | undefined;
      if (access.tuneNeedsLineup) {
        let lineup: Awaited<ReturnType<typeof loadLineup>>;
        try {
          lineup = await loadLineup(args.lineup ?? '');
        } catch (err) {
          throw new CliUsageError((err as Error).message);
        }
        service = lineup.find((s) => s.key === cmd.service);
        if (!service) {
          throw new CliUsageError(
            `no service ${cmd.service} in ${args.lineup}; known: ${lineup.map((s) => s.key).join(', ')}`,
          );
        }
      }
      if (!args.json)
        io.stdout(
          service
            ? `tuning to ${service.name} (${service.key}, service id ${service.serviceId})…\n`
            : `tuning to ${cmd.service} (the agent's tuning for it)…\n`,
        );
      const s = await driver.tuneService(cmd.service, service);
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
    case 'hold':
    case 'release':
      throw new Error(`${cmd.name} is an agent command`);
  }
}

/** `hold` and `release`: the maintenance hold alone, kept until released or its time limit. */
async function agentCommand(args: CliArgs, agent: AgentSocketAccess, route: Route, io: CliIo): Promise<void> {
  const out = (v: unknown, human: string) => io.stdout(`${args.json ? JSON.stringify(v) : human}\n`);
  if (args.command.name === 'release') {
    const released = await agent.release(args.hold.force);
    out(
      { released },
      released
        ? 'maintenance hold released: the agent checks the receiver and resumes its schedule'
        : 'no maintenance hold was in force',
    );
    return;
  }
  const askedMs =
    args.hold.minutes !== undefined ? args.hold.minutes * 60_000 : route.timing.maintenanceHoldMs;
  const info = await agent.hold(askedMs, args.hold.reason ?? 'on-site maintenance (ruralsat-rx hold)');
  const status = await agent.agentStatus();
  out({ ...info, running: status.running }, formatHold(info, askedMs, io.timers.now(), status));
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
  const logger = createLogger({ level: args.logLevel, name: 'ruralsat-rx', destination: io.logDestination });
  let driver: Receiver | null = null;
  try {
    const custom = io.access?.(args);
    const route: Route = custom
      ? { access: custom, agent: null, timing: args.timing === 'short' ? shortTiming : defaultTiming }
      : await chooseRoute(args, {
          timers: io.timers,
          logger,
          notice: (line) => io.stderr(`ruralsat-rx: ${line}\n`),
          ...(io.loadConfig ? { loadConfig: io.loadConfig } : {}),
          ...(io.holder ? { holder: io.holder } : {}),
          ...(io.socketPaths ? { socketPaths: io.socketPaths } : {}),
        });
    const { name } = args.command;
    if (name === 'hold' || name === 'release') {
      if (!route.agent) throw new CliUsageError(`${name} needs the running agent`);
      await agentCommand(args, route.agent, route, io);
      return 0;
    }
    if (name === 'tune' && route.access.tuneNeedsLineup && args.lineup === undefined)
      throw new CliUsageError('tune needs --lineup FILE on the direct port');
    driver = await route.access.open({ changes: CHANGING_COMMANDS.has(name), command: name });
    await execute(args, driver, route.access, route.timing, io);
    return 0;
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.stderr(`ruralsat-rx: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ReceiverError || err instanceof AgentSocketError) {
      if (args.json) io.stdout(`${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`);
      io.stderr(`${formatError(err)}\n`);
      return 1;
    }
    throw err;
  } finally {
    await driver?.close();
  }
}
