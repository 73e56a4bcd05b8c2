/**
 * RPC envelopes (`ruralsat/v1/st/{id}/rpc/req` headend → station, `…/rpc/res` station → headend, QoS 1,
 * not retained, DESIGN.md §4). A request carries `rid`, `ttlMs` and `sentAt`: the station judges expiry
 * with its measured clock offset and answers `EXPIRED` instead of acting late; the rids of methods with
 * side effects are journalled so a redelivered request is answered from the journal, never run twice.
 */
import { z } from 'zod';
import { RPC_METHOD_NAMES, RpcErrorCode, type RpcMethod } from '../registry.js';
import { Id, UtcTimestamp } from './common.js';
import { RPC_SCHEMAS, type RpcParams } from './rpc-methods.js';

/** Longest time-to-live a request may ask for. */
export const MAX_RPC_TTL_MS = 10 * 60_000;

const envelope = {
  /** Request id, unique per request; the response echoes it. */
  rid: Id,
  ttlMs: z.number().int().min(1).max(MAX_RPC_TTL_MS),
  /** Headend clock when sent. */
  sentAt: UtcTimestamp,
};

function requestOf<M extends RpcMethod>(method: M) {
  return z.strictObject({ ...envelope, method: z.literal(method), params: RPC_SCHEMAS[method].params });
}

const requests = RPC_METHOD_NAMES.map((m) => requestOf(m));

/** A complete, valid request: the method is known and its params are valid. */
export const RpcRequest = z.discriminatedUnion(
  'method',
  requests as unknown as [
    ReturnType<typeof requestOf<RpcMethod>>,
    ...ReturnType<typeof requestOf<RpcMethod>>[],
  ],
);
export type RpcRequest = {
  [M in RpcMethod]: { rid: string; ttlMs: number; sentAt: string; method: M; params: RpcParams<M> };
}[RpcMethod];

/**
 * The envelope alone, with method and params unchecked: what a station parses first, so that a request
 * with an unknown method or bad params still gets an error response naming its `rid`.
 */
export const RpcRequestEnvelope = z.strictObject({
  ...envelope,
  method: z.string().min(1).max(64),
  params: z.unknown(),
});
export type RpcRequestEnvelope = z.infer<typeof RpcRequestEnvelope>;

export const RpcError = z.strictObject({
  code: RpcErrorCode,
  message: z.string().min(1).max(1000),
  /** Machine-readable detail, e.g. schema issues for INVALID_PARAMS. */
  details: z.unknown().optional(),
});
export type RpcError = z.infer<typeof RpcError>;

export const RpcSuccess = z.strictObject({ rid: Id, ok: z.literal(true), result: z.unknown() });
export const RpcFailure = z.strictObject({ rid: Id, ok: z.literal(false), error: RpcError });

/** A response. `result` is checked against the method's schema by the caller, who knows the method by rid. */
export const RpcResponse = z.discriminatedUnion('ok', [RpcSuccess, RpcFailure]);
export type RpcResponse = z.infer<typeof RpcResponse>;

/** Typed error from validating method params or a result. */
export type RpcCheck<T> = { ok: true; value: T } | { ok: false; error: RpcError };

/**
 * Validates a request envelope's method and params (station side). Never throws: an unknown method gives
 * `UNKNOWN_METHOD`, bad params `INVALID_PARAMS` with the issues in `details`.
 */
export function checkRpcRequest(req: RpcRequestEnvelope): RpcCheck<RpcRequest> {
  if (!Object.hasOwn(RPC_SCHEMAS, req.method)) {
    return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `unknown method ${req.method}` } };
  }
  const parsed = RpcRequest.safeParse(req);
  if (!parsed.success) {
    return {
      ok: false,
      error: {
        code: 'INVALID_PARAMS',
        message: `invalid params for ${req.method}: ${z.prettifyError(parsed.error)}`.slice(0, 1000),
        details: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
      },
    };
  }
  return { ok: true, value: parsed.data as RpcRequest };
}

/** Validates a successful response's result against the method's schema (headend side). Never throws. */
export function checkRpcResult<M extends RpcMethod>(
  method: M,
  result: unknown,
): RpcCheck<z.infer<(typeof RPC_SCHEMAS)[M]['result']>> {
  const parsed = RPC_SCHEMAS[method].result.safeParse(result);
  if (!parsed.success) {
    return {
      ok: false,
      error: {
        code: 'INTERNAL',
        message: `station returned an invalid ${method} result: ${z.prettifyError(parsed.error)}`.slice(
          0,
          1000,
        ),
        details: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
      },
    };
  }
  return { ok: true, value: parsed.data as z.infer<(typeof RPC_SCHEMAS)[M]['result']> };
}

/**
 * Has the request outlived its ttl? `nowMs` is the station clock and `offsetMs` its measured offset
 * against the headend (station − headend, DESIGN.md §6), so both sides of the comparison are headend time.
 */
export function rpcExpired(req: { sentAt: string; ttlMs: number }, nowMs: number, offsetMs: number): boolean {
  return nowMs - offsetMs - Date.parse(req.sentAt) > req.ttlMs;
}
