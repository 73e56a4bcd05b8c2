/**
 * The agent's control socket as the on-site CLI speaks it (device/control-socket.ts is the other end):
 * one JSON line per request on a fresh connection, typed errors that say what to try, and the answers'
 * shapes checked before use (a CLI and an agent of different versions must fail clearly, not oddly).
 */
import net from 'node:net';
import { z } from 'zod';
import { MaintenanceHold } from '../../protocol/messages/state.js';
import { RECEIVER_ERROR_CODES, ReceiverError, type ReceiverErrorCode } from '../receiver/driver.js';

/** Where the agent's socket is when neither `--socket` nor `--config` says: `<dataDir>/agent.sock` for the
 * two data dirs in use (`/var/lib/ruralsat`, and `/var/lib/ruralsat/agent` of a provisioned config). */
export const DEFAULT_SOCKET_PATHS = ['/var/lib/ruralsat/agent.sock', '/var/lib/ruralsat/agent/agent.sock'];

/** An agent that takes longer than this to answer `status` or `hold` is not answering. */
export const AGENT_ANSWER_TIMEOUT_MS = 5000;

export type AgentSocketErrorCode =
  /** No socket at the path: the agent is not running (or uses another data dir). */
  | 'NO_AGENT'
  /** A socket file is there but nobody answers (a stale socket after a crash, or a hung agent). */
  | 'AGENT_NOT_ANSWERING'
  /** The socket is there but this user may not use it (0660 in the agent's data dir). */
  | 'PERMISSION_DENIED'
  /** Someone else holds the station. */
  | 'HELD_BY_OTHER'
  /** A change without the hold (it ran out meanwhile). */
  | 'NOT_HELD'
  /** The agent records (or shows) something on this receiver; `--force` to change it anyway. */
  | 'RECORDING_RUNNING'
  /** The agent refused the request (e.g. a service that is not in its applied schedule). */
  | 'AGENT_REFUSED'
  /** The agent failed or answered something this CLI does not understand. */
  | 'AGENT_ERROR';

/** A failure on the agent route, with what to try. */
export class AgentSocketError extends Error {
  override readonly name = 'AgentSocketError';
  constructor(
    readonly code: AgentSocketErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const Answer = z.union([
  z.looseObject({ ok: z.literal(true), result: z.unknown() }),
  z.looseObject({ ok: z.literal(false), error: z.looseObject({ code: z.string(), message: z.string() }) }),
]);

/** The agent's `status` answer (device/link/agent-control.ts), as far as the CLI reads it. */
export const AgentStatus = z.looseObject({
  state: z.looseObject({ maintenance: MaintenanceHold.optional() }),
  running: z.array(
    z.looseObject({
      entryId: z.string(),
      nominalStart: z.string(),
      state: z.string(),
      receiverId: z.string().nullable(),
      service: z.string().nullable(),
    }),
  ),
});
export type AgentStatus = z.infer<typeof AgentStatus>;
export type HoldInfo = z.infer<typeof MaintenanceHold>;

export const Status = z.looseObject({
  locked: z.boolean(),
  levelRaw: z.number().nullable(),
  cnDb: z.number().nullable(),
  marginDb: z.number().nullable(),
  ber: z.number().nullable(),
  alarms: z.array(z.string()),
  lnb: z.enum(['ok', 'short', 'no-load', 'off', 'unknown']),
  tuned: z.looseObject({ frequencyMHz: z.number(), polarisation: z.string() }).nullable(),
  serviceId: z.number().nullable(),
});
export const Identity = z.looseObject({
  family: z.string(),
  model: z.string(),
  firmware: z.string().nullable(),
  serial: z.string().nullable(),
  address: z.number(),
});
export const Released = z.looseObject({ released: z.boolean() });
export const RawReply = z.looseObject({ reply: z.string() });

function connectError(sockPath: string, err: NodeJS.ErrnoException): AgentSocketError {
  const direct = 'if the agent is stopped, --direct opens the port itself';
  switch (err.code) {
    case 'ENOENT':
      return new AgentSocketError(
        'NO_AGENT',
        `no agent control socket at ${sockPath}`,
        `is the agent running (systemctl status ruralsat-agent)? ${direct}`,
      );
    case 'ECONNREFUSED':
      return new AgentSocketError(
        'AGENT_NOT_ANSWERING',
        `${sockPath} is there but no agent is listening on it (left by an agent that crashed?)`,
        `check systemctl status ruralsat-agent; ${direct}`,
      );
    case 'EACCES':
    case 'EPERM':
      return new AgentSocketError(
        'PERMISSION_DENIED',
        `permission denied on ${sockPath}`,
        `the socket is for the agent's user and group (ls -l ${sockPath}): join that group or use sudo`,
      );
    case 'ENOTSOCK':
      return new AgentSocketError('AGENT_NOT_ANSWERING', `${sockPath} is not a socket`, direct);
    default:
      return new AgentSocketError(
        'AGENT_NOT_ANSWERING',
        `cannot connect to ${sockPath}: ${err.message}`,
        direct,
      );
  }
}

/** A `RECEIVER_ERROR` answer carries `CODE: message`: rebuilt as the `ReceiverError` the direct port raises. */
function receiverErrorOf(message: string): ReceiverError | null {
  const m = /^([A-Z_]+): ([\s\S]*)$/.exec(message);
  const code = m?.[1];
  if (!m || !code || !(RECEIVER_ERROR_CODES as readonly string[]).includes(code)) return null;
  return new ReceiverError(code as ReceiverErrorCode, m[2] ?? '');
}

/** One request over a fresh connection to the agent's socket; the `result`, or a typed error. */
export function controlRequest(sockPath: string, request: object, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(sockPath);
    let buf = '';
    let connected = false;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new AgentSocketError(
              'AGENT_NOT_ANSWERING',
              `the agent at ${sockPath} did not answer within ${Math.round(timeoutMs / 1000)} s`,
              'it may be hung: check systemctl status ruralsat-agent and its log',
            ),
          ),
        ),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let json: unknown;
      try {
        json = JSON.parse(buf.slice(0, nl));
      } catch {
        json = undefined;
      }
      const answer = Answer.safeParse(json);
      finish(() => {
        if (!answer.success) {
          reject(
            new AgentSocketError('AGENT_ERROR', `the agent at ${sockPath} answered something unreadable`),
          );
        } else if (answer.data.ok) {
          resolve(answer.data.result);
        } else {
          reject(answerError(answer.data.error));
        }
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(() =>
        reject(
          connected
            ? new AgentSocketError('AGENT_NOT_ANSWERING', `${sockPath}: ${err.message}`)
            : connectError(sockPath, err),
        ),
      ),
    );
    socket.on('close', () =>
      finish(() =>
        reject(
          new AgentSocketError('AGENT_NOT_ANSWERING', `the agent at ${sockPath} closed without an answer`),
        ),
      ),
    );
  });
}

function answerError(e: { code: string; message: string }): Error {
  switch (e.code) {
    case 'RECEIVER_ERROR':
      return receiverErrorOf(e.message) ?? new AgentSocketError('AGENT_ERROR', e.message);
    case 'HELD_BY_OTHER':
      return new AgentSocketError(
        'HELD_BY_OTHER',
        `the station is ${e.message}`,
        'wait until it ends, ask them, or end it with: ruralsat-rx release --force',
      );
    case 'NOT_HELD':
      return new AgentSocketError(
        'NOT_HELD',
        e.message,
        'the maintenance hold ran out or was released meanwhile: run the command again',
      );
    case 'BAD_REQUEST':
      return new AgentSocketError('AGENT_REFUSED', e.message);
    default:
      return new AgentSocketError('AGENT_ERROR', `the agent failed: ${e.message}`);
  }
}

/** `value` checked against `schema`, or `AGENT_ERROR` naming what was unexpected. */
export function parsed<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AgentSocketError('AGENT_ERROR', `unexpected ${what} from the agent`);
  return r.data;
}
