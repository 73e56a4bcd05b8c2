/**
 * Login, logout and "who am I" (issue 6 "Access control"). A login answers the same 401 for an unknown
 * user, a disabled user and a wrong password, after the same scrypt work, so neither the message nor the
 * timing tells which names exist.
 */
import { z } from 'zod';
import { dummyHash, verifyPassword } from '../../users/passwords.js';
import { permissionsOf } from '../../users/roles.js';
import { Locale, Password, type User } from '../../users/users-repo.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, clearSessionCookie, LoginLimiter, type Principal, setSessionCookie } from '../auth.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../errors.js';
import { MeView, UserView } from './schemas.js';

const LoginBody = z.strictObject({
  user: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

const MePatch = z.strictObject({
  displayName: z.string().trim().min(1).max(80).optional(),
  locale: Locale.optional(),
});

const PasswordChange = z.strictObject({ current: z.string().min(1).max(256), next: Password });

export function userView(u: User) {
  return {
    id: u.id,
    displayName: u.displayName,
    role: u.role,
    locale: u.locale,
    stations: u.stations,
    disabled: u.disabledAt !== null,
    disabledAt: u.disabledAt,
    passwordChangedAt: u.passwordChangedAt,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

function meView(ctx: ApiContext, p: Principal) {
  return {
    user: userView(p.user),
    via: p.via,
    permissions: permissionsOf(p.user.role),
    csrf: p.via === 'session' && p.session ? p.session.csrf : null,
    sessionExpiresAt: p.session?.expiresAt ?? null,
    timeZone: ctx.timeZone,
    version: ctx.version,
  };
}

export function authRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const limiter = new LoginLimiter(ctx.loginLimits, () => ctx.now().getTime());
  let dummy: Promise<string> | null = null;

  api.add({
    method: 'post',
    path: '/auth/login',
    tag: 'auth',
    summary: 'Log in with a user name and password; sets the session cookie',
    description:
      'Answers the session and its CSRF token. Failed logins are limited per user name and per address; ' +
      'over the limit the answer is 429 RATE_LIMITED with Retry-After.',
    access: 'public',
    body: LoginBody,
    response: MeView,
    async handler({ req, res, body }) {
      const name = body.user.trim().toLowerCase();
      const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
      const wait = limiter.retryAfterS(name, address);
      if (wait > 0) {
        ctx.logger.warn(
          { event: 'login-rate-limited', user: name, address },
          'login refused: too many failures',
        );
        throw new HttpError(429, 'RATE_LIMITED', `too many failed logins; try again in ${wait} s`, {
          retryAfterS: wait,
        });
      }
      const cred = ctx.users.users.credentialOf(name);
      dummy ??= dummyHash();
      const ok = await verifyPassword(body.password, cred?.hash ?? (await dummy));
      if (!cred || cred.disabled || !ok) {
        limiter.fail(name, address);
        ctx.logger.info({ event: 'login-failed', user: name, address }, 'login failed');
        throw new HttpError(401, 'LOGIN_FAILED', 'wrong user name or password');
      }
      limiter.succeed(name);
      const user = ctx.users.users.require(name);
      const { token, session } = ctx.users.sessions.create(user.id, {
        ip: address,
        userAgent: req.get('user-agent'),
      });
      setSessionCookie(req, res, token, ctx.sessionMaxAgeMs);
      ctx.store.audit.record({
        actor: `http:${user.id}`,
        action: 'user.login',
        target: `user:${user.id}`,
        details: { address },
      });
      return meView(ctx, { user, via: 'session', sessionToken: token, session });
    },
  });

  api.add({
    method: 'post',
    path: '/auth/logout',
    tag: 'auth',
    summary: 'End this session (clears the cookie)',
    access: 'user',
    handler({ req, res, me }) {
      if (me.via === 'session' && me.sessionToken) ctx.users.sessions.destroy(me.sessionToken);
      clearSessionCookie(req, res);
      ctx.sse.disconnectUser(me.user.id);
      return undefined;
    },
  });

  api.add({
    method: 'get',
    path: '/auth/me',
    tag: 'auth',
    summary: 'The caller: user, role, permissions, and the CSRF token of a cookie session',
    access: 'user',
    response: MeView,
    handler: ({ me }) => meView(ctx, me),
  });

  api.add({
    method: 'patch',
    path: '/auth/me',
    tag: 'auth',
    summary: "Change one's own display name or language",
    access: 'user',
    body: MePatch,
    response: UserView,
    async handler({ me, body }) {
      const u = await ctx.users.users.update(me.user.id, body);
      return userView(u);
    },
  });

  api.add({
    method: 'put',
    path: '/auth/me/password',
    tag: 'auth',
    summary: "Change one's own password (ends every other session and token)",
    access: 'user',
    body: PasswordChange,
    audited: true,
    async handler({ req, res, me, body }) {
      const cred = ctx.users.users.credentialOf(me.user.id);
      if (!cred || !(await verifyPassword(body.current, cred.hash)))
        throw new HttpError(403, 'WRONG_PASSWORD', 'the current password is wrong');
      await ctx.users.users.update(me.user.id, { password: body.next });
      ctx.store.audit.record({ actor: actorOf(me), action: 'user.password', target: `user:${me.user.id}` });
      // Every session ended with the change; give this browser a fresh one so the user stays logged in.
      if (me.via === 'session') {
        const { token } = ctx.users.sessions.create(me.user.id, {
          ip: req.ip,
          userAgent: req.get('user-agent'),
        });
        setSessionCookie(req, res, token, ctx.sessionMaxAgeMs);
      }
      return undefined;
    },
  });
}
