/**
 * Schemas of the API's answers and of the query strings shared by several routes. Request bodies reuse the
 * inner layers' own schemas (entries, stations, line-up, users) so there is one source per shape; these
 * describe what the API adds (views joining several parts) for the OpenAPI document and the UI.
 */
import { z } from 'zod';
import { OffsetTimestamp, ScheduleVersion, StationId } from '../../../protocol/messages/common.js';
import { PERMISSIONS, Role } from '../../users/roles.js';

/** A page size: `?limit=50` (strings in a query are coerced). */
export const Limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

/** An instant in a query: with an offset or `Z`, normalised to UTC. */
export const QueryInstant = OffsetTimestamp.transform((s) =>
  new Date(s).toISOString().replace(/\.000Z$/, 'Z'),
);

export const StationParams = z.strictObject({ id: StationId });

export const UserView = z.strictObject({
  id: z.string(),
  displayName: z.string(),
  role: Role,
  locale: z.enum(['zh-CN', 'en']),
  stations: z.array(z.string()),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
  passwordChangedAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const MeView = z.strictObject({
  user: UserView,
  via: z.enum(['session', 'token']),
  permissions: z.array(z.enum(PERMISSIONS)),
  /** Send this in `X-CSRF-Token` on every change made with the session cookie. */
  csrf: z.string().nullable(),
  sessionExpiresAt: z.string().nullable(),
  /** The headend's (prefecture's) time zone; every station shows times in it (DOMAIN.md §1). */
  timeZone: z.string(),
  version: z.string(),
});

const ReceiverLive = z.object({
  id: z.string(),
  locked: z.boolean(),
  service: z.string().nullable(),
  marginDb: z.number().nullable(),
  cnDb: z.number().nullable().optional(),
  lnb: z.string(),
  link: z.string(),
});

/** One station on the fleet board. */
export const StationLiveView = z.object({
  id: z.string(),
  name: z.string(),
  county: z.string(),
  tags: z.array(z.string()),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  revoked: z.boolean(),
  /** Presence (DESIGN.md §4): `online`, `disconnected` (since when), `unknown` (not heard since the headend started). */
  connection: z.enum(['online', 'disconnected', 'unknown']).nullable(),
  since: z.string().nullable(),
  /** The offline alarm is raised (after the grace period). */
  offlineAlarm: z.boolean(),
  agentVersion: z.string().nullable(),
  maintenance: z.object({ holder: z.string(), until: z.string() }).nullable(),
  schedule: z.object({
    desired: ScheduleVersion.nullable(),
    applied: ScheduleVersion.nullable(),
    inSync: z.boolean(),
    lagSince: z.string().nullable(),
    lagMs: z.number().nullable(),
    rejected: z.object({ code: z.string(), reason: z.string(), at: z.string() }).nullable(),
  }),
  receivers: z.array(ReceiverLive),
  /** Smallest margin over locked receivers, dB (DOMAIN.md §2: healthy ≥ 3, alarm < 1). */
  marginDb: z.number().nullable(),
  /** What it is doing now: recordings running, from the last telemetry. */
  activity: z.array(z.object({ entryId: z.string(), nominalStart: z.string(), receiverId: z.string() })),
  telemetryAt: z.string().nullable(),
  disk: z
    .object({ freeBytes: z.number(), usedBytes: z.number(), quotaBytes: z.number().nullable() })
    .nullable(),
  alarms: z.array(
    z.object({
      kind: z.string(),
      severity: z.string(),
      subject: z.string(),
      message: z.string(),
      at: z.string(),
    }),
  ),
  /** The station's time zone (times on its page are shown in it). */
  timeZone: z.string(),
});

export const Ok = z.strictObject({ ok: z.literal(true) });
