/**
 * Station groups and the line-up (issue 6). Everyone reads them (the guide grid and the entry form need
 * the services; the control room targets groups); admins change them, and each change is audited with
 * before/after and followed by what it implies (documents recompiled, the line-up republished).
 */
import { z } from 'zod';
import { StationId } from '../../../protocol/messages/common.js';
import { NewGroup } from '../../store/groups.js';
import { LineupInput } from '../../store/lineup.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, visibleStations } from '../auth.js';
import type { ApiContext } from '../context.js';

const GroupParams = z.strictObject({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) });
const Members = z
  .strictObject({
    add: z.array(StationId).max(5000).default([]),
    remove: z.array(StationId).max(5000).default([]),
  })
  .refine((m) => m.add.length + m.remove.length > 0, 'name stations to add or remove');

export function registryRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const { store } = ctx;

  api.add({
    method: 'get',
    path: '/groups',
    tag: 'groups',
    summary: 'Counties and free-form groups, with the members you may see',
    access: 'user',
    handler: ({ me }) =>
      store.groups.list().map((g) => ({ ...g, members: visibleStations(me, store.groups.members(g.id)) })),
  });

  api.add({
    method: 'post',
    path: '/groups',
    tag: 'groups',
    summary: 'Create a free-form group',
    access: 'stations.manage',
    body: NewGroup,
    status: 201,
    audited: true,
    handler({ me, body }) {
      const g = store.transaction(() => {
        const created = store.groups.create(body);
        store.audit.record({
          actor: actorOf(me),
          action: 'group.create',
          target: `group:${created.id}`,
          details: { after: created },
        });
        return created;
      });
      return { ...g, members: [] };
    },
  });

  api.add({
    method: 'delete',
    path: '/groups/:id',
    tag: 'groups',
    summary: 'Delete a free-form group (counties cannot be deleted)',
    access: 'stations.manage',
    params: GroupParams,
    audited: true,
    handler({ me, params }) {
      store.transaction(() => {
        const before = store.groups.get(params.id);
        const members = before ? store.groups.members(params.id) : [];
        store.groups.remove(params.id);
        store.audit.record({
          actor: actorOf(me),
          action: 'group.delete',
          target: `group:${params.id}`,
          details: { before: { ...before, members } },
        });
      });
      ctx.onStationsChanged?.(actorOf(me));
      return undefined;
    },
  });

  api.add({
    method: 'post',
    path: '/groups/:id/members',
    tag: 'groups',
    summary: 'Add stations to and remove stations from a free-form group',
    access: 'stations.manage',
    params: GroupParams,
    body: Members,
    audited: true,
    handler({ me, params, body }) {
      const members = store.transaction(() => {
        const before = store.groups.members(params.id);
        store.groups.addMembers(params.id, body.add);
        store.groups.removeMembers(params.id, body.remove);
        const after = store.groups.members(params.id);
        store.audit.record({
          actor: actorOf(me),
          action: 'group.members',
          target: `group:${params.id}`,
          details: { before, after },
        });
        return after;
      });
      ctx.onStationsChanged?.(actorOf(me));
      return { id: params.id, members };
    },
  });

  api.add({
    method: 'get',
    path: '/lineup',
    tag: 'lineup',
    summary: 'The line-up: carriers and the services on them (sample data; DOMAIN.md §2)',
    access: 'user',
    handler: () => ({ version: store.lineup.version(), ...store.lineup.export() }),
  });

  api.add({
    method: 'put',
    path: '/lineup',
    tag: 'lineup',
    summary: 'Replace the whole line-up; republished to every station, documents recompiled',
    access: 'lineup.manage',
    body: LineupInput,
    audited: true,
    handler({ me, body }) {
      const version = store.transaction(() => {
        const before = store.lineup.export();
        const v = store.lineup.replace(body);
        store.audit.record({
          actor: actorOf(me),
          action: 'lineup.replace',
          target: 'lineup',
          details: { version: v, before, after: store.lineup.export() },
        });
        return v;
      });
      ctx.onLineupChanged?.();
      return { version, ...store.lineup.export() };
    },
  });
}
