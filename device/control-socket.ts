/**
 * The agent's local control socket for the on-site CLI (DESIGN.md §6 "On-site CLI"): a Unix socket that
 * speaks JSON lines. When the agent runs, the technician's CLI goes through here instead of opening the
 * receiver's half-duplex port itself, so agent and CLI never fight over the port.
 *
 * Requests: one JSON object per line, `{id?, cmd, ...}`; answers: one line `{id, ok: true, result}` or
 * `{id, ok: false, error: {code, message}}`. Commands:
 * - `status`: what the agent is doing (schedule, clock, receivers, running occurrences, hold).
 * - `hold {holder, durationMs?, reason?}`: takes (or renews) the maintenance hold for `durationMs`
 *   (default `maintenanceHoldMs`, capped at `maintenanceHoldMaxMs`): the executor pauses — it tunes
 *   nothing and starts nothing new; recordings already running go on — and the headend sees the hold in
 *   the station's state. The hold ends by itself at its time limit, so a forgotten laptop cannot stop the
 *   station for good; closing the connection does not end it (the technician may reconnect).
 * - `release {holder?}`: ends the hold now.
 * - `receiver {op, ...}`: receiver access for the CLI: `status` and `identify` at any time; `tune`,
 *   `select`, `lnb`, `reset`, `raw` only while a hold is active (otherwise the executor owns the receiver).
 *
 * The socket file is created with mode 0660 inside the agent's data dir: access is the Unix permission.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from './link/clock.js';

/** Longest request line accepted (a tune request is well under 1 KiB). */
export const MAX_LINE_BYTES = 64 * 1024;

const Holder = z.string().min(1).max(64);

/** Receiver operations over the socket. */
export const ReceiverOp = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('status') }),
  z.strictObject({ op: z.literal('identify') }),
  /** Tune a line-up service (by key, from the applied schedule's tuning) and select it. */
  z.strictObject({ op: z.literal('tune'), service: z.string().min(1).max(64) }),
  z.strictObject({ op: z.literal('select'), serviceId: z.number().int().min(1).max(65535) }),
  z.strictObject({ op: z.literal('lnb'), on: z.boolean() }),
  z.strictObject({ op: z.literal('reset') }),
  z.strictObject({ op: z.literal('raw'), line: z.string().min(1).max(512) }),
]);
export type ReceiverOp = z.infer<typeof ReceiverOp>;

/** One request line. */
export const ControlRequest = z.discriminatedUnion('cmd', [
  z.strictObject({ id: z.union([z.string(), z.number()]).optional(), cmd: z.literal('status') }),
  z.strictObject({
    id: z.union([z.string(), z.number()]).optional(),
    cmd: z.literal('hold'),
    holder: Holder,
    durationMs: z.number().int().positive().optional(),
    reason: z.string().max(200).optional(),
  }),
  z.strictObject({
    id: z.union([z.string(), z.number()]).optional(),
    cmd: z.literal('release'),
    holder: Holder.optional(),
  }),
  z.strictObject({
    id: z.union([z.string(), z.number()]).optional(),
    cmd: z.literal('receiver'),
    receiverId: z.string().min(1).max(64).optional(),
    request: ReceiverOp,
  }),
]);
export type ControlRequest = z.infer<typeof ControlRequest>;

/** Error codes of the control socket. */
export type ControlErrorCode = 'BAD_REQUEST' | 'NOT_HELD' | 'HELD_BY_OTHER' | 'RECEIVER_ERROR' | 'INTERNAL';

/** A typed failure the agent's handlers throw to answer `{ok:false}`. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The hold as reported in the station state (protocol/messages/state.ts `MaintenanceHold`). */
export interface HoldInfo {
  holder: string;
  until: string;
  reason?: string;
}

/** The time-limited maintenance hold. */
export class MaintenanceHold {
  private current: { holder: string; untilMs: number; reason?: string } | null = null;
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly limits: { defaultMs: number; maxMs: number },
    /** Called when the hold starts, is renewed, or ends (the agent republishes its state). */
    private readonly onChange: (hold: HoldInfo | null) => void,
  ) {}

  /** The hold in force, or null. */
  info(): HoldInfo | null {
    if (!this.current) return null;
    return {
      holder: this.current.holder,
      until: new Date(this.current.untilMs).toISOString(),
      ...(this.current.reason ? { reason: this.current.reason } : {}),
    };
  }

  get active(): boolean {
    return this.current !== null;
  }

  /** Takes or renews the hold; another holder's hold is refused until it ends or is released. */
  take(holder: string, durationMs: number | undefined, reason?: string): HoldInfo {
    if (this.current && this.current.holder !== holder) {
      throw new ControlError('HELD_BY_OTHER', `held by ${this.current.holder} until ${this.info()?.until}`);
    }
    const ms = Math.min(durationMs ?? this.limits.defaultMs, this.limits.maxMs);
    this.current = { holder, untilMs: this.clock.now() + ms, ...(reason ? { reason } : {}) };
    this.cancelTimer?.();
    this.cancelTimer = this.clock.schedule(ms, () => {
      this.cancelTimer = null;
      this.current = null;
      this.onChange(null);
    });
    const info = this.info() as HoldInfo;
    this.onChange(info);
    return info;
  }

  /** Ends the hold (any holder when `holder` is omitted). Returns whether one was released. */
  release(holder?: string): boolean {
    if (!this.current) return false;
    if (holder !== undefined && holder !== this.current.holder) {
      throw new ControlError('HELD_BY_OTHER', `held by ${this.current.holder}, not ${holder}`);
    }
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.current = null;
    this.onChange(null);
    return true;
  }

  /** Stops the timer (agent shutdown). */
  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }
}

/** What the socket asks of the agent. */
export interface ControlHandlers {
  status(): unknown;
  receiver(receiverId: string | undefined, op: ReceiverOp, held: boolean): Promise<unknown>;
}

export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

/** Opens the control socket at `path` (a stale socket file left by a crash is replaced). */
export async function openControlSocket(opts: {
  path: string;
  hold: MaintenanceHold;
  handlers: ControlHandlers;
  logger: Logger;
}): Promise<ControlSocket> {
  const { path: sockPath, hold, handlers, logger } = opts;
  const clients = new Set<net.Socket>();

  const handle = async (line: string): Promise<unknown> => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return { ok: false, error: { code: 'BAD_REQUEST', message: 'not JSON' } };
    }
    const parsed = ControlRequest.safeParse(json);
    const id = (json as { id?: unknown } | null)?.id;
    const idPart = typeof id === 'string' || typeof id === 'number' ? { id } : {};
    if (!parsed.success) {
      return { ...idPart, ok: false, error: { code: 'BAD_REQUEST', message: z.prettifyError(parsed.error) } };
    }
    const req = parsed.data;
    try {
      switch (req.cmd) {
        case 'status':
          return { ...idPart, ok: true, result: handlers.status() };
        case 'hold': {
          const info = hold.take(req.holder, req.durationMs, req.reason);
          logger.info({ hold: info }, 'maintenance hold taken');
          return { ...idPart, ok: true, result: info };
        }
        case 'release': {
          const released = hold.release(req.holder);
          logger.info({ released }, 'maintenance hold released');
          return { ...idPart, ok: true, result: { released } };
        }
        case 'receiver': {
          const mutating = req.request.op !== 'status' && req.request.op !== 'identify';
          if (mutating && !hold.active) {
            throw new ControlError('NOT_HELD', `take the maintenance hold before "${req.request.op}"`);
          }
          return {
            ...idPart,
            ok: true,
            result: await handlers.receiver(req.receiverId, req.request, hold.active),
          };
        }
      }
    } catch (err) {
      const code: ControlErrorCode = err instanceof ControlError ? err.code : 'INTERNAL';
      return { ...idPart, ok: false, error: { code, message: (err as Error).message } };
    }
  };

  // allowHalfOpen: a one-shot client (`echo '{…}' | socat - UNIX-CONNECT:…`) sends its line and shuts its
  // side; the answer must still go out before we close ours.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    clients.add(socket);
    let buf = '';
    let chain = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE_BYTES && !buf.includes('\n')) {
        socket.end(
          `${JSON.stringify({ ok: false, error: { code: 'BAD_REQUEST', message: 'line too long' } })}\n`,
        );
        buf = '';
        return;
      }
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) {
          // Answers in request order, one at a time (receiver requests are serial anyway).
          chain = chain.then(async () => {
            const answer = await handle(line);
            if (!socket.destroyed) socket.write(`${JSON.stringify(answer)}\n`);
          });
        }
        nl = buf.indexOf('\n');
      }
    });
    socket.on('end', () => {
      void chain.then(() => socket.end());
    });
    socket.on('error', () => undefined);
    socket.on('close', () => clients.delete(socket));
  });

  await removeStaleSocket(sockPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sockPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(sockPath, 0o660);
  logger.info({ path: sockPath }, 'control socket listening');
  return {
    path: sockPath,
    async close() {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(sockPath, { force: true });
    },
  };
}

/** A socket file nobody listens on (left by a crash) is removed; a live one is an error (agent running twice). */
async function removeStaleSocket(p: string): Promise<void> {
  if (!fs.existsSync(p)) return;
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect(p);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new Error(`${p} is in use: is another agent running with this data dir?`);
  fs.rmSync(p, { force: true });
}
