/**
 * Schedule entries (issue 6; DESIGN.md §1, §5): recordings (one-off, weekly, a guide programme, a series by
 * title) and conferences, targeted at a station, a list, a county, a group or all; a planner preview of the
 * outcome at every touched station BEFORE saving; edits with optimistic concurrency (`expectedRev`).
 *
 * Who may do what (headend/users/roles.ts):
 * - `entries.control` (control room, admin): anything, any target.
 * - otherwise (operators): operator-class recordings only, targeted at their own station(s) only; they may
 *   edit and delete such entries, never a conference or a mandated recording, never another township's.
 * Each save is one transaction with its audit row (before/after) and the new document versions.
 */
import { z } from 'zod';
import { Id } from '../../../protocol/messages/common.js';
import type { EntryView, SaveResult } from '../../scheduling/entries.js';
import { EntryInput, EntryPatch, type Target } from '../../scheduling/entry-schema.js';
import { isStationScoped, roleCan } from '../../users/roles.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, canSeeStation, type Principal, requireStationAccess } from '../auth.js';
import { type ApiContext, need } from '../context.js';
import { conflict, HttpError, notFound } from '../errors.js';
import { QueryInstant } from './schemas.js';

const Params = z.strictObject({ id: Id });
const ListQuery = z.strictObject({
  station: z.string().max(63).optional(),
  deleted: z.enum(['true', 'false']).optional(),
});
const WindowQuery = z.strictObject({ from: QueryInstant.optional(), to: QueryInstant.optional() });
const DeleteQuery = z.strictObject({ expectedRev: z.coerce.number().int().min(1).optional() });

const forbiddenEntry = (message: string) => new HttpError(403, 'ENTRY_FORBIDDEN', message);

/** An operator may target only their own stations, by name. */
function checkTarget(me: Principal, target: Target): void {
  if (!isStationScoped(me.user.role)) return;
  const ids =
    target.type === 'station' ? [target.stationId] : target.type === 'stations' ? target.stationIds : null;
  if (ids === null)
    throw forbiddenEntry(`an operator may target only their own stations, not ${target.type}`);
  for (const id of ids) requireStationAccess(me, id);
}

/** May the caller create/keep an entry of this kind and class? */
function checkKind(me: Principal, kind: string, cls: string): void {
  if (roleCan(me.user.role, 'entries.control')) return;
  if (kind !== 'recording' || cls !== 'operator')
    throw forbiddenEntry(`a ${me.user.role} may schedule only operator recordings, not a ${cls} ${kind}`);
}

/** May the caller change this existing entry? */
function checkOwnEntry(me: Principal, e: EntryView): void {
  if (roleCan(me.user.role, 'entries.control')) return;
  checkKind(me, e.kind, e.class);
  checkTarget(me, e.target);
}

/** What an operator is shown of an entry: only the stations they may see. */
function viewFor(me: Principal, e: EntryView): EntryView {
  if (!isStationScoped(me.user.role)) return e;
  const stations = e.stations.filter((s) => canSeeStation(me, s));
  const target: Target =
    e.target.type === 'stations'
      ? { type: 'stations', stationIds: e.target.stationIds.filter((s) => canSeeStation(me, s)) }
      : e.target;
  return { ...e, stations, target };
}

function resultFor(me: Principal, r: SaveResult) {
  return {
    entry: viewFor(me, r.entry),
    issued: r.issued.filter((i) => canSeeStation(me, i.stationId)),
    unchanged: r.unchanged.filter((s) => canSeeStation(me, s)),
    warnings: r.warnings.filter((w) => canSeeStation(me, w.stationId)),
  };
}

export function entryRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const sched = () => need(ctx.scheduling, 'scheduling');

  const published = (r: SaveResult, op: string) => {
    const stations = [...new Set([...r.entry.stations, ...r.issued.map((i) => i.stationId)])];
    ctx.sse.publish({
      type: 'schedule',
      stations,
      data: { op, entryId: r.entry.id, rev: r.entry.rev, title: r.entry.title, stations, issued: r.issued },
    });
  };

  const visibleEntry = (me: Principal, id: string): EntryView => {
    const e = sched().scheduling.get(id);
    if (!e || (isStationScoped(me.user.role) && !e.stations.some((s) => canSeeStation(me, s))))
      throw notFound(`no entry ${id}`);
    return e;
  };

  api.add({
    method: 'get',
    path: '/entries',
    tag: 'entries',
    summary: 'Entries (operators: those reaching their stations), newest first',
    access: 'fleet.read',
    query: ListQuery,
    handler({ me, query }) {
      if (query.station) requireStationAccess(me, query.station);
      const all = sched().scheduling.list({
        ...(query.station ? { stationId: query.station } : {}),
        includeDeleted: query.deleted === 'true',
      });
      return all
        .filter((e) => !isStationScoped(me.user.role) || e.stations.some((s) => canSeeStation(me, s)))
        .map((e) => viewFor(me, e));
    },
  });

  api.add({
    method: 'get',
    path: '/entries/:id',
    tag: 'entries',
    summary: 'One entry',
    access: 'fleet.read',
    params: Params,
    handler: ({ me, params }) => viewFor(me, visibleEntry(me, params.id)),
  });

  api.add({
    method: 'post',
    path: '/entries/preview',
    tag: 'entries',
    summary: 'Preview a new entry: the outcome at every station it reaches, before saving (nothing is saved)',
    description:
      'Answers, per station, the new entry\'s occurrences with outcome and reason ("truncated (by X)"), every ' +
      'other occurrence whose outcome the entry would change, and warnings. Window default: now → 7 days.',
    access: 'entries.write',
    query: WindowQuery,
    body: EntryInput,
    handler({ me, req, query, body }) {
      checkKind(me, body.kind, body.kind === 'conference' ? 'conference' : body.class);
      checkTarget(me, body.target);
      const r = sched().preview.previewChange({ op: 'create', input: req.body }, actorOf(me), query);
      return { ...r, stations: r.stations.filter((s) => canSeeStation(me, s.stationId)) };
    },
  });

  api.add({
    method: 'post',
    path: '/entries',
    tag: 'entries',
    summary: 'Create an entry; issues new schedule documents to the stations it reaches',
    access: 'entries.write',
    body: EntryInput,
    status: 201,
    audited: true,
    handler({ me, req, body }) {
      checkKind(me, body.kind, body.kind === 'conference' ? 'conference' : body.class);
      checkTarget(me, body.target);
      const r = sched().scheduling.create(req.body, actorOf(me));
      published(r, 'create');
      return resultFor(me, r);
    },
  });

  /** A conference's entry is changed only through /conferences, so its row and the documents agree. */
  const checkNotConference = (id: string) => {
    if (ctx.conferences?.get(id))
      throw conflict(
        `entry ${id} carries a conference: change it with /conferences/${id} (extend, end-now, cancel)`,
      );
  };

  const checkPatch = (me: Principal, cur: EntryView, patch: z.infer<typeof EntryPatch>) => {
    checkOwnEntry(me, cur);
    checkNotConference(cur.id);
    if (patch.class !== undefined) checkKind(me, cur.kind, patch.class);
    if (patch.target !== undefined) checkTarget(me, patch.target);
  };

  api.add({
    method: 'post',
    path: '/entries/:id/preview',
    tag: 'entries',
    summary: 'Preview an edit of an entry (nothing is saved)',
    access: 'entries.write',
    params: Params,
    query: WindowQuery,
    body: EntryPatch,
    handler({ me, req, params, query, body }) {
      checkPatch(me, visibleEntry(me, params.id), body);
      const r = sched().preview.previewChange(
        { op: 'update', id: params.id, patch: req.body },
        actorOf(me),
        query,
      );
      return { ...r, stations: r.stations.filter((s) => canSeeStation(me, s.stationId)) };
    },
  });

  api.add({
    method: 'patch',
    path: '/entries/:id',
    tag: 'entries',
    summary:
      'Edit an entry (extend a running conference, move a slot…); `expectedRev` guards against lost updates',
    access: 'entries.write',
    params: Params,
    body: EntryPatch,
    audited: true,
    handler({ me, req, params, body }) {
      checkPatch(me, visibleEntry(me, params.id), body);
      const r = sched().scheduling.update(params.id, req.body, actorOf(me));
      published(r, 'update');
      return resultFor(me, r);
    },
  });

  api.add({
    method: 'delete',
    path: '/entries/:id',
    tag: 'entries',
    summary: 'Delete (cancel) an entry; its stations get new documents without it',
    access: 'entries.write',
    params: Params,
    query: DeleteQuery,
    audited: true,
    handler({ me, params, query }) {
      checkOwnEntry(me, visibleEntry(me, params.id));
      checkNotConference(params.id);
      const r = sched().scheduling.remove(
        params.id,
        actorOf(me),
        query.expectedRev === undefined ? {} : { expectedRev: query.expectedRev },
      );
      published(r, 'delete');
      return resultFor(me, r);
    },
  });
}
