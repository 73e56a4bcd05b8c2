/**
 * Stations (issue 6): the fleet board's rows with live state, one station's page (its plan for the next
 * days with each occurrence's outcome and reason, what actually ran, its recordings and recent events), its
 * telemetry history, and registry edits for admins. Operators see only the stations they own; asking for
 * another township's station is 403 STATION_FORBIDDEN.
 */
import { z } from 'zod';
import { describeOutcome } from '../../../protocol/planner/index.js';
import { occurrenceStatuses } from '../../fleet/ingest.js';
import { StationPatch } from '../../store/stations.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, requireStationAccess, visibleStations } from '../auth.js';
import { type ApiContext, need } from '../context.js';
import { Limit, QueryInstant, StationLiveView, StationParams } from './schemas.js';
import { stationLive } from './station-view.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

const ListQuery = z.strictObject({
  county: z.string().max(63).optional(),
  /** Include revoked stations (admins). */
  revoked: z.enum(['true', 'false']).optional(),
});

const PlanQuery = z
  .strictObject({ from: QueryInstant.optional(), to: QueryInstant.optional() })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.to) > Date.parse(q.from), {
    path: ['to'],
    message: 'to must be after from',
  })
  .refine(
    (q) => q.from === undefined || q.to === undefined || Date.parse(q.to) - Date.parse(q.from) <= 31 * DAY,
    {
      path: ['to'],
      message: 'a plan window is at most 31 days',
    },
  );

const EventsQuery = z.strictObject({
  limit: Limit(500, 100),
  type: z.string().max(64).optional(),
  /** Only events before this time (paging back). */
  before: QueryInstant.optional(),
});

const TelemetryQuery = z.strictObject({
  from: QueryInstant.optional(),
  to: QueryInstant.optional(),
  metric: z.string().max(64).optional(),
});

const PlanOccurrenceView = z.object({
  entryId: z.string(),
  title: z.string(),
  kind: z.string(),
  class: z.string(),
  service: z.string(),
  record: z.boolean(),
  nominalStart: z.string(),
  nominalEnd: z.string(),
  receiverId: z.string(),
  outcome: z.enum(['planned', 'shared', 'truncated', 'dropped']),
  reason: z
    .object({
      code: z.string(),
      by: z.object({ entryId: z.string(), nominalStart: z.string(), title: z.string() }),
    })
    .nullable(),
  /** `truncated (by "County meeting" at …)`. */
  text: z.string(),
  parts: z.array(z.object({ start: z.string(), end: z.string() })),
  /** What the station reported doing (null until it reported). */
  execution: z.object({ state: z.string(), reason: z.string().nullable(), at: z.string() }).nullable(),
  recording: z
    .object({
      recordingId: z.string(),
      status: z.string(),
      quality: z.number().nullable(),
      bytes: z.number().nullable(),
    })
    .nullable(),
});

export function stationRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const { store } = ctx;

  api.add({
    method: 'get',
    path: '/stations',
    tag: 'stations',
    summary: 'The fleet board: every station you may see, with presence, versions, signal, activity, alarms',
    access: 'fleet.read',
    query: ListQuery,
    response: z.array(StationLiveView),
    handler({ me, query }) {
      const all = store.stations.list({
        ...(query.county ? { county: query.county } : {}),
        includeRevoked: query.revoked === 'true',
      });
      const visible = new Set(
        visibleStations(
          me,
          all.map((s) => s.id),
        ),
      );
      return all.filter((s) => visible.has(s.id)).map((s) => stationLive(ctx, s));
    },
  });

  api.add({
    method: 'get',
    path: '/stations/:id',
    tag: 'stations',
    summary: 'One station: live state plus its registry entry (receivers, dish, groups)',
    access: 'fleet.read',
    params: StationParams,
    handler({ me, params }) {
      requireStationAccess(me, params.id);
      const s = store.stations.require(params.id);
      return {
        ...stationLive(ctx, s),
        dishM: s.dishM,
        receiversConfig: s.receivers.map((r) => ({
          id: r.id,
          family: r.family,
          sharing: r.sharing,
          transport: r.transport,
        })),
        groups: store.groups.groupsOf(s.id),
        hasCredential: s.hasCredential,
        createdAt: s.createdAt,
        updatedAt: s.updatedAt,
      };
    },
  });

  api.add({
    method: 'patch',
    path: '/stations/:id',
    tag: 'stations',
    summary: "Edit a station's registry entry (name, county, position, dish, receivers, tags)",
    access: 'stations.manage',
    params: StationParams,
    body: StationPatch,
    response: StationLiveView,
    audited: true,
    handler({ me, params, body }) {
      const before = store.stations.require(params.id);
      const after = store.transaction(() => {
        const s = store.stations.update(params.id, body);
        store.audit.record({
          actor: actorOf(me),
          action: 'station.update',
          target: params.id,
          details: {
            before: {
              name: before.name,
              county: before.county,
              lat: before.lat,
              lon: before.lon,
              dishM: before.dishM,
              receivers: before.receivers,
              tags: before.tags,
            },
            after: {
              name: s.name,
              county: s.county,
              lat: s.lat,
              lon: s.lon,
              dishM: s.dishM,
              receivers: s.receivers,
              tags: s.tags,
            },
          },
        });
        return s;
      });
      ctx.onStationsChanged?.(actorOf(me));
      ctx.sse.publish({ type: 'station', stations: [after.id], data: stationLive(ctx, after) });
      return stationLive(ctx, after);
    },
  });

  api.add({
    method: 'get',
    path: '/stations/:id/plan',
    tag: 'stations',
    summary:
      "The station's plan (default: yesterday to a week ahead) with each occurrence's outcome, reason and what ran",
    description:
      'Planned by the same pure planner the station runs, on the newest document issued to it, so a ' +
      '"truncated (by X)" here is what the station will do. Execution states come from its events.',
    access: 'fleet.read',
    params: StationParams,
    query: PlanQuery,
    handler({ me, params, query }) {
      requireStationAccess(me, params.id);
      store.stations.require(params.id);
      const sched = need(ctx.scheduling, 'scheduling');
      const t = ctx.now().getTime();
      const from = query.from ?? iso(t - DAY);
      const to = query.to ?? iso(Date.parse(from) + 8 * DAY);
      const plan = sched.preview.stationPlan(params.id, { from, to });
      const statuses = new Map(
        occurrenceStatuses(store, { stationId: params.id, limit: 5000 }).map((r) => [
          `${r.entryId}@${r.nominalStart}`,
          r,
        ]),
      );
      const recordings = new Map(
        store.recordings
          .list({ stationId: params.id, limit: 2000 })
          .filter((r) => r.entryId && r.occurrenceStart)
          .map((r) => [`${r.entryId}@${r.occurrenceStart}`, r]),
      );
      const occurrences = (plan?.occurrences ?? []).map((o) => {
        const k = `${o.entryId}@${o.nominalStart}`;
        const ex = statuses.get(k);
        const rec = recordings.get(k);
        return {
          entryId: o.entryId,
          title: o.title,
          kind: o.kind,
          class: o.class,
          service: o.service,
          record: o.record,
          nominalStart: o.nominalStart,
          nominalEnd: o.nominalEnd,
          receiverId: o.receiverId,
          outcome: o.outcome,
          reason: o.reason,
          text: describeOutcome(o),
          parts: o.parts,
          execution: ex ? { state: ex.state, reason: ex.reason, at: ex.at } : null,
          recording: rec
            ? {
                recordingId: rec.recordingId,
                status: rec.status,
                quality: rec.quality ?? null,
                bytes: rec.bytes ?? null,
              }
            : null,
        };
      });
      return {
        stationId: params.id,
        timeZone: plan?.timeZone ?? ctx.timeZone,
        window: { from, to },
        documentVersion: plan?.documentVersion ?? null,
        occurrences,
      };
    },
    response: z.object({
      stationId: z.string(),
      timeZone: z.string(),
      window: z.object({ from: z.string(), to: z.string() }),
      documentVersion: z.object({ epoch: z.number(), n: z.number() }).nullable(),
      occurrences: z.array(PlanOccurrenceView),
    }),
  });

  api.add({
    method: 'get',
    path: '/stations/:id/events',
    tag: 'events',
    summary: "The station's recent events, newest first (occurrence states, recordings, alarms, schedule)",
    access: 'fleet.read',
    params: StationParams,
    query: EventsQuery,
    handler({ me, params, query }) {
      requireStationAccess(me, params.id);
      store.stations.require(params.id);
      const where = ['station_id = ?'];
      const args: (string | number)[] = [params.id];
      if (query.type) {
        where.push('type = ?');
        args.push(query.type);
      }
      if (query.before) {
        where.push('COALESCE(at, received_at) < ?');
        args.push(query.before);
      }
      args.push(query.limit);
      const rows = store.db
        .prepare(
          `SELECT store_id, seq, type, at, payload, received_at FROM events WHERE ${where.join(' AND ')}
           ORDER BY COALESCE(at, received_at) DESC, seq DESC LIMIT ?`,
        )
        .all(...args) as {
        store_id: string;
        seq: number;
        type: string;
        at: string | null;
        payload: string;
        received_at: string;
      }[];
      return rows.map((r) => {
        let data: unknown = null;
        try {
          data = JSON.parse(r.payload);
        } catch {
          data = null;
        }
        return { storeId: r.store_id, seq: r.seq, type: r.type, at: r.at, receivedAt: r.received_at, data };
      });
    },
  });

  api.add({
    method: 'get',
    path: '/stations/:id/telemetry',
    tag: 'stations',
    summary: 'Per-minute telemetry (count/min/avg/max per receiver and metric), default the last 24 h',
    access: 'fleet.read',
    params: StationParams,
    query: TelemetryQuery,
    handler({ me, params, query }) {
      requireStationAccess(me, params.id);
      store.stations.require(params.id);
      const fleet = need(ctx.fleet, 'fleet telemetry');
      const to = query.to ? Date.parse(query.to) : ctx.now().getTime();
      const from = query.from ? Date.parse(query.from) : to - DAY;
      return fleet.telemetry.rows(params.id, from, Math.min(to, from + 31 * DAY), query.metric).map((r) => ({
        minute: iso(r.minuteMs),
        subject: r.subject,
        metric: r.metric,
        n: r.n,
        min: r.min,
        avg: r.avg,
        max: r.max,
      }));
    },
  });

  api.add({
    method: 'get',
    path: '/stations/:id/history',
    tag: 'stations',
    summary: 'Presence history: each connect and disconnect as received, newest first',
    access: 'fleet.read',
    params: StationParams,
    query: z.strictObject({ limit: Limit(1000, 100) }),
    handler({ me, params, query }) {
      requireStationAccess(me, params.id);
      store.stations.require(params.id);
      return store.stateHistory
        .history(params.id, query.limit)
        .map((r) => ({ at: r.at, online: r.online, boot: r.boot }));
    },
  });
}
