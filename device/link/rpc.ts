/**
 * Station side of the diagnostics RPC (`st/{id}/rpc/req` → `st/{id}/rpc/res`, DESIGN.md §4 "RPC", §6).
 *
 * - Every request gets an answer naming its `rid` when its rid can be read at all; garbage without one is
 *   a counted drop.
 * - Expiry is judged in headend time: the station clock corrected by the measured offset (`rpcExpired`).
 *   `clock.exchange` is never judged expired: it is how a wrong clock gets found out.
 * - The rids of methods with side effects (registry `sideEffects`) are claimed in SQLite BEFORE the method
 *   runs and completed with the response after (with the `rpc.executed` event, one transaction). A
 *   redelivery is answered from the journal and never runs twice — also when the agent died while it ran
 *   (then the answer is BUSY naming when it started, and nothing is re-run: at most once is the safe side
 *   for reset, LNB power and delete). Expired and refused answers are journalled too.
 * - While the on-site CLI holds maintenance, methods that touch the receiver are refused
 *   (`MAINTENANCE_HOLD`): the technician has the half-duplex port (DESIGN.md §6 "On-site CLI").
 */
import type { Logger } from 'pino';
import { decodePayload } from '../../protocol/messages/decode.js';
import {
  checkRpcRequest,
  type RpcError,
  type RpcRequest,
  RpcRequestEnvelope,
  RpcResponse,
  rpcExpired,
} from '../../protocol/messages/rpc.js';
import type { RpcParams, RpcResult } from '../../protocol/messages/rpc-methods.js';
import { hasSideEffects, type RpcErrorCode, type RpcMethod } from '../../protocol/registry.js';
import type { StationStore } from '../store/db.js';

/** A typed failure a handler throws to answer `{ok:false, error}` with a specific code. */
export class RpcFailure extends Error {
  override readonly name = 'RpcFailure';
  constructor(
    readonly code: RpcErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Extra facts a handler may need. */
export interface RpcContext {
  rid: string;
  /** Station clock when the request arrived (T2 of a clock exchange). */
  receivedAt: number;
}

/** Handlers by method; a method without one is answered `REFUSED` (not implemented by this agent). */
export type RpcHandlers = {
  [M in RpcMethod]?: (params: RpcParams<M>, ctx: RpcContext) => Promise<RpcResult<M>> | RpcResult<M>;
};

/** The rid journal (device/store `rpc_rids`), as the dispatcher needs it. */
export interface RidJournalPort {
  /**
   * Atomically claims `rid` before the method runs, or reports what an earlier delivery did: `done` with
   * its response, or `running` (still running, or the agent died while it ran).
   */
  claim(
    rid: string,
    method: RpcMethod,
  ): { status: 'claimed' } | { status: 'done'; response: unknown } | { status: 'running'; since: string };
  /** Stores the response of a claimed rid and the `rpc.executed` event, in one transaction. */
  complete(rid: string, method: RpcMethod, response: RpcResponse): void;
}

export interface RpcDispatcherOptions {
  handlers: RpcHandlers;
  rids: RidJournalPort;
  /** Station wall clock. */
  now: () => number;
  /** Measured offset (station − headend), 0 when unknown. */
  offsetMs: () => number;
  /** Maintenance hold active (receiver methods refused). */
  maintenanceHeld: () => boolean;
  /** Publishes the response (QoS 1). */
  respond: (response: RpcResponse) => Promise<void>;
  logger: Logger;
}

/** Methods that drive the receiver's port (refused during a maintenance hold). */
const RECEIVER_METHODS: ReadonlySet<RpcMethod> = new Set([
  'receiver.status',
  'receiver.info',
  'receiver.retune',
  'receiver.reset',
  'receiver.lnb',
]);

export interface RpcStats {
  handled: number;
  dropped: number;
  expired: number;
  replayed: number;
}

export class RpcDispatcher {
  readonly stats: RpcStats = { handled: 0, dropped: 0, expired: 0, replayed: 0 };

  constructor(private readonly opts: RpcDispatcherOptions) {}

  /** Handles one payload from `rpc/req`. Never throws; resolves when the answer is published (or dropped). */
  async handle(payload: Uint8Array): Promise<void> {
    const receivedAt = this.opts.now();
    const response = await this.answer(payload, receivedAt);
    if (!response) return;
    try {
      await this.opts.respond(response);
    } catch (err) {
      // The headend bounds its wait; a retry with the same rid is answered from the journal.
      this.opts.logger.warn({ rid: response.rid, err: (err as Error).message }, 'rpc response not published');
    }
  }

  private async answer(payload: Uint8Array, receivedAt: number): Promise<RpcResponse | null> {
    const env = decodePayload(RpcRequestEnvelope, payload);
    if (!env.ok) {
      const rid = sniffRid(payload);
      if (!rid) {
        this.stats.dropped++;
        this.opts.logger.warn({ err: env.error.message }, 'rpc request without a readable rid dropped');
        return null;
      }
      return fail(rid, 'INVALID_PARAMS', `bad request envelope: ${env.error.message}`);
    }
    const req = env.value;
    this.stats.handled++;
    this.opts.logger.debug({ rid: req.rid, method: req.method }, 'rpc request');
    const method = req.method as RpcMethod;
    const checked = checkRpcRequest(req);
    if (!checked.ok) return { rid: req.rid, ok: false, error: checked.error };
    if (!hasSideEffects(method)) return this.execute(checked.value, receivedAt);

    let claim: ReturnType<RidJournalPort['claim']>;
    try {
      claim = this.opts.rids.claim(req.rid, method);
    } catch (err) {
      this.opts.logger.error({ rid: req.rid, err }, 'rpc journal unavailable');
      return fail(req.rid, 'INTERNAL', 'could not journal the request, so it was not run');
    }
    if (claim.status !== 'claimed') {
      this.stats.replayed++;
      this.opts.logger.info({ rid: req.rid, method, claim: claim.status }, 'redelivered rpc not re-run');
      if (claim.status === 'done') {
        const stored = RpcResponse.safeParse(claim.response);
        if (stored.success) return stored.data;
        return fail(req.rid, 'INTERNAL', 'this request already ran; its stored answer is unreadable');
      }
      return fail(
        req.rid,
        'BUSY',
        `this request has been running since ${claim.since} (or the agent stopped while it ran); it is not run again`,
      );
    }
    const response = await this.execute(checked.value, receivedAt);
    try {
      this.opts.rids.complete(req.rid, method, response);
    } catch (err) {
      this.opts.logger.error({ rid: req.rid, err }, 'rpc result not journalled');
    }
    return response;
  }

  /** Expiry, maintenance hold, then the handler. */
  private async execute(req: RpcRequest, receivedAt: number): Promise<RpcResponse> {
    const method = req.method;
    if (method !== 'clock.exchange' && rpcExpired(req, receivedAt, this.opts.offsetMs())) {
      this.stats.expired++;
      return fail(
        req.rid,
        'EXPIRED',
        `sent at ${req.sentAt} with ttl ${req.ttlMs} ms: expired before it arrived`,
      );
    }
    if (RECEIVER_METHODS.has(method) && this.opts.maintenanceHeld()) {
      return fail(req.rid, 'MAINTENANCE_HOLD', 'a technician holds the receiver on site (maintenance hold)');
    }
    const handler = this.opts.handlers[method] as
      | ((p: unknown, ctx: RpcContext) => Promise<unknown> | unknown)
      | undefined;
    if (!handler) return fail(req.rid, 'REFUSED', `${method} is not implemented by this agent version`);
    try {
      const result = await handler(req.params, { rid: req.rid, receivedAt });
      return { rid: req.rid, ok: true, result };
    } catch (err) {
      if (err instanceof RpcFailure) {
        return { rid: req.rid, ok: false, error: errorOf(err.code, err.message, err.details) };
      }
      this.opts.logger.error({ rid: req.rid, method, err }, 'rpc handler failed');
      return fail(req.rid, 'INTERNAL', (err as Error).message || 'internal error');
    }
  }
}

function errorOf(code: RpcErrorCode, message: string, details?: unknown): RpcError {
  return { code, message: message.slice(0, 1000) || code, ...(details !== undefined ? { details } : {}) };
}

function fail(rid: string, code: RpcErrorCode, message: string): RpcResponse {
  return { rid, ok: false, error: errorOf(code, message) };
}

/** The rid of a request whose envelope is invalid, when it is a valid id (so the error can be answered). */
function sniffRid(payload: Uint8Array): string | null {
  try {
    const rid = (JSON.parse(Buffer.from(payload).toString('utf8')) as { rid?: unknown }).rid;
    return typeof rid === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(rid) ? rid : null;
  } catch {
    return null;
  }
}

/** The rid journal on the station store: claim before running; the answer and its event in one commit. */
export function storeRidJournal(
  store: Pick<StationStore, 'rpc' | 'outbox' | 'transaction'>,
  now: () => number,
  committed: () => void,
): RidJournalPort {
  return {
    claim: (rid, method) => store.rpc.claim(rid, method, new Date(now()).toISOString()),
    complete: (rid, method, response) => {
      const at = new Date(now()).toISOString();
      store.transaction((tx) => {
        store.rpc.complete(rid, response, at);
        store.outbox.appendEvent(tx, {
          type: 'rpc.executed',
          at,
          rid,
          method,
          ok: response.ok,
          ...(response.ok ? {} : { errorCode: response.error.code }),
        });
      });
      committed();
    },
  };
}
