/**
 * Video conferences (issue 7; DESIGN.md §1): the control room creates, edits, starts now, extends, ends
 * early and cancels conferences pushed to all stations, counties or a list; everyone who may read the fleet
 * watches the live attendance board and downloads the attendance report (JSON or CSV).
 *
 * Who may do what (headend/users/roles.ts):
 * - `entries.control` (control room, admin): every change.
 * - `fleet.read` (technicians, operators too): read. An operator sees only conferences reaching one of
 *   their stations, and of those only their own stations' rows, warnings and report lines.
 * Live updates go out on the SSE stream as `conference` messages: one per changed station row (so the
 * stream's per-station filter applies) and one per lifecycle change (id and phase only; clients refetch).
 */
import { z } from 'zod';
import { Id } from '../../../protocol/messages/common.js';
import {
  type BoardRow,
  ConferenceError,
  ConferenceInput,
  ConferencePatch,
  type Conferences,
  ConferenceView,
  countByCounty,
  ExtendInput,
  reportCsv,
  restrictReport,
} from '../../conferences/index.js';
import { isStationScoped } from '../../users/roles.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, canSeeStation, type Principal, requireStationAccess } from '../auth.js';
import { type ApiContext, need } from '../context.js';
import { HttpError, notFound } from '../errors.js';

const Params = z.strictObject({ id: Id });
const ListQuery = z.strictObject({
  phase: z.enum(['scheduled', 'pre-roll', 'live', 'ended', 'cancelled']).optional(),
  station: z.string().max(63).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** The service's typed errors as HTTP problems (inner scheduling errors pass to the error middleware). */
function http<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConferenceError) {
      if (err.code === 'NOT_FOUND') throw notFound(err.message);
      if (err.code === 'CONFLICT') throw new HttpError(409, 'CONFLICT', err.message);
      throw new HttpError(400, 'VALIDATION_FAILED', err.message, { issues: err.issues });
    }
    throw err;
  }
}

/** What a caller is shown of a conference: operators only their own stations. */
function viewFor(me: Principal, c: ConferenceView): ConferenceView {
  if (!isStationScoped(me.user.role)) return c;
  const mine = (id: string) => canSeeStation(me, id);
  return {
    ...c,
    stations: c.stations.filter(mine),
    warnings: c.warnings.filter((w) => mine(w.stationId)),
    target:
      c.target.type === 'stations'
        ? { type: 'stations', stationIds: c.target.stationIds.filter(mine) }
        : c.target,
  };
}

/** Registers the routes; returns the remover of the live-update listeners. */
export function conferenceRoutes(api: ApiRegistry, ctx: ApiContext): () => void {
  const svc = (): Conferences => need(ctx.conferences, 'conferences');

  const visible = (me: Principal, id: string): ConferenceView => {
    const c = svc().get(id);
    if (!c || (isStationScoped(me.user.role) && !c.stations.some((s) => canSeeStation(me, s))))
      throw notFound(`no conference ${id}`);
    return c;
  };
  const saved = (me: Principal, r: ReturnType<Conferences['create']>) => ({
    conference: viewFor(me, r.conference),
    issued: r.issued.filter((i) => canSeeStation(me, i.stationId)),
    warnings: r.warnings.filter((w) => canSeeStation(me, w.stationId)),
  });

  api.add({
    method: 'get',
    path: '/conferences',
    tag: 'conferences',
    summary: 'Conferences, newest first (operators: those reaching their stations)',
    access: 'fleet.read',
    query: ListQuery,
    response: z.array(ConferenceView),
    handler({ me, query }) {
      if (query.station) requireStationAccess(me, query.station);
      return svc()
        .list({
          ...(query.phase ? { phase: query.phase } : {}),
          ...(query.station ? { stationId: query.station } : {}),
          limit: query.limit,
        })
        .filter((c) => !isStationScoped(me.user.role) || c.stations.some((s) => canSeeStation(me, s)))
        .map((c) => viewFor(me, c));
    },
  });

  api.add({
    method: 'post',
    path: '/conferences',
    tag: 'conferences',
    summary: 'Create a conference: its target stations get new schedule documents at once',
    description:
      'Targets: all stations, one or more counties, or a list. Stations tune `preRollMs` before the start ' +
      '(default: the timing profile, 5 min), verify lock and report readiness. Answers the sun-outage ' +
      'warnings of target stations and the stations that got a new document.',
    access: 'entries.control',
    body: ConferenceInput,
    status: 201,
    audited: true,
    handler: ({ me, req }) =>
      saved(
        me,
        http(() => svc().create(req.body, actorOf(me))),
      ),
  });

  api.add({
    method: 'get',
    path: '/conferences/:id',
    tag: 'conferences',
    summary: 'One conference',
    access: 'fleet.read',
    params: Params,
    response: ConferenceView,
    handler: ({ me, params }) => viewFor(me, visible(me, params.id)),
  });

  api.add({
    method: 'patch',
    path: '/conferences/:id',
    tag: 'conferences',
    summary:
      'Edit a conference (before it starts: anything; while it runs: title, organiser, notes, targets)',
    access: 'entries.control',
    params: Params,
    body: ConferencePatch,
    audited: true,
    handler: ({ me, req, params }) =>
      saved(
        me,
        http(() => svc().update(params.id, req.body, actorOf(me))),
      ),
  });

  const action = (
    path: string,
    summary: string,
    run: (id: string, actor: string, body: unknown) => ReturnType<Conferences['create']>,
    body?: z.ZodType,
  ) =>
    api.add({
      method: 'post',
      path: `/conferences/:id/${path}`,
      tag: 'conferences',
      summary,
      access: 'entries.control',
      params: Params,
      ...(body ? { body } : {}),
      audited: true,
      handler: ({ me, req, params }) =>
        saved(
          me,
          http(() => run(params.id, actorOf(me), req.body)),
        ),
    });
  action('start-now', 'Start a scheduled conference now (stations tune at once)', (id, actor) =>
    svc().startNow(id, actor),
  );
  action(
    'extend',
    'Extend a conference by `minutes` or to a new `end`; the running occurrence keeps going (one recording)',
    (id, actor, body) => svc().extend(id, body, actor),
    ExtendInput,
  );
  action('end-now', 'End a running conference now', (id, actor) => svc().endNow(id, actor));
  action('cancel', 'Cancel a conference; its stations get documents without it', (id, actor) =>
    svc().cancel(id, actor),
  );

  api.add({
    method: 'get',
    path: '/conferences/:id/attendance',
    tag: 'conferences',
    summary: 'The live attendance board: every target station’s status, margin and reason; counts per county',
    description:
      'Statuses: offline, not_applied, scheduled, tuning, ready (locked, margin), receiving (live margin, ' +
      '`streaming` when recorded), failed (`reasonCode` + `detail`), ended, cancelled. Updates arrive on ' +
      '`/api/v1/stream` as `conference` messages.',
    access: 'fleet.read',
    params: Params,
    handler({ me, params }) {
      visible(me, params.id);
      const board = http(() => svc().board(params.id));
      if (!isStationScoped(me.user.role)) return board;
      const rows = board.rows.filter((r) => canSeeStation(me, r.stationId));
      const county = new Map(rows.map((r) => [r.stationId, r.county]));
      return {
        ...board,
        conference: viewFor(me, board.conference),
        rows,
        counts: countByCounty(rows, (id) => county.get(id) ?? ''),
      };
    },
  });

  api.add({
    method: 'get',
    path: '/conferences/:id/report',
    tag: 'conferences',
    summary: 'Attendance report: per station the share received with lock and stream, recording and quality',
    access: 'fleet.read',
    params: Params,
    handler({ me, params }) {
      visible(me, params.id);
      const r = http(() => svc().report(params.id));
      return isStationScoped(me.user.role) ? restrictReport(r, (id) => canSeeStation(me, id)) : r;
    },
  });

  api.add({
    method: 'get',
    path: '/conferences/:id/report.csv',
    tag: 'conferences',
    summary: 'The attendance report as CSV (UTF-8 with BOM), per station then totals per county',
    access: 'fleet.read',
    params: Params,
    responseType: 'text/csv',
    handler({ me, res, params }) {
      visible(me, params.id);
      let r = http(() => svc().report(params.id));
      if (isStationScoped(me.user.role)) r = restrictReport(r, (id) => canSeeStation(me, id));
      res
        .status(200)
        .type('text/csv; charset=utf-8')
        .set('content-disposition', `attachment; filename="attendance-${params.id}.csv"`)
        .send(reportCsv(r));
      return undefined;
    },
  });

  api.add({
    method: 'get',
    path: '/conferences/:id/delivery',
    tag: 'conferences',
    summary: 'When each station got the conference: pushed at, first seen applied at, and the delay',
    access: 'fleet.read',
    params: Params,
    handler({ me, params }) {
      visible(me, params.id);
      return svc()
        .applyTimes(params.id)
        .filter((x) => canSeeStation(me, x.stationId))
        .map((x) => ({
          ...x,
          delayMs: x.appliedSeenAt === null ? null : Date.parse(x.appliedSeenAt) - Date.parse(x.pushedAt),
        }));
    },
  });

  // Live updates: rows per station (the stream filters them per user), lifecycle changes per conference.
  const conferences = ctx.conferences;
  if (!conferences) return () => undefined;
  const stationInfo = (id: string) => {
    const s = ctx.store.stations.get(id);
    return { name: s?.name ?? id, county: s?.county ?? '' };
  };
  const offRows = conferences.onRows((conferenceId, rows) => {
    for (const r of rows) {
      const row: BoardRow = { ...r, ...stationInfo(r.stationId) };
      ctx.sse.publish({ type: 'conference', stations: [r.stationId], data: { conferenceId, row } });
    }
  });
  const offChange = conferences.onChange((c) => {
    ctx.sse.publish({
      type: 'conference',
      stations: c.conference.stations,
      data: { conferenceId: c.conference.id, op: c.op, rev: c.conference.rev, phase: c.conference.phase },
    });
  });
  return () => {
    offRows();
    offChange();
  };
}
