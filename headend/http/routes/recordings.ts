/**
 * The recordings catalogue (issue 6; DESIGN.md §6 Recorder): what each station recorded, with quality
 * (MythTV-style 0–100, DOMAIN.md §4) and status ("completed with errors" is its own status), and protect /
 * delete forwarded to the station (recording-requests.ts): answered 202 with the request, `done` when the
 * station confirmed, `pending` while it is away (sent when it is back).
 */
import { z } from 'zod';
import { Id } from '../../../protocol/messages/common.js';
import type { Recording } from '../../store/recordings.js';
import { RECORDING_STATUSES } from '../../store/recordings.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, requireStationAccess, visibleStations } from '../auth.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import type { RecordingRequest, RecordingRequests } from '../recording-requests.js';
import { Limit, StationParams } from './schemas.js';

const ListQuery = z.strictObject({
  station: z.string().max(63).optional(),
  entry: Id.optional(),
  status: z.enum(RECORDING_STATUSES).optional(),
  limit: Limit(1000, 200),
});
const RecParams = StationParams.extend({ recordingId: Id });

const RequestView = z.object({
  id: z.number(),
  stationId: z.string(),
  recordingId: z.string(),
  action: z.enum(['protect', 'unprotect', 'delete']),
  status: z.enum(['pending', 'done', 'failed', 'superseded']),
  requestedBy: z.string(),
  requestedAt: z.string(),
  attempts: z.number(),
  lastError: z.string().nullable(),
  updatedAt: z.string(),
});

function recordingView(r: Recording, request: RecordingRequest | undefined, titles: Map<string, string>) {
  const m = r.manifest as { title?: unknown; protected?: unknown; reason?: unknown } | null;
  return {
    stationId: r.stationId,
    recordingId: r.recordingId,
    entryId: r.entryId ?? null,
    title: typeof m?.title === 'string' ? m.title : r.entryId ? (titles.get(r.entryId) ?? null) : null,
    occurrenceStart: r.occurrenceStart ?? null,
    service: r.serviceKey ?? null,
    status: r.status,
    startedAt: r.startedAt ?? null,
    endedAt: r.endedAt ?? null,
    bytes: r.bytes ?? null,
    quality: r.quality ?? null,
    clockTrusted: r.clockTrusted ?? null,
    protected: typeof m?.protected === 'boolean' ? m.protected : null,
    reason: typeof m?.reason === 'string' ? m.reason : null,
    updatedAt: r.updatedAt,
    request: request ?? null,
  };
}

export function recordingRoutes(api: ApiRegistry, ctx: ApiContext, requests: RecordingRequests): void {
  const { store } = ctx;
  const titleStmt = store.db.prepare<[string], { title: string | null }>(
    "SELECT json_extract(spec_json, '$.title') AS title FROM entries WHERE id = ?",
  );
  const titlesOf = (rs: Recording[]) => {
    const m = new Map<string, string>();
    for (const r of rs) {
      if (!r.entryId || m.has(r.entryId)) continue;
      const t = titleStmt.get(r.entryId)?.title;
      if (t) m.set(r.entryId, t);
    }
    return m;
  };
  const views = (rs: Recording[]) => {
    const titles = titlesOf(rs);
    const reqs = new Map<string, Map<string, RecordingRequest>>();
    return rs.map((r) => {
      let byRec = reqs.get(r.stationId);
      if (!byRec) {
        byRec = requests.latestByRecording(r.stationId);
        reqs.set(r.stationId, byRec);
      }
      return recordingView(r, byRec.get(r.recordingId), titles);
    });
  };

  api.add({
    method: 'get',
    path: '/recordings',
    tag: 'recordings',
    summary: 'Recordings of the stations you may see, newest first, with quality and any pending request',
    access: 'fleet.read',
    query: ListQuery,
    handler({ me, query }) {
      const filter = {
        ...(query.entry ? { entryId: query.entry } : {}),
        ...(query.status ? { status: query.status } : {}),
        limit: query.limit,
      };
      if (query.station) {
        requireStationAccess(me, query.station);
        return views(store.recordings.list({ ...filter, stationId: query.station }));
      }
      if (me.user.role !== 'operator') return views(store.recordings.list(filter));
      const mine = visibleStations(me, me.user.stations).flatMap((s) =>
        store.recordings.list({ ...filter, stationId: s }),
      );
      mine.sort((a, b) => ((b.startedAt ?? b.updatedAt) < (a.startedAt ?? a.updatedAt) ? -1 : 1));
      return views(mine.slice(0, query.limit));
    },
  });

  api.add({
    method: 'get',
    path: '/stations/:id/recordings/:recordingId',
    tag: 'recordings',
    summary: 'One recording, with its manifest (segments, errors) and the requests made about it',
    access: 'fleet.read',
    params: RecParams,
    handler({ me, params }) {
      requireStationAccess(me, params.id);
      const r = store.recordings.get(params.id, params.recordingId);
      if (!r) throw notFound(`no recording ${params.recordingId} at ${params.id}`);
      const [v] = views([r]);
      return {
        ...v,
        manifest: r.manifest,
        requests: requests.list({ stationId: params.id, recordingId: params.recordingId }),
      };
    },
  });

  const act =
    (action: 'protect' | 'unprotect' | 'delete') =>
    async ({ me, params }: { me: import('../auth.js').Principal; params: z.infer<typeof RecParams> }) => {
      requireStationAccess(me, params.id);
      store.stations.require(params.id);
      return requests.request(params.id, params.recordingId, action, actorOf(me));
    };

  api.add({
    method: 'post',
    path: '/stations/:id/recordings/:recordingId/protect',
    tag: 'recordings',
    summary:
      'Protect a recording from retention, or unprotect it (`{"protect": false}`); forwarded to the station',
    access: 'recordings.manage',
    params: RecParams,
    body: z.strictObject({ protect: z.boolean() }),
    response: RequestView,
    status: 202,
    audited: true,
    handler: ({ me, params, body }) => act(body.protect ? 'protect' : 'unprotect')({ me, params }),
  });

  api.add({
    method: 'delete',
    path: '/stations/:id/recordings/:recordingId',
    tag: 'recordings',
    summary: 'Delete a recording on the station; forwarded to it (pending while it is disconnected)',
    access: 'recordings.manage',
    params: RecParams,
    response: RequestView,
    status: 202,
    audited: true,
    handler: ({ me, params }) => act('delete')({ me, params }),
  });

  api.add({
    method: 'get',
    path: '/stations/:id/recording-requests',
    tag: 'recordings',
    summary: 'Protect / delete requests for a station and where they stand',
    access: 'fleet.read',
    params: StationParams,
    response: z.array(RequestView),
    handler({ me, params }) {
      requireStationAccess(me, params.id);
      return requests.list({ stationId: params.id });
    },
  });
}
