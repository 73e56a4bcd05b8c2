/**
 * Who is calling, and may they (issue 6 "Access control"):
 * - Browser sessions: a random cookie `rsat_session`, HttpOnly (scripts cannot read it), SameSite=Strict (no
 *   other site's page can send it), Secure when served over TLS. Every change made with a session cookie
 *   must carry the session's CSRF token in `X-CSRF-Token`; the UI reads it from `/api/v1/auth/me`.
 * - Scripts: `Authorization: Bearer rsat_…` API tokens, created by an admin for a user; they act with that
 *   user's role and scope. No CSRF token is needed (a browser never adds this header by itself).
 * - Logins are rate limited per user name and per client address; the limit is checked before the password,
 *   so guessing cannot continue while locked out.
 * Roles and permissions are in headend/users/roles.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Session, UserStore } from '../users/index.js';
import { isStationScoped, type Permission, roleCan } from '../users/roles.js';
import type { User } from '../users/users-repo.js';
import { forbidden, HttpError, unauthorized } from './errors.js';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'rsat_session';
/** Header carrying the CSRF token of a cookie session. */
export const CSRF_HEADER = 'x-csrf-token';

/** The authenticated caller. */
export interface Principal {
  user: User;
  via: 'session' | 'token';
  /** The cookie value (sessions only): logout destroys it. */
  sessionToken?: string;
  session?: Session;
  tokenId?: string;
}

/** The caller of this request, or undefined when anonymous. */
export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

/** The caller, or 401. */
export function requirePrincipal(res: Response): Principal {
  const p = principalOf(res);
  if (!p) throw unauthorized();
  return p;
}

/** Audit actor of a principal: `http:alice` or `token:alice:<token id>`. */
export function actorOf(p: Principal): string {
  return p.via === 'token' ? `token:${p.user.id}:${p.tokenId}` : `http:${p.user.id}`;
}

/** Cookie header → name/value pairs (express 5 has no cookie parser built in). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    const raw = part.slice(i + 1).trim();
    try {
      out.set(name, decodeURIComponent(raw));
    } catch {
      out.set(name, raw);
    }
  }
  return out;
}

/** Sets `res.locals.principal` from the cookie or the bearer token; never refuses by itself. */
export function authenticate(userStore: UserStore): RequestHandler {
  return (req, res, next) => {
    const authz = req.get('authorization');
    if (authz !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(authz);
      const token = m?.[1] ? userStore.tokens.resolve(m[1]) : undefined;
      const user = token ? userStore.users.get(token.userId) : undefined;
      // A bad token is an error, not "anonymous": a script must learn its token is wrong.
      if (!token || !user || user.disabledAt) {
        next(new HttpError(401, 'INVALID_TOKEN', 'the bearer token is unknown, revoked or expired'));
        return;
      }
      res.locals.principal = { user, via: 'token', tokenId: token.id } satisfies Principal;
      next();
      return;
    }
    const cookie = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (cookie) {
      const session = userStore.sessions.resolve(cookie);
      const user = session ? userStore.users.get(session.userId) : undefined;
      if (session && user && !user.disabledAt) {
        res.locals.principal = { user, via: 'session', sessionToken: cookie, session } satisfies Principal;
      }
    }
    next();
  };
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * CSRF protection for cookie sessions: a change must carry the session's token in `X-CSRF-Token`.
 * SameSite=Strict already keeps other sites' requests from carrying the cookie; the token also covers
 * same-site attackers (another app on the same host name) and old browsers.
 */
export function csrfGuard(): RequestHandler {
  return (req, res, next) => {
    const p = principalOf(res);
    if (!UNSAFE.has(req.method) || !p || p.via !== 'session') {
      next();
      return;
    }
    const sent = req.get(CSRF_HEADER);
    if (!sent || !p.session || !sameToken(sent, p.session.csrf)) {
      next(new HttpError(403, 'CSRF_FAILED', `missing or wrong ${CSRF_HEADER} header for this session`));
      return;
    }
    next();
  };
}

/** Sets the session cookie. */
export function setSessionCookie(req: Request, res: Response, token: string, maxAgeMs: number): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.secure,
    path: '/',
    maxAge: maxAgeMs,
  });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
}

/** 403 unless the caller holds `permission` (401 when anonymous). */
export function requirePermission(res: Response, permission: Permission): Principal {
  const p = requirePrincipal(res);
  if (!roleCan(p.user.role, permission)) throw forbidden(`a ${p.user.role} may not ${permission}`);
  return p;
}

/** May the principal see this station at all? Operators: only the stations they own. */
export function canSeeStation(p: Principal, stationId: string): boolean {
  return !isStationScoped(p.user.role) || p.user.stations.includes(stationId);
}

/** 403 unless the principal may see the station. */
export function requireStationAccess(p: Principal, stationId: string): void {
  if (!canSeeStation(p, stationId))
    throw new HttpError(403, 'STATION_FORBIDDEN', `station ${stationId} is not one of your stations`);
}

/** Filters a list of station ids to what the principal may see. */
export function visibleStations<T extends string>(p: Principal, ids: readonly T[]): T[] {
  return isStationScoped(p.user.role) ? ids.filter((id) => p.user.stations.includes(id)) : [...ids];
}

/** Login rate limit settings. */
export interface LoginLimitOptions {
  /** Failed logins per user name within the window before that name is locked (default 5). */
  maxPerUser: number;
  /** Failed logins per client address within the window before it is locked (default 30). */
  maxPerAddress: number;
  /** The window, ms (default 15 min). */
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimitOptions = {
  maxPerUser: 5,
  maxPerAddress: 30,
  windowMs: 15 * 60_000,
};

/**
 * Failed-login counters in memory (a restart forgets them; the scrypt cost still bounds guessing). Only
 * failures count, so a user who types the password right is never locked out by their own successes.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly o: LoginLimitOptions;

  constructor(
    options: Partial<LoginLimitOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.o = { ...DEFAULT_LOGIN_LIMITS, ...options };
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.o.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Seconds until a login for this name from this address may be tried, or 0 when it may now. */
  retryAfterS(userName: string, address: string): number {
    const checks: [string, number][] = [
      [`u:${userName.toLowerCase()}`, this.o.maxPerUser],
      [`a:${address}`, this.o.maxPerAddress],
    ];
    let wait = 0;
    for (const [key, max] of checks) {
      const list = this.recent(key);
      if (list.length >= max) {
        const oldest = list[list.length - max] ?? this.now();
        wait = Math.max(wait, Math.ceil((oldest + this.o.windowMs - this.now()) / 1000));
      }
    }
    return Math.max(0, wait);
  }

  fail(userName: string, address: string): void {
    const t = this.now();
    for (const key of [`u:${userName.toLowerCase()}`, `a:${address}`]) {
      const list = this.recent(key);
      list.push(t);
      // Bound memory: only the newest failures matter for the limit.
      this.failures.set(key, list.slice(-Math.max(this.o.maxPerUser, this.o.maxPerAddress)));
    }
    // Bound the number of keys too (a spray of random names from many addresses).
    if (this.failures.size > 10_000) {
      for (const key of [...this.failures.keys()].slice(0, 1000)) this.failures.delete(key);
    }
  }

  succeed(userName: string): void {
    this.failures.delete(`u:${userName.toLowerCase()}`);
  }
}
