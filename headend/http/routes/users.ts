/**
 * Users and their API tokens (admin only, issue 6). Every change is in the audit log with before/after;
 * passwords and token secrets never are. A changed user's live streams are closed so they reopen with the
 * new role and stations.
 */
import { z } from 'zod';
import { NewUser, type User, UserId, UserPatch } from '../../users/users-repo.js';
import type { ApiRegistry } from '../api.js';
import { actorOf } from '../auth.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import { userView } from './auth.js';
import { UserView } from './schemas.js';

const Params = z.strictObject({ id: UserId });
const TokenParams = z.strictObject({ tokenId: z.guid() });
const NewToken = z.strictObject({
  name: z.string().trim().min(1).max(80),
  /** Optional expiry (with an offset or Z). */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
const TokenView = z.strictObject({
  id: z.string(),
  userId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

/** What the audit log keeps of a user (no secrets). */
const auditView = (u: User) => ({
  role: u.role,
  displayName: u.displayName,
  stations: u.stations,
  disabled: u.disabledAt !== null,
  locale: u.locale,
});

export function userRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const users = ctx.users.users;

  api.add({
    method: 'get',
    path: '/users',
    tag: 'users',
    summary: 'Every user',
    access: 'users.manage',
    response: z.array(UserView),
    handler: () => users.list().map(userView),
  });

  api.add({
    method: 'post',
    path: '/users',
    tag: 'users',
    summary: 'Create a user (operators name the stations they own)',
    access: 'users.manage',
    body: NewUser,
    response: UserView,
    status: 201,
    audited: true,
    async handler({ me, body }) {
      const u = await users.create(body);
      ctx.store.audit.record({
        actor: actorOf(me),
        action: 'user.create',
        target: `user:${u.id}`,
        details: { after: auditView(u) },
      });
      return userView(u);
    },
  });

  api.add({
    method: 'get',
    path: '/users/:id',
    tag: 'users',
    summary: 'One user',
    access: 'users.manage',
    params: Params,
    response: UserView,
    handler: ({ params }) => userView(users.require(params.id)),
  });

  api.add({
    method: 'patch',
    path: '/users/:id',
    tag: 'users',
    summary: 'Change a user: name, role, stations, language, password, disabled',
    description: 'A new password or disabling ends every session and token of the user at once.',
    access: 'users.manage',
    params: Params,
    body: UserPatch,
    response: UserView,
    audited: true,
    async handler({ me, params, body }) {
      const before = users.require(params.id);
      const after = await users.update(params.id, body);
      ctx.store.audit.record({
        actor: actorOf(me),
        action: 'user.update',
        target: `user:${after.id}`,
        details: {
          before: auditView(before),
          after: auditView(after),
          passwordChanged: body.password !== undefined,
        },
      });
      ctx.sse.disconnectUser(after.id);
      return userView(after);
    },
  });

  api.add({
    method: 'delete',
    path: '/users/:id',
    tag: 'users',
    summary: 'Delete a user (their sessions and tokens end)',
    access: 'users.manage',
    params: Params,
    audited: true,
    handler({ me, params }) {
      const before = users.require(params.id);
      users.remove(params.id);
      ctx.store.audit.record({
        actor: actorOf(me),
        action: 'user.delete',
        target: `user:${params.id}`,
        details: { before: auditView(before) },
      });
      ctx.sse.disconnectUser(params.id);
      return undefined;
    },
  });

  api.add({
    method: 'get',
    path: '/users/:id/tokens',
    tag: 'users',
    summary: "A user's API tokens (without their secrets)",
    access: 'users.manage',
    params: Params,
    response: z.array(TokenView),
    handler: ({ params }) => {
      users.require(params.id);
      return ctx.users.tokens.list(params.id);
    },
  });

  api.add({
    method: 'post',
    path: '/users/:id/tokens',
    tag: 'users',
    summary: 'Create an API token for a user; the secret is in this answer only',
    access: 'users.manage',
    params: Params,
    body: NewToken,
    response: z.strictObject({ token: z.string(), info: TokenView }),
    status: 201,
    audited: true,
    handler({ me, params, body }) {
      users.require(params.id);
      const expiresAt = body.expiresAt === undefined ? null : new Date(body.expiresAt).toISOString();
      const created = ctx.users.tokens.create(params.id, body.name, expiresAt);
      ctx.store.audit.record({
        actor: actorOf(me),
        action: 'token.create',
        target: `user:${params.id}`,
        details: { after: { tokenId: created.info.id, name: body.name, expiresAt } },
      });
      return created;
    },
  });

  api.add({
    method: 'delete',
    path: '/tokens/:tokenId',
    tag: 'users',
    summary: 'Revoke an API token',
    access: 'users.manage',
    params: TokenParams,
    audited: true,
    handler({ me, params }) {
      const t = ctx.users.tokens.get(params.tokenId);
      if (!t) throw notFound(`no token ${params.tokenId}`);
      ctx.users.tokens.revoke(t.id);
      ctx.store.audit.record({
        actor: actorOf(me),
        action: 'token.revoke',
        target: `user:${t.userId}`,
        details: { before: { tokenId: t.id, name: t.name } },
      });
      return undefined;
    },
  });
}
