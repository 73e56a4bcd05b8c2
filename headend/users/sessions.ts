/**
 * Browser sessions and API tokens (migration 4). Both are random 256-bit values handed to the client once;
 * the database keeps only their SHA-256, so neither a backup nor a stolen database file logs anyone in.
 *
 * Sessions expire after `idleMs` without a request and, in any case, `absoluteMs` after login; the control
 * room's wall screen keeps its session alive by the requests it makes. `lastSeenAt` is written at most every
 * `touchEveryMs`, so a busy UI does not turn every read into a write on the broker's event loop (DESIGN.md §7).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { UsersError } from './errors.js';

/** Session lifetimes. */
export interface SessionOptions {
  /** A session unused this long ends (default 12 h). */
  idleMs: number;
  /** A session ends this long after login whatever happens (default 30 days). */
  absoluteMs: number;
  /** `last_seen_at` is refreshed at most this often (default 60 s). */
  touchEveryMs: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  idleMs: 12 * 3600_000,
  absoluteMs: 30 * 86_400_000,
  touchEveryMs: 60_000,
};

/** A live session. */
export interface Session {
  userId: string;
  /** Per-session CSRF token the UI sends back in `X-CSRF-Token` on every change. */
  csrf: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

/** An API token as listed (the secret itself is shown once, at creation). */
export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const secret = () => randomBytes(32).toString('base64url');

/** Prefix of API tokens, so a leaked one is recognisable in logs and by secret scanners. */
export const TOKEN_PREFIX = 'rsat_';

export interface SessionsRepo {
  /** Starts a session; returns the cookie value (shown once) and the session. */
  create(
    userId: string,
    meta?: { ip?: string | undefined; userAgent?: string | undefined },
  ): {
    token: string;
    session: Session;
  };
  /** The live session of a cookie value, refreshed; undefined when unknown or expired (expired rows go). */
  resolve(token: string): Session | undefined;
  destroy(token: string): void;
  destroyAllOf(userId: string): number;
  /** Deletes expired sessions; returns how many. */
  prune(): number;
}

export function createSessionsRepo(
  db: Database,
  opts: { now?: () => Date; options?: Partial<SessionOptions> } = {},
): SessionsRepo {
  const now = opts.now ?? (() => new Date());
  const o = { ...DEFAULT_SESSION_OPTIONS, ...opts.options };
  interface Row {
    user_id: string;
    csrf: string;
    created_at: string;
    last_seen_at: string;
    expires_at: string;
  }
  const get = db.prepare<[string], Row>(
    'SELECT user_id, csrf, created_at, last_seen_at, expires_at FROM sessions WHERE token_sha256 = ?',
  );
  const del = db.prepare('DELETE FROM sessions WHERE token_sha256 = ?');
  const touch = db.prepare('UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_sha256 = ?');
  const expiry = (createdMs: number, seenMs: number) =>
    new Date(Math.min(createdMs + o.absoluteMs, seenMs + o.idleMs)).toISOString();
  const toSession = (r: Row): Session => ({
    userId: r.user_id,
    csrf: r.csrf,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
  });
  return {
    create(userId, meta = {}) {
      const token = secret();
      const at = now();
      const row: Row = {
        user_id: userId,
        csrf: secret(),
        created_at: at.toISOString(),
        last_seen_at: at.toISOString(),
        expires_at: expiry(at.getTime(), at.getTime()),
      };
      db.prepare(`INSERT INTO sessions (token_sha256, user_id, csrf, created_at, last_seen_at, expires_at, ip, user_agent)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
        sha256(token),
        userId,
        row.csrf,
        row.created_at,
        row.last_seen_at,
        row.expires_at,
        meta.ip?.slice(0, 64) ?? null,
        meta.userAgent?.slice(0, 256) ?? null,
      );
      return { token, session: toSession(row) };
    },
    resolve(token) {
      if (token.length === 0 || token.length > 128) return undefined;
      const key = sha256(token);
      const r = get.get(key);
      if (!r) return undefined;
      const t = now().getTime();
      if (Date.parse(r.expires_at) <= t) {
        del.run(key);
        return undefined;
      }
      if (t - Date.parse(r.last_seen_at) >= o.touchEveryMs) {
        r.last_seen_at = new Date(t).toISOString();
        r.expires_at = expiry(Date.parse(r.created_at), t);
        touch.run(r.last_seen_at, r.expires_at, key);
      }
      return toSession(r);
    },
    destroy(token) {
      del.run(sha256(token));
    },
    destroyAllOf: (userId) => db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes,
    prune: () => db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now().toISOString()).changes,
  };
}

export interface TokensRepo {
  /** Issues a token for a user; the returned `token` is shown once and never stored. */
  create(userId: string, name: string, expiresAt?: string | null): { token: string; info: ApiToken };
  /** The token's record when it is valid now (not revoked, not expired); marks it used. */
  resolve(token: string): ApiToken | undefined;
  list(userId?: string): ApiToken[];
  get(id: string): ApiToken | undefined;
  revoke(id: string): ApiToken;
}

export function createTokensRepo(db: Database, opts: { now?: () => Date } = {}): TokensRepo {
  const now = opts.now ?? (() => new Date());
  interface Row {
    id: string;
    user_id: string;
    name: string;
    created_at: string;
    last_used_at: string | null;
    expires_at: string | null;
    revoked_at: string | null;
  }
  const cols = 'id, user_id, name, created_at, last_used_at, expires_at, revoked_at';
  const toToken = (r: Row): ApiToken => ({
    id: r.id,
    userId: r.user_id,
    name: r.name,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  });
  const byHash = db.prepare<[string], Row>(`SELECT ${cols} FROM api_tokens WHERE token_sha256 = ?`);
  const byId = db.prepare<[string], Row>(`SELECT ${cols} FROM api_tokens WHERE id = ?`);
  const used = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?');
  const repo: TokensRepo = {
    create(userId, name, expiresAt = null) {
      const id = randomUUID();
      const token = `${TOKEN_PREFIX}${secret()}`;
      db.prepare(`INSERT INTO api_tokens (id, user_id, name, token_sha256, created_at, expires_at)
        VALUES (?, ?, ?, ?, ?, ?)`).run(id, userId, name, sha256(token), now().toISOString(), expiresAt);
      return { token, info: toToken(byId.get(id) as Row) };
    },
    resolve(token) {
      if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return undefined;
      const r = byHash.get(sha256(token));
      if (!r || r.revoked_at !== null) return undefined;
      const at = now();
      if (r.expires_at !== null && Date.parse(r.expires_at) <= at.getTime()) return undefined;
      // Minute resolution is plenty for "last used", and keeps a polling script from writing every second.
      if (r.last_used_at === null || at.getTime() - Date.parse(r.last_used_at) >= 60_000) {
        r.last_used_at = at.toISOString();
        used.run(r.last_used_at, r.id);
      }
      return toToken(r);
    },
    list: (userId) =>
      (userId === undefined
        ? (db.prepare(`SELECT ${cols} FROM api_tokens ORDER BY created_at DESC`).all() as Row[])
        : (db
            .prepare(`SELECT ${cols} FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC`)
            .all(userId) as Row[])
      ).map(toToken),
    get(id) {
      const r = byId.get(id);
      return r ? toToken(r) : undefined;
    },
    revoke(id) {
      if (!byId.get(id)) throw new UsersError('NOT_FOUND', `no token ${id}`);
      db.prepare('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(
        now().toISOString(),
        id,
      );
      return toToken(byId.get(id) as Row);
    },
  };
  return repo;
}
