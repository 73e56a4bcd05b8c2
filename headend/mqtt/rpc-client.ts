/**
 * The headend's side of RPC (DESIGN.md §4 "RPC"): a request `{rid, method, params, ttlMs, sentAt}` on
 * `st/{id}/rpc/req` (QoS 1, not retained), the answer matched by `rid` on `st/{id}/rpc/res`. A station that
 * is disconnected is answered "disconnected since …" AT ONCE; every wait is bounded by the request's ttl;
 * params are checked before sending and results after receiving (protocol/messages/rpc*.ts), so a caller
 * always gets `{ok: true, result}` or `{ok: false, error: {code, message}}`, never an exception.
 *
 * The periodic clock exchange (DESIGN.md §6 "Clock") also lives here: the headend initiates `clock.exchange`
 * (a station may only write its own topics), computes offset and round trip with NTP's on-wire arithmetic
 * (RFC 5905 §8), keeps the minimum-RTT sample of the last few, and hands that estimate back in the next
 * exchange — which is how the station learns its offset and marks its recordings clock-trusted.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { decodePayload } from '../../protocol/messages/decode.js';
import { checkRpcResult, type RpcError, RpcResponse } from '../../protocol/messages/rpc.js';
import { RPC_SCHEMAS, type RpcParams, type RpcResult } from '../../protocol/messages/rpc-methods.js';
import type { RpcMethod } from '../../protocol/registry.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Topics } from '../../protocol/topics.js';

/** One answer. */
export type RpcAnswer<M extends RpcMethod> =
  | { ok: true; result: RpcResult<M> }
  | { ok: false; error: RpcError };

/** What the client needs of the MQTT connection and of presence. */
export interface RpcClientDeps {
  transport: {
    readonly connected: boolean;
    publish(topic: string, payload: string, options: { qos: 1; retain: false }): Promise<void>;
  };
  topics: Topics;
  /** The station's connection and since when (presence). */
  presenceOf(
    stationId: string,
  ): { connection: 'online' | 'disconnected' | 'unknown'; since: string } | undefined;
  timing: Pick<TimingProfile, 'rpcDefaultTtlMs' | 'clockExchangeMs'>;
  logger: Logger;
  now?: () => Date;
  /** After every successful clock exchange (the alarm engine's clock rule). */
  onClock?: (stationId: string, estimate: ClockEstimate) => void;
}

/** The station's clock as the headend measured it. */
export interface ClockEstimate {
  /** Station clock minus headend clock, ms (minimum-RTT sample of the last `CLOCK_FILTER`). */
  offsetMs: number;
  rttMs: number;
  samples: number;
  measuredAt: string;
}

/** Time-to-live of one clock exchange. */
const CLOCK_EXCHANGE_TTL_MS = 2000;

/** Samples the minimum-RTT filter looks at (NTP's clock filter keeps 8, RFC 5905 §10). */
export const CLOCK_FILTER = 8;

export interface RpcClient {
  call<M extends RpcMethod>(
    stationId: string,
    method: M,
    params: RpcParams<M>,
    opts?: { rid?: string; ttlMs?: number },
  ): Promise<RpcAnswer<M>>;
  /** Routes one `rpc/res` payload (never throws). */
  handleResponse(stationId: string, payload: Buffer): void;
  /** Runs a clock exchange with the station now (e.g. right after its birth), then periodically. */
  exchangeClock(stationId: string): Promise<ClockEstimate | null>;
  clockOf(stationId: string): ClockEstimate | undefined;
  /** Starts the periodic exchanges with every online station. */
  startClockExchanges(stations: () => string[]): void;
  /** Fails every pending call with DISCONNECTED (the headend lost the broker). */
  failPending(reason: string): void;
  /**
   * Fails the pending calls to one station with DISCONNECTED at once (presence says it went away: its Will
   * or the broker's drop). Without it a technician would wait out the whole ttl for an answer that cannot
   * come (issue 8: "a disconnected station answers 'disconnected since …' at once instead of hanging").
   * Returns how many calls were failed.
   */
  failStation(stationId: string, reason: string): number;
  stop(): void;
  stats(): { pending: number; sent: number; answered: number; timeouts: number; late: number };
}

interface Pending {
  stationId: string;
  method: RpcMethod;
  resolve: (a: RpcAnswer<RpcMethod>) => void;
  timer: NodeJS.Timeout;
}

const fail = (code: RpcError['code'], message: string): { ok: false; error: RpcError } => ({
  ok: false,
  error: { code, message: message.slice(0, 1000) },
});

export function createRpcClient(deps: RpcClientDeps): RpcClient {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  const pending = new Map<string, Pending>();
  const counters = { sent: 0, answered: 0, timeouts: 0, late: 0 };
  const samples = new Map<string, { offsetMs: number; rttMs: number }[]>();
  const estimates = new Map<string, ClockEstimate>();
  const exchanging = new Set<string>();
  let clockTimer: NodeJS.Timeout | null = null;

  const client: RpcClient = {
    async call(stationId, method, params, opts = {}) {
      const checked = RPC_SCHEMAS[method].params.safeParse(params);
      if (!checked.success)
        return fail('INVALID_PARAMS', `invalid params for ${method}: ${checked.error.message}`);
      const p = deps.presenceOf(stationId);
      if (p?.connection !== 'online') {
        const since = p?.connection === 'disconnected' ? `disconnected since ${p.since}` : 'not connected';
        return fail('DISCONNECTED', `${stationId} is ${since}`);
      }
      if (!deps.transport.connected)
        return fail('DISCONNECTED', 'the headend is not connected to the broker');
      const rid = opts.rid ?? randomBytes(12).toString('base64url');
      const ttlMs = opts.ttlMs ?? deps.timing.rpcDefaultTtlMs;
      const sentAt = now().toISOString();
      const answer = new Promise<RpcAnswer<RpcMethod>>((resolve) => {
        // The station answers EXPIRED rather than act late; waiting a little past the ttl lets that answer in.
        const timer = setTimeout(() => {
          pending.delete(rid);
          counters.timeouts++;
          resolve(fail('TIMEOUT', `${stationId} did not answer ${method} within ${ttlMs} ms`));
        }, ttlMs + 500);
        timer.unref();
        pending.set(rid, { stationId, method, resolve, timer });
      });
      try {
        await deps.transport.publish(
          deps.topics.rpcReq(stationId),
          JSON.stringify({ rid, method, params: checked.data, ttlMs, sentAt }),
          { qos: 1, retain: false },
        );
        counters.sent++;
      } catch (err) {
        const p2 = pending.get(rid);
        if (p2) {
          clearTimeout(p2.timer);
          pending.delete(rid);
          p2.resolve(fail('DISCONNECTED', `could not send to ${stationId}: ${(err as Error).message}`));
        }
      }
      return answer as Promise<RpcAnswer<typeof method>>;
    },

    handleResponse(stationId, payload) {
      const d = decodePayload(RpcResponse, payload);
      if (!d.ok) {
        log.warn(
          { event: 'rpc-response-invalid', stationId, err: d.error.message },
          'invalid RPC response dropped',
        );
        return;
      }
      const res = d.value;
      const p = pending.get(res.rid);
      if (!p || p.stationId !== stationId) {
        counters.late++;
        log.info(
          { event: 'rpc-response-late', stationId, rid: res.rid },
          'RPC response for no pending request',
        );
        return;
      }
      pending.delete(res.rid);
      clearTimeout(p.timer);
      counters.answered++;
      if (!res.ok) return p.resolve({ ok: false, error: res.error });
      const r = checkRpcResult(p.method, res.result);
      p.resolve(r.ok ? { ok: true, result: r.value } : r);
    },

    async exchangeClock(stationId) {
      if (exchanging.has(stationId)) return estimates.get(stationId) ?? null;
      exchanging.add(stationId);
      try {
        const prev = estimates.get(stationId);
        const t1 = now().getTime();
        const params = {
          t1,
          ...(prev
            ? { estimate: { offsetMs: prev.offsetMs, rttMs: prev.rttMs, samples: prev.samples } }
            : {}),
        };
        // A short ttl: a lost exchange is simply the next period's job (and a slow one is a bad sample).
        const a = await client.call(stationId, 'clock.exchange', params, {
          ttlMs: Math.min(deps.timing.rpcDefaultTtlMs, CLOCK_EXCHANGE_TTL_MS),
        });
        if (!a.ok) return null;
        const t4 = now().getTime();
        const { t2, t3 } = a.result;
        const offsetMs = (t2 - t1 + (t3 - t4)) / 2;
        const rttMs = Math.max(0, t4 - t1 - (t3 - t2));
        const list = samples.get(stationId) ?? [];
        list.push({ offsetMs, rttMs });
        if (list.length > CLOCK_FILTER) list.shift();
        samples.set(stationId, list);
        const best = list.reduce((b, s) => (s.rttMs < b.rttMs ? s : b));
        const est: ClockEstimate = {
          offsetMs: Math.round(best.offsetMs),
          rttMs: best.rttMs,
          samples: (prev?.samples ?? 0) + 1,
          measuredAt: new Date(t4).toISOString(),
        };
        estimates.set(stationId, est);
        deps.onClock?.(stationId, est);
        return est;
      } finally {
        exchanging.delete(stationId);
      }
    },

    clockOf: (stationId) => estimates.get(stationId),

    startClockExchanges(stations) {
      if (clockTimer) return;
      const period = Math.max(100, deps.timing.clockExchangeMs);
      clockTimer = setInterval(() => {
        for (const id of stations()) void client.exchangeClock(id);
      }, period);
      clockTimer.unref();
    },

    failPending(reason) {
      for (const [rid, p] of pending) {
        clearTimeout(p.timer);
        pending.delete(rid);
        p.resolve(fail('DISCONNECTED', reason));
      }
    },

    failStation(stationId, reason) {
      let n = 0;
      for (const [rid, p] of pending) {
        if (p.stationId !== stationId) continue;
        clearTimeout(p.timer);
        pending.delete(rid);
        p.resolve(fail('DISCONNECTED', reason));
        n++;
      }
      if (n > 0) log.info({ event: 'rpc-failed-disconnect', stationId, calls: n }, reason);
      return n;
    },

    stop() {
      if (clockTimer) clearInterval(clockTimer);
      clockTimer = null;
      client.failPending('the headend is stopping');
    },

    stats: () => ({ pending: pending.size, ...counters }),
  };
  return client;
}
