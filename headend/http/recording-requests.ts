/**
 * Protect / unprotect / delete of a station's recording (issue 6: "forwarded to the station"). The request
 * is written first (table `recording_requests`, migration 4), then sent as the `recordings.protect` /
 * `recordings.delete` RPC (DESIGN.md §6) with the row's own `rid`: a station journals the rids of methods
 * with side effects, so sending the same request again after a lost answer never acts twice (DESIGN.md §4).
 * A station that is disconnected, busy or in a maintenance hold keeps the request `pending`; it is sent
 * again when the station comes back (`retryPending`, called on its birth). A newer request for the same
 * recording supersedes a pending older one (the last click wins).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { RpcErrorCode } from '../../protocol/registry.js';
import type { Store } from '../store/index.js';
import type { RpcPort } from './context.js';

export type RecordingAction = 'protect' | 'unprotect' | 'delete';
export type RequestStatus = 'pending' | 'done' | 'failed' | 'superseded';

/** One request as the API shows it. */
export interface RecordingRequest {
  id: number;
  stationId: string;
  recordingId: string;
  action: RecordingAction;
  status: RequestStatus;
  requestedBy: string;
  requestedAt: string;
  attempts: number;
  lastError: string | null;
  updatedAt: string;
}

/** Answers that mean "try again later", not "no". */
const RETRYABLE: ReadonlySet<RpcErrorCode> = new Set([
  'DISCONNECTED',
  'TIMEOUT',
  'BUSY',
  'MAINTENANCE_HOLD',
  'EXPIRED',
]);

interface Row {
  id: number;
  station_id: string;
  recording_id: string;
  action: RecordingAction;
  rid: string;
  status: RequestStatus;
  requested_by: string;
  requested_at: string;
  attempts: number;
  last_error: string | null;
  updated_at: string;
}

const view = (r: Row): RecordingRequest => ({
  id: r.id,
  stationId: r.station_id,
  recordingId: r.recording_id,
  action: r.action,
  status: r.status,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  attempts: r.attempts,
  lastError: r.last_error,
  updatedAt: r.updated_at,
});

export interface RecordingRequests {
  /** Records the request and, when an RPC path exists, sends it now; resolves with the request's state. */
  request(
    stationId: string,
    recordingId: string,
    action: RecordingAction,
    actor: string,
  ): Promise<RecordingRequest>;
  /** Sends every pending request of a station again (on its birth). */
  retryPending(stationId: string): Promise<void>;
  list(opts: { stationId: string; recordingId?: string; limit?: number }): RecordingRequest[];
  /** The newest request of each recording of a station. */
  latestByRecording(stationId: string): Map<string, RecordingRequest>;
}

export function createRecordingRequests(deps: {
  store: Store;
  rpc?: RpcPort;
  logger: Logger;
  now: () => Date;
  /** Time-to-live of each RPC (default 60 s). */
  ttlMs?: number;
}): RecordingRequests {
  const { store } = deps;
  const db = store.db;
  const byId = db.prepare<[number], Row>('SELECT * FROM recording_requests WHERE id = ?');
  // Prepared once: every station that comes online runs it (5 000 at once after a broker restart).
  const pendingOf = db.prepare<[string], Row>(
    "SELECT * FROM recording_requests WHERE station_id = ? AND status = 'pending' ORDER BY id",
  );
  const inFlight = new Set<number>();

  const update = (id: number, status: RequestStatus, error: string | null) => {
    db.prepare(
      'UPDATE recording_requests SET status = ?, attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ? AND status = ?',
    ).run(status, error, deps.now().toISOString(), id, 'pending');
  };

  const send = async (row: Row): Promise<void> => {
    const rpc = deps.rpc;
    if (!rpc || inFlight.has(row.id)) return;
    inFlight.add(row.id);
    try {
      const opts = { rid: row.rid, ttlMs: deps.ttlMs ?? 60_000 };
      const answer =
        row.action === 'delete'
          ? await rpc.call(row.station_id, 'recordings.delete', { recordingId: row.recording_id }, opts)
          : await rpc.call(
              row.station_id,
              'recordings.protect',
              { recordingId: row.recording_id, protect: row.action === 'protect' },
              opts,
            );
      if (answer.ok) update(row.id, 'done', null);
      else if (RETRYABLE.has(answer.error.code)) {
        db.prepare(
          'UPDATE recording_requests SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?',
        ).run(`${answer.error.code}: ${answer.error.message}`, deps.now().toISOString(), row.id);
      } else update(row.id, 'failed', `${answer.error.code}: ${answer.error.message}`);
    } catch (err) {
      deps.logger.warn(
        { event: 'recording-request-send-failed', id: row.id, err: (err as Error).message },
        'could not send a recording request',
      );
    } finally {
      inFlight.delete(row.id);
    }
  };

  return {
    async request(stationId, recordingId, action, actor) {
      const at = deps.now().toISOString();
      const id = store.transaction(() => {
        db.prepare(
          "UPDATE recording_requests SET status = 'superseded', updated_at = ? WHERE station_id = ? AND recording_id = ? AND status = 'pending'",
        ).run(at, stationId, recordingId);
        const info = db
          .prepare(`INSERT INTO recording_requests (station_id, recording_id, action, rid, status, requested_by, requested_at, updated_at)
            VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`)
          .run(stationId, recordingId, action, `rec-${randomBytes(12).toString('base64url')}`, actor, at, at);
        const newId = Number(info.lastInsertRowid);
        store.audit.record({
          actor,
          action: `recording.${action}`,
          target: stationId,
          details: { recordingId, requestId: newId },
        });
        return newId;
      });
      await send(byId.get(id) as Row);
      return view(byId.get(id) as Row);
    },
    async retryPending(stationId) {
      const rows = pendingOf.all(stationId);
      for (const r of rows) await send(r);
    },
    list: (opts) =>
      (opts.recordingId === undefined
        ? db
            .prepare<[string, number], Row>(
              'SELECT * FROM recording_requests WHERE station_id = ? ORDER BY id DESC LIMIT ?',
            )
            .all(opts.stationId, opts.limit ?? 100)
        : db
            .prepare<[string, string, number], Row>(
              'SELECT * FROM recording_requests WHERE station_id = ? AND recording_id = ? ORDER BY id DESC LIMIT ?',
            )
            .all(opts.stationId, opts.recordingId, opts.limit ?? 100)
      ).map(view),
    latestByRecording(stationId) {
      const rows = db
        .prepare<[string], Row>(
          'SELECT * FROM recording_requests WHERE id IN (SELECT MAX(id) FROM recording_requests WHERE station_id = ? GROUP BY recording_id)',
        )
        .all(stationId);
      return new Map(rows.map((r) => [r.recording_id, view(r)]));
    },
  };
}
