/**
 * The line-up: transponders (carriers) and the services on them (DESIGN.md §4 `lineup` topic). Every change
 * bumps the line-up version in the same transaction, so the retained document's version says which state
 * of these tables it shows. Sample data only: ChinaSat 6B/6E parameters are not verified (DOMAIN.md §2).
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { ServiceKey } from '../../protocol/messages/common.js';
import { type ServiceTuning, Transponder } from '../../protocol/messages/tuning.js';
import { StoreError } from './errors.js';
import { createMetaRepo } from './meta.js';

const TransponderId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'transponder id: lower-case, 1–64 chars');

/** A whole line-up as imported/exported: carriers by id, services referencing them. */
export const LineupInput = z
  .object({
    transponders: z.array(z.object({ id: TransponderId, tuning: Transponder }).strict()),
    services: z.array(
      z
        .object({
          key: ServiceKey,
          name: z.string().min(1).max(120),
          serviceId: z.number().int().min(1).max(65535),
          transponderId: TransponderId,
        })
        .strict(),
    ),
  })
  .strict()
  .superRefine((l, ctx) => {
    const tids = new Set(l.transponders.map((t) => t.id));
    if (tids.size !== l.transponders.length)
      ctx.addIssue({ code: 'custom', path: ['transponders'], message: 'duplicate transponder id' });
    const keys = new Set<string>();
    l.services.forEach((s, i) => {
      if (keys.has(s.key))
        ctx.addIssue({ code: 'custom', path: ['services', i, 'key'], message: `duplicate service ${s.key}` });
      keys.add(s.key);
      if (!tids.has(s.transponderId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'transponderId'],
          message: `unknown transponder ${s.transponderId}`,
        });
      }
    });
  });
export type LineupInput = z.input<typeof LineupInput>;

/** The line-up as published: a version and every service with its tuning. */
export interface LineupSnapshot {
  version: number;
  services: ServiceTuning[];
}

/** Repo over `transponders` and `services`. */
export interface LineupRepo {
  version(): number;
  snapshot(): LineupSnapshot;
  /** The line-up in import form (round-trips through `replace`). */
  export(): z.infer<typeof LineupInput>;
  /** Replaces the whole line-up atomically; returns the new version. */
  replace(input: LineupInput): number;
  /** Tuning of one service, or undefined. */
  service(key: string): ServiceTuning | undefined;
}

interface ServiceRow {
  key: string;
  name: string;
  service_id: number;
  transponder_id: string;
  tuning_json: string;
}

export function createLineupRepo(db: Database, now: () => Date = () => new Date()): LineupRepo {
  const meta = createMetaRepo(db);
  const servicesSql = `SELECT s.key, s.name, s.service_id, s.transponder_id, t.tuning_json
    FROM services s JOIN transponders t ON t.id = s.transponder_id`;
  const toTuning = (r: ServiceRow): ServiceTuning => ({
    key: r.key,
    name: r.name,
    serviceId: r.service_id,
    transponder: Transponder.parse(JSON.parse(r.tuning_json)),
  });
  const repo: LineupRepo = {
    version: () => Number(meta.get('lineup_version') ?? 0),
    snapshot: () => ({
      version: repo.version(),
      services: (db.prepare(`${servicesSql} ORDER BY s.position, s.key`).all() as ServiceRow[]).map(toTuning),
    }),
    export: () => ({
      transponders: (
        db.prepare('SELECT id, tuning_json FROM transponders ORDER BY id').all() as {
          id: string;
          tuning_json: string;
        }[]
      ).map((r) => ({ id: r.id, tuning: Transponder.parse(JSON.parse(r.tuning_json)) })),
      services: (db.prepare(`${servicesSql} ORDER BY s.position, s.key`).all() as ServiceRow[]).map((r) => ({
        key: r.key,
        name: r.name,
        serviceId: r.service_id,
        transponderId: r.transponder_id,
      })),
    }),
    replace(input) {
      const p = LineupInput.safeParse(input);
      if (!p.success) {
        throw new StoreError(
          'INVALID_INPUT',
          p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      }
      const at = now().toISOString();
      return db.transaction(() => {
        db.prepare('DELETE FROM services').run();
        db.prepare('DELETE FROM transponders').run();
        const insT = db.prepare('INSERT INTO transponders (id, tuning_json, updated_at) VALUES (?, ?, ?)');
        for (const t of p.data.transponders) insT.run(t.id, JSON.stringify(t.tuning), at);
        const insS = db.prepare(
          'INSERT INTO services (key, name, service_id, transponder_id, position, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        );
        p.data.services.forEach((s, i) => {
          insS.run(s.key, s.name, s.serviceId, s.transponderId, i, at);
        });
        const next = repo.version() + 1;
        meta.set('lineup_version', String(next));
        return next;
      })();
    },
    service(key) {
      const r = db.prepare(`${servicesSql} WHERE s.key = ?`).get(key) as ServiceRow | undefined;
      return r ? toTuning(r) : undefined;
    },
  };
  return repo;
}
