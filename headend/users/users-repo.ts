/**
 * Users and the stations operators own (migration 4). Passwords enter as text and leave only as scrypt
 * hashes (passwords.ts); `User` never carries the hash. An operator's station list is what scopes every
 * read and write they make (roles.ts).
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { StationId } from '../../protocol/messages/common.js';
import { UsersError } from './errors.js';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, type ScryptCost } from './passwords.js';
import { Role } from './roles.js';

/** A user name: lower-case, 2–32 chars; it is also the actor written into the audit log (`http:<id>`). */
export const UserId = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{1,31}$/, 'user name: 2–32 chars a–z 0–9 _ . -, starting with a letter');

export const Password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `password: at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `password: at most ${MAX_PASSWORD_LENGTH} characters`);

export const Locale = z.enum(['zh-CN', 'en']);
export type Locale = z.infer<typeof Locale>;

/** A new user, as an admin gives it. */
export const NewUser = z.strictObject({
  id: UserId,
  displayName: z.string().trim().min(1).max(80),
  role: Role,
  password: Password,
  locale: Locale.default('zh-CN'),
  /** Stations an operator owns (required non-empty for operators, refused for other roles). */
  stations: z.array(StationId).max(500).default([]),
});
export type NewUser = z.input<typeof NewUser>;

/** Editable fields of a user. */
export const UserPatch = z.strictObject({
  displayName: z.string().trim().min(1).max(80).optional(),
  role: Role.optional(),
  password: Password.optional(),
  locale: Locale.optional(),
  stations: z.array(StationId).max(500).optional(),
  /** true disables the user (and ends their sessions and tokens), false enables again. */
  disabled: z.boolean().optional(),
});
export type UserPatch = z.input<typeof UserPatch>;

/** A user as the API shows it. */
export interface User {
  id: string;
  displayName: string;
  role: Role;
  locale: Locale;
  /** Stations owned (operators); empty for other roles. */
  stations: string[];
  disabledAt: string | null;
  passwordChangedAt: string;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  display_name: string;
  role: string;
  password_hash: string;
  locale: string;
  disabled_at: string | null;
  password_changed_at: string;
  created_at: string;
  updated_at: string;
}

function zodIssues(err: z.ZodError) {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(user)', message: i.message }));
}

/** Repo over `users` and `user_stations`. */
export interface UsersRepo {
  create(input: NewUser): Promise<User>;
  get(id: string): User | undefined;
  /** Throws NOT_FOUND. */
  require(id: string): User;
  list(): User[];
  update(id: string, patch: UserPatch): Promise<User>;
  /** Deletes a user (their sessions and tokens go with them). Refuses to delete the last enabled admin. */
  remove(id: string): void;
  /** The stored hash and whether the user may log in; undefined for an unknown user. */
  credentialOf(id: string): { hash: string; disabled: boolean } | undefined;
  /** Users owning a station (for SSE fan-out and the station page). */
  ownersOf(stationId: string): string[];
  count(): number;
}

export function createUsersRepo(
  db: Database,
  opts: { now?: () => Date; scrypt?: ScryptCost } = {},
): UsersRepo {
  const now = opts.now ?? (() => new Date());
  const byId = db.prepare<[string], Row>('SELECT * FROM users WHERE id = ?');
  const stationsOf = db.prepare<[string], { station_id: string }>(
    'SELECT station_id FROM user_stations WHERE user_id = ? ORDER BY station_id',
  );
  const stationExists = db.prepare<[string], { id: string }>('SELECT id FROM stations WHERE id = ?');
  const enabledAdmins = db
    .prepare("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> ?")
    .pluck();

  const toUser = (r: Row): User => ({
    id: r.id,
    displayName: r.display_name,
    role: Role.parse(r.role),
    locale: Locale.parse(r.locale),
    stations: stationsOf.all(r.id).map((s) => s.station_id),
    disabledAt: r.disabled_at,
    passwordChangedAt: r.password_changed_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

  const checkStations = (role: string, stations: readonly string[]) => {
    if (role === 'operator' && stations.length === 0)
      throw new UsersError('INVALID_INPUT', 'an operator must own at least one station', [
        { path: 'stations', message: 'an operator must own at least one station' },
      ]);
    if (role !== 'operator' && stations.length > 0)
      throw new UsersError('INVALID_INPUT', `a ${role} sees every station: leave stations empty`, [
        { path: 'stations', message: 'only operators are scoped to stations' },
      ]);
    for (const s of stations)
      if (!stationExists.get(s))
        throw new UsersError('INVALID_INPUT', `no station ${s}`, [
          { path: 'stations', message: `no station ${s}` },
        ]);
  };
  const setStations = (id: string, stations: readonly string[]) => {
    db.prepare('DELETE FROM user_stations WHERE user_id = ?').run(id);
    const ins = db.prepare('INSERT INTO user_stations (user_id, station_id) VALUES (?, ?)');
    for (const s of new Set(stations)) ins.run(id, s);
  };
  const endCredentials = (id: string) => {
    db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
    db.prepare('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE user_id = ?').run(
      now().toISOString(),
      id,
    );
  };

  const repo: UsersRepo = {
    async create(input) {
      const p = NewUser.safeParse(input);
      if (!p.success) throw new UsersError('INVALID_INPUT', 'invalid user', zodIssues(p.error));
      const u = p.data;
      if (byId.get(u.id)) throw new UsersError('ALREADY_EXISTS', `user ${u.id} already exists`);
      checkStations(u.role, u.stations);
      const hash = await hashPassword(u.password, opts.scrypt);
      const at = now().toISOString();
      db.transaction(() => {
        // Checked again inside the transaction: the hash took a while and another request may have won.
        if (byId.get(u.id)) throw new UsersError('ALREADY_EXISTS', `user ${u.id} already exists`);
        db.prepare(`INSERT INTO users (id, display_name, role, password_hash, locale, password_changed_at,
          created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
          u.id,
          u.displayName,
          u.role,
          hash,
          u.locale,
          at,
          at,
          at,
        );
        setStations(u.id, u.stations);
      })();
      return repo.require(u.id);
    },
    get(id) {
      const r = byId.get(id);
      return r ? toUser(r) : undefined;
    },
    require(id) {
      const u = repo.get(id);
      if (!u) throw new UsersError('NOT_FOUND', `no user ${id}`);
      return u;
    },
    list: () => (db.prepare('SELECT * FROM users ORDER BY id').all() as Row[]).map(toUser),
    async update(id, patch) {
      const p = UserPatch.safeParse(patch);
      if (!p.success) throw new UsersError('INVALID_INPUT', 'invalid user', zodIssues(p.error));
      const cur = repo.require(id);
      const next = p.data;
      const role = next.role ?? cur.role;
      const stations = next.stations ?? (role === 'operator' ? cur.stations : []);
      checkStations(role, stations);
      const losesAdmin = cur.role === 'admin' && (role !== 'admin' || next.disabled === true);
      if (losesAdmin && enabledAdmins.get(id) === 0)
        throw new UsersError('CONFLICT', 'the last enabled admin cannot be demoted or disabled');
      const hash = next.password === undefined ? null : await hashPassword(next.password, opts.scrypt);
      const at = now().toISOString();
      db.transaction(() => {
        repo.require(id);
        db.prepare(`UPDATE users SET display_name = ?, role = ?, locale = ?, updated_at = ?,
          disabled_at = CASE WHEN ? IS NULL THEN disabled_at WHEN ? = 1 THEN COALESCE(disabled_at, ?) ELSE NULL END
          WHERE id = ?`).run(
          next.displayName ?? cur.displayName,
          role,
          next.locale ?? cur.locale,
          at,
          next.disabled === undefined ? null : 1,
          next.disabled ? 1 : 0,
          at,
          id,
        );
        if (hash !== null)
          db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?').run(
            hash,
            at,
            id,
          );
        setStations(id, stations);
        // A new password or a disabled account ends every session and token: whoever held the old
        // credentials is out at once. (Role and station changes apply at the next request: the user row is
        // read on every request.)
        if (hash !== null || next.disabled === true) endCredentials(id);
      })();
      return repo.require(id);
    },
    remove(id) {
      const cur = repo.require(id);
      if (cur.role === 'admin' && !cur.disabledAt && enabledAdmins.get(id) === 0)
        throw new UsersError('CONFLICT', 'the last enabled admin cannot be deleted');
      db.prepare('DELETE FROM users WHERE id = ?').run(id);
    },
    credentialOf(id) {
      const r = byId.get(id);
      return r ? { hash: r.password_hash, disabled: r.disabled_at !== null } : undefined;
    },
    ownersOf: (stationId) =>
      (
        db
          .prepare('SELECT user_id FROM user_stations WHERE station_id = ? ORDER BY user_id')
          .all(stationId) as {
          user_id: string;
        }[]
      ).map((r) => r.user_id),
    count: () => db.prepare('SELECT COUNT(*) FROM users').pluck().get() as number,
  };
  return repo;
}
