/**
 * Which way the on-site CLI reaches the receiver (DESIGN.md §6 "On-site CLI": agent and CLI never fight
 * over the half-duplex port):
 * 1. `--direct`: the port itself (`--port`/`--tcp`, or the agent config's). The port is locked
 *    exclusively, so while the agent holds it the answer is `BUSY`, never a garbled exchange.
 * 2. Otherwise the agent's control socket — `--socket`, else the one `--config` names, else the default
 *    paths — when it answers. A socket that is there but does not answer, or that this user may not
 *    open, is an error that says so: the CLI does not guess past it.
 * 3. No socket at all: the agent is not running, so the CLI opens the port itself (named on the command
 *    line or in the agent's config). `hold`/`release` and an explicit `--socket` need the agent.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import { defaultTiming, shortTiming, type TimingProfile } from '../../protocol/timing.js';
import { type AgentConfig, controlSocketPath, loadAgentConfig, resolveTiming } from '../config.js';
import type { Timers } from '../receiver/timers.js';
import { DirectPortAccess, type DirectTarget, type ReceiverAccess } from './access.js';
import { type CliArgs, CliUsageError } from './args.js';
import {
  AGENT_ANSWER_TIMEOUT_MS,
  AgentSocketError,
  controlRequest,
  DEFAULT_SOCKET_PATHS,
} from './control-client.js';
import { AgentSocketAccess } from './socket-access.js';

export interface RouteDeps {
  timers: Timers;
  logger: Logger;
  /** One line for the technician on stderr. */
  notice: (line: string) => void;
  /** Reads the agent's config (`--config`); `loadAgentConfig` on the file alone by default. */
  loadConfig?: (file: string) => AgentConfig;
  /** Who holds when `--holder` is not given; `user@hostname` by default. */
  holder?: string;
  /** Where to look for the agent's socket when neither `--socket` nor `--config` is given. */
  socketPaths?: readonly string[];
}

export interface Route {
  access: ReceiverAccess;
  /** The agent route (for `hold`, `release` and the agent's status), or null on the direct port. */
  agent: AgentSocketAccess | null;
  timing: TimingProfile;
}

/** `user@hostname`, within the hold's 64 characters. */
export function defaultHolder(): string {
  let user = 'technician';
  try {
    user = os.userInfo().username || user;
  } catch {
    // No passwd entry for this uid (a container): keep the generic name.
  }
  return `${user}@${os.hostname()}`.slice(0, 64);
}

function describeTarget(t: DirectTarget): string {
  return t.kind === 'serial' ? t.path : `${t.host}:${t.port}`;
}

function targetOf(config: AgentConfig): DirectTarget {
  const t = config.receiver.transport;
  return t.type === 'serial' ? { kind: 'serial', path: t.path } : { kind: 'tcp', host: t.host, port: t.port };
}

/** Decides the route (see the file header); throws `AgentSocketError` or `CliUsageError` with the reason. */
export async function chooseRoute(args: CliArgs, deps: RouteDeps): Promise<Route> {
  let config: AgentConfig | null = null;
  const configFile = args.route.config;
  if (configFile !== undefined) {
    try {
      config = (deps.loadConfig ?? ((file) => loadAgentConfig({ file })))(configFile);
    } catch (err) {
      throw new CliUsageError(`--config ${configFile}: ${(err as Error).message}`);
    }
  }
  const timing =
    args.timing !== undefined
      ? args.timing === 'short'
        ? shortTiming
        : defaultTiming
      : config
        ? resolveTiming(config)
        : defaultTiming;
  const target = args.target ?? (config ? targetOf(config) : null);
  const address = args.address ?? config?.receiver.address ?? 2;
  const direct = (): Route => {
    if (!target) throw new CliUsageError('name the receiver: --port PATH, --tcp HOST:PORT or --config FILE');
    return {
      access: new DirectPortAccess({ target, address, timing }, { timers: deps.timers, logger: deps.logger }),
      agent: null,
      timing,
    };
  };
  if (args.route.direct) return direct();

  const named = args.route.socket ?? (config ? controlSocketPath(config) : undefined);
  const candidates = named !== undefined ? [named] : (deps.socketPaths ?? DEFAULT_SOCKET_PATHS);
  let absent: AgentSocketError | null = null;
  for (const sockPath of candidates) {
    try {
      await controlRequest(sockPath, { cmd: 'status' }, AGENT_ANSWER_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof AgentSocketError && err.code === 'NO_AGENT') {
        absent ??= err;
        continue;
      }
      throw err;
    }
    if (args.target)
      deps.notice(
        `the agent is running: going through ${sockPath} (--direct opens ${describeTarget(args.target)} yourself; BUSY while the agent holds it)`,
      );
    const agent = new AgentSocketAccess(
      {
        path: sockPath,
        receiverId: args.receiverId,
        holder: args.hold.holder ?? deps.holder ?? defaultHolder(),
        holdMs: args.hold.minutes !== undefined ? args.hold.minutes * 60_000 : timing.maintenanceHoldMs,
        reason: args.hold.reason,
        holdAlways: args.hold.always,
        force: args.hold.force,
        timing,
      },
      { timers: deps.timers, notice: deps.notice },
    );
    return { access: agent, agent, timing };
  }

  const where = candidates.join(' or ');
  const name = args.command.name;
  if (name === 'hold' || name === 'release' || args.route.socket !== undefined) {
    throw new AgentSocketError(
      'NO_AGENT',
      `no agent control socket at ${where}`,
      name === 'hold' || name === 'release'
        ? `${name} pauses the running agent: is it running (systemctl status ruralsat-agent)? give its socket with --socket or its config with --config`
        : (absent?.hint ?? 'is the agent running?'),
    );
  }
  if (!target) {
    throw new AgentSocketError(
      'NO_AGENT',
      `no agent control socket at ${where}, and no port to open instead`,
      'name the agent (--socket PATH or --config agent.json) or the receiver (--port /dev/serial/by-id/… or --tcp host:port)',
    );
  }
  if (config)
    deps.notice(
      `the agent is not running (no socket at ${where}): opening ${describeTarget(target)} directly`,
    );
  return direct();
}
