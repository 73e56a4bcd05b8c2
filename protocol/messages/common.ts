/**
 * Primitives shared by every message family. Protocol timestamps are UTC with `Z` (DESIGN.md §4);
 * inputs that carry offsets (HTTP forms) use `OffsetTimestamp` and are normalised at the edge.
 */
import { z } from 'zod';

/** Station id = MQTT username = client id (DESIGN.md §4). */
export const STATION_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const StationId = z
  .string()
  .regex(STATION_ID_PATTERN, 'station id must match ^[a-z0-9][a-z0-9-]{1,62}$');
export type StationId = z.infer<typeof StationId>;

/** UTC instant with a `Z` suffix, e.g. `2026-11-27T11:00:00Z`. */
export const UtcTimestamp = z.iso.datetime();
export type UtcTimestamp = z.infer<typeof UtcTimestamp>;

/** An instant with an explicit offset (HTTP forms); convert with `toUtc` before it enters the protocol. */
export const OffsetTimestamp = z.iso.datetime({ offset: true });

/** Canonical IANA zones known to the runtime: a constant, looked up before the slower Intl construction. */
const CANONICAL_ZONES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('timeZone'));

/** IANA time zone name; validated by the runtime's Intl support (aliases such as `UTC` included). */
export const TimeZone = z.string().refine((tz) => {
  if (CANONICAL_ZONES.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'unknown IANA time zone');

/** Line-up service key, e.g. `cctv1` (stable id chosen by the headend, not the DVB service id). */
export const ServiceKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'service key: lower-case, 1–64 chars');
export type ServiceKey = z.infer<typeof ServiceKey>;

/** Entity ids (entries, conferences, RPC rids): opaque, URL-safe. */
export const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'id: 1–64 chars of A–Z a–z 0–9 _ -');
export type Id = z.infer<typeof Id>;

/** Random id of a station's local database; `(storeId, seq)` keys every event (DESIGN.md §4). */
export const StoreId = z.string().regex(/^[a-f0-9]{16,64}$/, 'storeId: 16–64 lower-case hex chars');

/** Schedule document version: `n` only grows within an epoch; a new epoch is newer (DESIGN.md §4). */
export const ScheduleVersion = z.object({
  epoch: z.number().int().nonnegative(),
  n: z.number().int().nonnegative(),
});
export type ScheduleVersion = z.infer<typeof ScheduleVersion>;

/** -1, 0, 1: is `a` older than, equal to, or newer than `b`. */
export function compareVersions(a: ScheduleVersion, b: ScheduleVersion): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.n !== b.n) return a.n < b.n ? -1 : 1;
  return 0;
}

/** Presence counters persisted on the station; both only grow (DESIGN.md §4, Presence). */
export const Boot = z.object({
  n: z.number().int().nonnegative(),
  conn: z.number().int().nonnegative(),
});
export type Boot = z.infer<typeof Boot>;

/** -1, 0, 1 ordering of boot/connection counters: a Will older than the last birth is ignored. */
export function compareBoot(a: Boot, b: Boot): -1 | 0 | 1 {
  if (a.n !== b.n) return a.n < b.n ? -1 : 1;
  if (a.conn !== b.conn) return a.conn < b.conn ? -1 : 1;
  return 0;
}

/** SHA-256 digest as 64 lower-case hex characters (schedule payload hashes, DESIGN.md §4). */
export const Sha256Hex = z.string().regex(/^[a-f0-9]{64}$/, 'sha256: 64 lower-case hex chars');

/** Major version of the MQTT contract; it is also the topic root's `v1` (PROTOCOL.md, Versioning). */
export const PROTOCOL_MAJOR = 1;
/**
 * Additive revision within the major version: bumped when an optional field is added. A station reports
 * the revision it implements (state `protocolRevision`); the headend sends a new optional field only to
 * stations whose revision includes it, because every v1 schema is strict (PROTOCOL.md, Versioning).
 */
export const PROTOCOL_REVISION = 0;
