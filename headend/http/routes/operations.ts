/**
 * The logs and operations of the headend (issue 6): the fleet-wide event log, the audit log (who, what,
 * when, before/after of every control action), online backups, and the live stream (sse.ts). Alarms and
 * remote diagnostics are in routes/alarms.ts and routes/diagnostics.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { backupDatabase, defaultBackupPath } from '../../store/backup.js';
import { isStationScoped, roleCan } from '../../users/roles.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, visibleStations } from '../auth.js';
import type { ApiContext } from '../context.js';
import { Limit, QueryInstant } from './schemas.js';

const EventsQuery = z.strictObject({
  limit: Limit(500, 100),
  type: z.string().max(64).optional(),
  before: QueryInstant.optional(),
});

const AuditQuery = z.strictObject({
  limit: Limit(500, 100),
  /** Only entries before this id (paging back). */
  beforeId: z.coerce.number().int().min(1).optional(),
  target: z.string().max(200).optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(64).optional(),
});

const AuditView = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

export function operationRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const { store } = ctx;

  api.add({
    method: 'get',
    path: '/events',
    tag: 'events',
    summary: 'Events of every station you may see, newest first',
    access: 'fleet.read',
    query: EventsQuery,
    handler({ me, query }) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (isStationScoped(me.user.role)) {
        const mine = visibleStations(me, me.user.stations);
        if (mine.length === 0) return [];
        where.push(`station_id IN (${mine.map(() => '?').join(', ')})`);
        args.push(...mine);
      }
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
          `SELECT station_id, store_id, seq, type, at, payload, received_at FROM events
           ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY COALESCE(at, received_at) DESC LIMIT ?`,
        )
        .all(...args) as {
        station_id: string;
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
        return {
          stationId: r.station_id,
          storeId: r.store_id,
          seq: r.seq,
          type: r.type,
          at: r.at,
          receivedAt: r.received_at,
          data,
        };
      });
    },
  });

  api.add({
    method: 'get',
    path: '/audit',
    tag: 'audit',
    summary: 'The audit log, newest first: who did what to what, when, with before/after',
    description: 'Operators see the entries they made and those about their own stations.',
    access: 'fleet.read',
    query: AuditQuery,
    response: z.array(AuditView),
    handler({ me, query }) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (!roleCan(me.user.role, 'audit.read')) {
        const mine = visibleStations(me, me.user.stations);
        where.push(`(actor = ? OR actor LIKE ? OR target IN (${mine.map(() => '?').join(', ') || "''"}))`);
        args.push(`http:${me.user.id}`, `token:${me.user.id}:%`, ...mine);
      }
      for (const [col, v] of [
        ['target', query.target],
        ['actor', query.actor],
        ['action', query.action],
      ] as const) {
        if (v !== undefined) {
          where.push(`${col} = ?`);
          args.push(v);
        }
      }
      if (query.beforeId !== undefined) {
        where.push('id < ?');
        args.push(query.beforeId);
      }
      args.push(query.limit);
      const rows = store.db
        .prepare(
          `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
        )
        .all(...args) as {
        id: number;
        at: string;
        actor: string;
        action: string;
        target: string | null;
        details_json: string | null;
      }[];
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        target: r.target,
        details: r.details_json ? (JSON.parse(r.details_json) as Record<string, unknown>) : null,
      }));
    },
  });

  // `/alarms` (engine alarms with cause, evidence, remedies) is in routes/alarms.ts.

  api.add({
    method: 'post',
    path: '/backup',
    tag: 'backup',
    summary: 'Take an online backup of the headend database (consistent while it keeps running)',
    access: 'backup.run',
    status: 201,
    audited: true,
    async handler({ me }) {
      const file = defaultBackupPath(ctx.dataDir, ctx.now());
      const info = await backupDatabase(store.db, file);
      store.audit.record({
        actor: actorOf(me),
        action: 'store.backup',
        target: 'store',
        details: { after: info },
      });
      return { ...info, name: path.basename(info.file) };
    },
  });

  api.add({
    method: 'get',
    path: '/backups',
    tag: 'backup',
    summary: 'Backups in the data directory, newest first',
    access: 'backup.run',
    handler() {
      const dir = path.join(ctx.dataDir, 'backups');
      if (!fs.existsSync(dir)) return [];
      return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.db'))
        .map((name) => {
          const st = fs.statSync(path.join(dir, name));
          return { name, bytes: st.size, at: st.mtime.toISOString() };
        })
        .sort((a, b) => (a.at < b.at ? 1 : -1));
    },
  });

  // `/stations/:id/diagnostics/:method` (audited diagnostics RPC) is in routes/diagnostics.ts.

  api.add({
    method: 'get',
    path: '/stream',
    tag: 'live',
    summary:
      'Live updates (Server-Sent Events): station, event, schedule, alarm, guide; filtered to what you may see',
    description:
      'Reconnect with Last-Event-ID to get what was missed; `resync` means refetch everything. A comment line ' +
      'every 20 s keeps the stream open.',
    access: 'user',
    responseType: 'text/event-stream',
    handler({ req, res, me }) {
      ctx.sse.open(me, res, req.get('last-event-id'));
    },
  });
}
