/**
 * The technician's station routes (issue 8): remote diagnostics over RPC (DESIGN.md §4 RPC, §6) — every
 * call audited with who, method, params and result; a disconnected station answered at once; operators
 * refused — the signal history the station page charts (24 h / 7 days), and the station's sun-outage
 * calendar (DOMAIN.md §2). Registered by api-router.ts next to the other route files.
 */
import { z } from 'zod';
import { RPC_SCHEMAS } from '../../../protocol/messages/rpc-methods.js';
import { RPC_METHODS } from '../../../protocol/registry.js';
import { DIAGNOSTIC_METHODS, isRemedy, mayCall, methodsFor } from '../../diagnostics/access.js';
import { DiagnosticsError } from '../../diagnostics/service.js';
import { SIGNAL_RANGES, type SignalRange, signalHistory } from '../../diagnostics/signal-history.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, requireStationAccess } from '../auth.js';
import { type ApiContext, need } from '../context.js';
import { HttpError, zodIssues } from '../errors.js';
import { StationParams } from './schemas.js';

const MethodView = z.object({
  method: z.enum(DIAGNOSTIC_METHODS),
  summary: z.string(),
  sideEffects: z.boolean(),
});

const SignalQuery = z.strictObject({
  range: z.enum(Object.keys(SIGNAL_RANGES) as [SignalRange, ...SignalRange[]]).default('24h'),
});

const SunQuery = z.strictObject({ year: z.coerce.number().int().min(2000).max(2100).optional() });

/** HTTP status of a station's RPC error. */
function statusOf(code: string): number {
  if (code === 'DISCONNECTED') return 503;
  if (code === 'TIMEOUT' || code === 'EXPIRED') return 504;
  if (code === 'INVALID_PARAMS') return 400;
  if (code === 'NOT_FOUND') return 404;
  if (code === 'BUSY' || code === 'MAINTENANCE_HOLD') return 409;
  return 502;
}

export function diagnosticsRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const { store } = ctx;

  api.add({
    method: 'get',
    path: '/diagnostics/methods',
    tag: 'diagnostics',
    summary: 'The diagnostics methods you may run, with what each does and whether it changes the station',
    access: 'user',
    response: z.array(MethodView),
    handler: ({ me }) =>
      methodsFor(me.user.role).map((m) => ({
        method: m,
        summary: RPC_METHODS[m].summary,
        sideEffects: isRemedy(m),
      })),
  });

  api.add({
    method: 'post',
    path: '/stations/:id/diagnostics/:method',
    tag: 'diagnostics',
    summary: 'Run a diagnostics RPC on the station (receiver status, reset, LNB power, stream probe, logs…)',
    description:
      `Methods: ${DIAGNOSTIC_METHODS.join(', ')}. The body is the method's params (protocol/messages/rpc-methods.ts). ` +
      'A disconnected station answers 503 RPC_DISCONNECTED at once; every wait is bounded by the ttl (504 ' +
      'RPC_TIMEOUT). Every call — read-only or not — is written to the audit log with its params and result.',
    // Signed-in users get this far so that a refused attempt is audited too (issue 8: "each call is
    // audited"); who may actually run diagnostics (`diagnostics.run`) is decided just below.
    access: 'fleet.read',
    audited: true,
    params: StationParams.extend({ method: z.enum(DIAGNOSTIC_METHODS) }),
    body: z.record(z.string(), z.unknown()).optional(),
    async handler({ me, params, body }) {
      const refuse = (why: string, message: string): never => {
        store.audit.record({
          actor: actorOf(me),
          action: `rpc.${params.method}`,
          target: params.id,
          details: { params: auditable(body), ok: false, refused: why },
        });
        throw new HttpError(403, 'FORBIDDEN', message);
      };
      if (!mayCall(me.user.role, params.method))
        refuse(
          `role ${me.user.role} may not call ${params.method}`,
          `the ${me.user.role} role may not run diagnostics (technicians and admins may)`,
        );
      try {
        requireStationAccess(me, params.id);
      } catch (err) {
        if (err instanceof HttpError && err.status === 403)
          refuse(`no access to station ${params.id}`, err.message);
        throw err;
      }
      store.stations.require(params.id);
      const tech = need(ctx.technician, 'diagnostics');
      const method = params.method;
      const parsed = RPC_SCHEMAS[method].params.safeParse(body ?? {});
      if (!parsed.success)
        throw new HttpError(400, 'VALIDATION_FAILED', `invalid params of ${method}`, {
          issues: zodIssues(parsed.error),
        });
      let answer: Awaited<ReturnType<typeof tech.diagnostics.run>>;
      try {
        answer = await tech.diagnostics.run({
          actor: actorOf(me),
          role: me.user.role,
          stationId: params.id,
          method,
          // zod checked it against this method's params schema just above.
          params: parsed.data as never,
        });
      } catch (err) {
        if (err instanceof DiagnosticsError) throw new HttpError(403, 'FORBIDDEN', err.message);
        throw err;
      }
      if (!answer.ok) {
        throw new HttpError(statusOf(answer.error.code), `RPC_${answer.error.code}`, answer.error.message, {
          details: { rpcError: answer.error, rid: answer.rid },
        });
      }
      return { method, rid: answer.rid, tookMs: answer.tookMs, result: answer.result };
    },
  });

  api.add({
    method: 'get',
    path: '/stations/:id/signal',
    tag: 'stations',
    summary: 'Signal history for the charts: margin, C/N, level, lock ratio, bitrate, disk (24 h or 7 days)',
    description:
      'Buckets of 1 minute (24h) or 10 minutes (7d) with min, average and max, from the per-minute telemetry ' +
      "(live samples and the station's offline summaries). Also the sun-outage windows in the range.",
    access: 'fleet.read',
    params: StationParams,
    query: SignalQuery,
    handler({ me, params, query }) {
      requireStationAccess(me, params.id);
      store.stations.require(params.id);
      const toMs = ctx.now().getTime();
      const history = signalHistory(store.db, params.id, query.range, toMs);
      const outages = (ctx.technician?.calendar.windows(params.id, Date.parse(history.from), toMs) ?? []).map(
        (w) => ({ start: new Date(w.startMs).toISOString(), end: new Date(w.endMs).toISOString() }),
      );
      return { ...history, outages };
    },
  });

  api.add({
    method: 'get',
    path: '/stations/:id/sun-outages',
    tag: 'stations',
    summary: "The station's predicted sun-outage windows for a year, grouped in seasons (DOMAIN.md §2)",
    access: 'fleet.read',
    params: StationParams,
    query: SunQuery,
    handler({ me, params, query }) {
      requireStationAccess(me, params.id);
      store.stations.require(params.id);
      const tech = need(ctx.technician, 'sun-outage calendar');
      const nowMs = ctx.now().getTime();
      const year = query.year ?? new Date(nowMs).getUTCFullYear();
      const c = tech.calendar.calendar(params.id, year);
      const iso = (ms: number) => new Date(ms).toISOString();
      if (!c.ok)
        return { station: params.id, year, ok: false, code: c.code, message: c.message, windows: [] };
      const next =
        tech.calendar.windows(params.id, nowMs, nowMs + 400 * 86_400_000).find((w) => w.endMs > nowMs) ??
        null;
      return {
        station: params.id,
        year,
        ok: true,
        next: next ? { start: iso(next.startMs), end: iso(next.endMs), peak: iso(next.peakMs) } : null,
        windows: c.windows.map((w) => ({
          start: iso(w.startMs),
          end: iso(w.endMs),
          peak: iso(w.peakMs),
          durationS: Math.round(w.durationS),
        })),
      };
    },
  });
}

/** A refused call's body as the audit keeps it: the params object, or nothing (never echoed unbounded). */
function auditable(body: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!body) return {};
  const text = JSON.stringify(body);
  return text.length <= 2000 ? body : { truncated: text.slice(0, 2000) };
}
