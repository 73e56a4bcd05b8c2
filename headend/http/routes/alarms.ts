/**
 * Alarms (issue 8; DESIGN.md §7): the active alarms with their probable cause (a row of the failure table,
 * DOMAIN.md §6), the evidence, who acknowledged them, and the remote remedies that fit; the history of
 * raised / acknowledged / cleared; acknowledging (audited). Fleet alarms ("carrier lost at 37 stations")
 * are listed once, with the station alarms folded into them. Operators see their own stations' alarms.
 */
import { z } from 'zod';
import { AlarmKind } from '../../../protocol/registry.js';
import type { AlarmRecord } from '../../alarms/types.js';
import { remediesFor } from '../../diagnostics/remedies.js';
import { isStationScoped, roleCan } from '../../users/roles.js';
import type { ApiRegistry } from '../api.js';
import { actorOf, canSeeStation, type Principal } from '../auth.js';
import { type ApiContext, need } from '../context.js';
import { notFound } from '../errors.js';
import { Limit, QueryInstant } from './schemas.js';

const ActiveQuery = z.strictObject({
  station: z.string().max(63).optional(),
  kind: AlarmKind.optional(),
  scope: z.enum(['station', 'fleet']).optional(),
});

const HistoryQuery = z.strictObject({
  station: z.string().max(63).optional(),
  kind: AlarmKind.optional(),
  from: QueryInstant.optional(),
  to: QueryInstant.optional(),
  /** Only alarms still active. */
  active: z.enum(['true', 'false']).optional(),
  limit: Limit(1000, 100),
});

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An alarm as the API shows it (times ISO; remedies for those who may run them). */
/** The driver family of a station's receiver, from the registry (what the remedies may offer depends on it). */
type FamilyOf = (station: string, receiverId: string) => string | null | undefined;

export function alarmView(a: AlarmRecord, me: Principal, linked = 0, familyOf?: FamilyOf) {
  return {
    id: a.id,
    scope: a.scope,
    station: a.station,
    carrier: a.carrier,
    subject: a.subject,
    kind: a.kind,
    severity: a.severity,
    cause: a.cause,
    evidence: a.evidence,
    raisedAt: iso(a.raisedAt),
    ackedBy: a.ackedBy,
    ackedAt: iso(a.ackedAt),
    clearedAt: iso(a.clearedAt),
    linkedTo: a.linkedTo,
    // A fleet alarm: how many stations lost the carrier (its evidence), and how many station alarms it holds.
    ...(a.scope === 'fleet'
      ? {
          stations:
            typeof a.evidence.facts.lostStations === 'number' ? a.evidence.facts.lostStations : linked,
          linkedAlarms: linked,
        }
      : {}),
    remedies:
      roleCan(me.user.role, 'diagnostics.run') && a.station !== null && a.clearedAt === null
        ? remediesFor(a, familyOf ? { receiverFamily: (rx) => familyOf(a.station as string, rx) } : {})
        : [],
  };
}

/** May `me` see this alarm? Fleet alarms: everyone but operators; station alarms: who sees the station. */
function visible(me: Principal, a: AlarmRecord): boolean {
  if (a.station === null) return !isStationScoped(me.user.role);
  return canSeeStation(me, a.station);
}

export function alarmRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const familyOf: FamilyOf = (station, rx) =>
    ctx.store.stations.get(station)?.receivers.find((r) => r.id === rx)?.family;
  api.add({
    method: 'get',
    path: '/alarms',
    tag: 'alarms',
    summary: 'Active alarms you may see, oldest first, with cause, evidence and the remedies that fit',
    description:
      'Station alarms folded into a fleet alarm (many stations losing one carrier at once) carry `linkedTo`; ' +
      'the fleet alarm says how many stations it covers.',
    access: 'fleet.read',
    query: ActiveQuery,
    handler({ me, query }) {
      const { alarms } = need(ctx.technician, 'alarms');
      const all = alarms.engine.active();
      const linked = new Map<string, number>();
      for (const a of all) if (a.linkedTo) linked.set(a.linkedTo, (linked.get(a.linkedTo) ?? 0) + 1);
      return all
        .filter(
          (a) =>
            visible(me, a) &&
            (query.station === undefined || a.station === query.station) &&
            (query.kind === undefined || a.kind === query.kind) &&
            (query.scope === undefined || a.scope === query.scope),
        )
        .map((a) => alarmView(a, me, linked.get(a.id) ?? 0, familyOf));
    },
  });

  api.add({
    method: 'get',
    path: '/alarms/history',
    tag: 'alarms',
    summary: 'Alarms raised in a window (active and cleared), most recent first',
    access: 'fleet.read',
    query: HistoryQuery,
    handler({ me, query }) {
      const { alarms } = need(ctx.technician, 'alarms');
      return alarms.repo
        .list({
          ...(query.station ? { station: query.station } : {}),
          ...(query.kind ? { kind: query.kind } : {}),
          ...(query.from ? { from: Date.parse(query.from) } : {}),
          ...(query.to ? { to: Date.parse(query.to) } : {}),
          ...(query.active === 'true' ? { activeOnly: true } : {}),
          limit: query.limit,
        })
        .filter((a) => visible(me, a))
        .map((a) => alarmView(a, me, 0, familyOf));
    },
  });

  api.add({
    method: 'get',
    path: '/alarms/:id',
    tag: 'alarms',
    summary: 'One alarm with its history: raised, severity changes, acknowledged (by whom), cleared',
    access: 'fleet.read',
    params: IdParams,
    handler({ me, params }) {
      const { alarms } = need(ctx.technician, 'alarms');
      const a = alarms.engine.get(params.id) ?? alarms.repo.get(params.id);
      if (!a || !visible(me, a)) throw notFound(`no alarm ${params.id}`);
      const members = alarms.engine.active().filter((x) => x.linkedTo === a.id);
      return {
        ...alarmView(a, me, members.length, familyOf),
        history: alarms.repo.history(a.id).map((h) => ({ ...h, at: iso(h.at) })),
        ...(a.scope === 'fleet' ? { members: members.map((m) => m.station) } : {}),
      };
    },
  });

  api.add({
    method: 'post',
    path: '/alarms/:id/acknowledge',
    tag: 'alarms',
    summary: 'Acknowledge an active alarm (someone is on it); it clears by itself when the condition ends',
    access: 'alarms.ack',
    audited: true,
    params: IdParams,
    handler({ me, params }) {
      const { alarms } = need(ctx.technician, 'alarms');
      const a = alarms.engine.get(params.id);
      if (!a || !visible(me, a)) throw notFound(`no active alarm ${params.id}`);
      // AlarmError ALREADY_ACKNOWLEDGED → 409 (errors.ts); the service writes the audit row.
      return alarmView(alarms.acknowledge(params.id, actorOf(me)), me, 0, familyOf);
    },
  });
}
