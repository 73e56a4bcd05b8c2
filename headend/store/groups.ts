/**
 * Station groups: the 7 counties of Pingliang (seeded by migration 1, DOMAIN.md §1) and free-form groups
 * ("northern mountain townships", "conference pilot"). The control room targets a county or a group when it
 * pushes a conference or a mandated recording (DESIGN.md §1).
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { StoreError } from './errors.js';

/** The county group ids seeded by migration 1. */
export const COUNTY_IDS = [
  'kongtong',
  'huating',
  'jingchuan',
  'lingtai',
  'chongxin',
  'zhuanglang',
  'jingning',
] as const;

const GroupId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'group id: lower-case, 1–63 chars a–z 0–9 -');

/** Fields of a new free-form group. */
export const NewGroup = z
  .object({
    id: GroupId,
    name: z.string().trim().min(1).max(120),
    nameZh: z.string().trim().min(1).max(120).optional(),
    description: z.string().max(2000).optional(),
  })
  .strict();
export type NewGroup = z.input<typeof NewGroup>;

/** A group. */
export interface Group {
  id: string;
  kind: 'county' | 'custom';
  name: string;
  nameZh: string | null;
  description: string | null;
  createdAt: string;
}

interface Row {
  id: string;
  kind: 'county' | 'custom';
  name: string;
  name_zh: string | null;
  description: string | null;
  created_at: string;
}

const toGroup = (r: Row): Group => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  nameZh: r.name_zh,
  description: r.description,
  createdAt: r.created_at,
});

/** Repo over `station_groups` and `group_members`. */
export interface GroupsRepo {
  list(): Group[];
  get(id: string): Group | undefined;
  create(input: NewGroup): Group;
  /** Deletes a free-form group (counties cannot be deleted). */
  remove(id: string): void;
  addMembers(groupId: string, stationIds: readonly string[]): void;
  removeMembers(groupId: string, stationIds: readonly string[]): void;
  /** Station ids in a group (a county's are the stations registered in it), revoked stations excluded. */
  members(groupId: string): string[];
  /** Free-form groups a station belongs to. */
  groupsOf(stationId: string): string[];
}

export function createGroupsRepo(db: Database, now: () => Date = () => new Date()): GroupsRepo {
  const byId = db.prepare<[string], Row>('SELECT * FROM station_groups WHERE id = ?');
  const stationExists = db.prepare<[string], { id: string }>('SELECT id FROM stations WHERE id = ?');
  const requireGroup = (id: string): Group => {
    const r = byId.get(id);
    if (!r) throw new StoreError('NOT_FOUND', `no group ${id}`);
    return toGroup(r);
  };
  const requireCustom = (id: string): Group => {
    const g = requireGroup(id);
    if (g.kind !== 'custom')
      throw new StoreError('CONFLICT', `${id} is a county: its members are set by each station's county`);
    return g;
  };
  return {
    list: () => (db.prepare('SELECT * FROM station_groups ORDER BY kind, id').all() as Row[]).map(toGroup),
    get: (id) => {
      const r = byId.get(id);
      return r ? toGroup(r) : undefined;
    },
    create(input) {
      const p = NewGroup.safeParse(input);
      if (!p.success) {
        throw new StoreError(
          'INVALID_INPUT',
          p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      }
      if (byId.get(p.data.id)) throw new StoreError('ALREADY_EXISTS', `group ${p.data.id} already exists`);
      db.prepare(
        "INSERT INTO station_groups (id, kind, name, name_zh, description, created_at) VALUES (?, 'custom', ?, ?, ?, ?)",
      ).run(p.data.id, p.data.name, p.data.nameZh ?? null, p.data.description ?? null, now().toISOString());
      return requireGroup(p.data.id);
    },
    remove(id) {
      requireCustom(id);
      db.prepare('DELETE FROM station_groups WHERE id = ?').run(id);
    },
    addMembers(groupId, stationIds) {
      requireCustom(groupId);
      const ins = db.prepare('INSERT OR IGNORE INTO group_members (group_id, station_id) VALUES (?, ?)');
      db.transaction(() => {
        for (const s of stationIds) {
          if (!stationExists.get(s)) throw new StoreError('NOT_FOUND', `no station ${s}`);
          ins.run(groupId, s);
        }
      })();
    },
    removeMembers(groupId, stationIds) {
      requireCustom(groupId);
      const del = db.prepare('DELETE FROM group_members WHERE group_id = ? AND station_id = ?');
      db.transaction(() => {
        for (const s of stationIds) del.run(groupId, s);
      })();
    },
    members(groupId) {
      const g = requireGroup(groupId);
      const sql =
        g.kind === 'county'
          ? 'SELECT id FROM stations WHERE county = ? AND revoked_at IS NULL ORDER BY id'
          : `SELECT s.id FROM group_members m JOIN stations s ON s.id = m.station_id
             WHERE m.group_id = ? AND s.revoked_at IS NULL ORDER BY s.id`;
      return (db.prepare(sql).all(groupId) as { id: string }[]).map((r) => r.id);
    },
    groupsOf: (stationId) =>
      (
        db
          .prepare('SELECT group_id FROM group_members WHERE station_id = ? ORDER BY group_id')
          .all(stationId) as {
          group_id: string;
        }[]
      ).map((r) => r.group_id),
  };
}
