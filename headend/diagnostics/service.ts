/**
 * The headend side of remote diagnostics (DESIGN.md §4 RPC, §6; issue 8): a person's call → role check →
 * the station RPC (headend/mqtt/rpc-client.ts: params checked against the protocol, a disconnected station
 * answered "disconnected since …" at once, every wait bounded by the ttl, the result checked) → ONE audit
 * row with who, method, params, the outcome and (up to a size) the result, and the request id the station
 * journals (its `rpc.executed` event carries the same rid). Operators may not call; the control room may
 * call the read-only methods (access.ts).
 */
import { randomBytes } from 'node:crypto';
import type { RpcError } from '../../protocol/messages/rpc.js';
import type { RpcParams, RpcResult } from '../../protocol/messages/rpc-methods.js';
import type { RpcPort } from '../http/context.js';
import type { Role } from '../users/roles.js';
import { type DiagnosticMethod, isRemedy, mayCall } from './access.js';

/** A refused call (role), distinct from the station's own errors. */
export class DiagnosticsError extends Error {
  override readonly name = 'DiagnosticsError';
  constructor(
    readonly code: 'FORBIDDEN',
    message: string,
  ) {
    super(message);
  }
}

/** One call's outcome. */
export type DiagnosticsAnswer<M extends DiagnosticMethod> = {
  rid: string;
  method: M;
  tookMs: number;
} & ({ ok: true; result: RpcResult<M> } | { ok: false; error: RpcError });

export interface DiagnosticsDeps {
  rpc: RpcPort;
  audit: {
    record(e: { actor: string; action: string; target?: string; details?: Record<string, unknown> }): number;
  };
  /** Monotonic ms, for the duration. */
  monotonic?: () => number;
  /** Largest result (JSON characters) copied into the audit row whole; larger ones are summarised. */
  auditResultChars?: number;
}

export interface Diagnostics {
  /** Runs `method` on `stationId` as `actor` with `role`; throws DiagnosticsError when the role may not. */
  run<M extends DiagnosticMethod>(call: {
    actor: string;
    role: Role;
    stationId: string;
    method: M;
    params: RpcParams<M>;
    ttlMs?: number;
  }): Promise<DiagnosticsAnswer<M>>;
  stats(): { calls: Record<string, { ok: number; failed: number }>; refused: number };
}

const DEFAULT_AUDIT_RESULT_CHARS = 4000;

/** What an audit row keeps of a result: the whole result when small, else its shape and a prefix. */
export function auditResult(result: unknown, maxChars: number): Record<string, unknown> {
  const json = JSON.stringify(result) ?? 'null';
  if (json.length <= maxChars) return { result };
  return { resultTruncated: true, resultChars: json.length, resultHead: json.slice(0, maxChars) };
}

/**
 * A ttl for methods whose work itself takes time (a probe captures for `durationMs`, then runs ffprobe; a
 * retention sweep deletes files): the default ttl would expire them while they run.
 */
function workTtl(method: DiagnosticMethod, params: unknown): number | undefined {
  if (method === 'stream.probe') return ((params as { durationMs?: number }).durationMs ?? 5000) + 15_000;
  if (
    method === 'recordings.retention' ||
    method === 'receiver.reset' ||
    method === 'receiver.lnb' ||
    method === 'receiver.retune'
  )
    return 60_000;
  return undefined;
}

export function createDiagnostics(deps: DiagnosticsDeps): Diagnostics {
  const mono = deps.monotonic ?? (() => performance.now());
  const max = deps.auditResultChars ?? DEFAULT_AUDIT_RESULT_CHARS;
  const calls: Record<string, { ok: number; failed: number }> = {};
  let refused = 0;
  return {
    async run(c) {
      if (!mayCall(c.role, c.method)) {
        refused++;
        deps.audit.record({
          actor: c.actor,
          action: `rpc.${c.method}`,
          target: c.stationId,
          details: { params: c.params, ok: false, refused: `role ${c.role} may not call ${c.method}` },
        });
        throw new DiagnosticsError(
          'FORBIDDEN',
          `the ${c.role} role may not run diagnostics (technicians and admins may)`,
        );
      }
      const rid = randomBytes(12).toString('base64url');
      const t0 = mono();
      const ttlMs = c.ttlMs ?? workTtl(c.method, c.params);
      const answer = await deps.rpc.call(c.stationId, c.method, c.params, {
        rid,
        ...(ttlMs ? { ttlMs } : {}),
      });
      const tookMs = Math.round(mono() - t0);
      const tally = calls[c.method] ?? { ok: 0, failed: 0 };
      calls[c.method] = tally;
      if (answer.ok) tally.ok++;
      else tally.failed++;
      deps.audit.record({
        actor: c.actor,
        action: `rpc.${c.method}`,
        target: c.stationId,
        details: {
          rid,
          params: c.params,
          sideEffects: isRemedy(c.method),
          ok: answer.ok,
          tookMs,
          ...(answer.ok ? auditResult(answer.result, max) : { error: answer.error }),
        },
      });
      return answer.ok
        ? { rid, method: c.method, tookMs, ok: true, result: answer.result as RpcResult<typeof c.method> }
        : { rid, method: c.method, tookMs, ok: false, error: answer.error };
    },
    stats: () => ({ calls: structuredClone(calls), refused }),
  };
}
