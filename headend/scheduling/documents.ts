/**
 * Issuing schedule documents (DESIGN.md §4 "Desired state, not commands"): compile the stations a change
 * touched and write each changed document as the next version `{epoch, n+1}` — inside the caller's
 * transaction, so the change and its new versions commit together (the outbox, DESIGN.md §7). A station
 * whose document would not change keeps its version (an edit of a county's entry republishes exactly that
 * county's stations); a station whose newest document is from an older epoch (after a restore) always gets
 * a new one, which it accepts as newer.
 */
import type { ScheduleVersion } from '../../protocol/messages/common.js';
import { createGuideLinkStore } from '../guide/guide-links.js';
import type { Store } from '../store/index.js';
import type { Station } from '../store/stations.js';
import {
  type CompiledStation,
  type CompileWarning,
  compileContext,
  compileStation,
  contentKey,
  documentBytes,
  storedContentKey,
} from './compile.js';
import type { EntriesRepo, StoredEntry } from './entries-repo.js';

/** A document written by an operation. */
export interface IssuedVersion {
  stationId: string;
  version: ScheduleVersion;
}

/** What compiling (and possibly issuing) a set of stations produced. */
export interface IssueOutcome {
  issued: IssuedVersion[];
  /** Stations whose document did not change. */
  unchanged: string[];
  warnings: CompileWarning[];
  compiled: CompiledStation[];
}

export interface DocumentsDeps {
  store: Store;
  entries: EntriesRepo;
  timeZone: string;
  /**
   * Parsed registry rows kept between operations, keyed by station id and checked against the columns
   * compiling reads: a fleet-wide change then compares 102 short strings instead of parsing 102 receiver
   * lists again.
   */
  stationCache?: Map<string, { key: string; station: Station }>;
}

/** Station look-up for one operation, through `stationCache` when there is one. */
function stationReader(deps: DocumentsDeps): (id: string) => Station | undefined {
  const cache = deps.stationCache;
  if (!cache) return (id) => deps.store.stations.get(id);
  // What compiling reads of a station (receivers, revocation) is the cache key, so a change is never missed.
  const stamp = deps.store.db.prepare<[string], { k: string }>(
    "SELECT receivers_json || '|' || COALESCE(revoked_at, '') || '|' || county AS k FROM stations WHERE id = ?",
  );
  return (id) => {
    const row = stamp.get(id);
    if (!row) return undefined;
    const hit = cache.get(id);
    if (hit && hit.key === row.k) return hit.station;
    const station = deps.store.stations.get(id);
    if (station) cache.set(id, { key: row.k, station });
    return station;
  };
}

/** Compiles `stationIds` as the database is now (inside a transaction when the caller needs consistency). */
export function compileStations(
  deps: DocumentsDeps,
  stationIds: Iterable<string>,
  now: Date,
): CompiledStation[] {
  // One read of the live entries for all stations (a conference for "all" is one row, not 102 queries).
  const byStation = new Map<string, StoredEntry[]>();
  for (const e of deps.entries.list()) {
    for (const s of e.stations) {
      const list = byStation.get(s);
      if (list) list.push(e);
      else byStation.set(s, [e]);
    }
  }
  const ctx = compileContext(deps.store, {
    timeZone: deps.timeZone,
    now,
    guideLinks: createGuideLinkStore(deps.store.db),
    entriesOf: (id) => byStation.get(id) ?? [],
  });
  // Stations with the same receivers and the same entries (most of a fleet-wide conference's 102) get the
  // same content: compiled once, shared.
  const bySignature = new Map<string, CompiledStation>();
  const out: CompiledStation[] = [];
  const stationOf = stationReader(deps);
  for (const id of [...new Set(stationIds)].sort()) {
    const s = stationOf(id);
    if (!s || s.revokedAt) continue; // a revoked station gets no documents (its broker access is gone too)
    const entries = byStation.get(id) ?? [];
    const signature = `${JSON.stringify(s.receivers.map((r) => [r.id, r.sharing]))}|${entries.map((e) => `${e.id}.${e.rev}`).join(',')}`;
    const same = bySignature.get(signature);
    if (same) {
      out.push({
        stationId: id,
        content: same.content,
        warnings: same.warnings.map((w) => ({
          ...w,
          stationId: id,
          message: w.message.replaceAll(same.stationId, id),
        })),
      });
      continue;
    }
    const c = compileStation(ctx, id, s);
    bySignature.set(signature, c);
    out.push(c);
  }
  return out;
}

/**
 * Compiles and issues the stations' documents; call inside the transaction of the change that caused it.
 * `force` issues even when the content is unchanged (an explicit "republish with a new version").
 */
export function issueDocuments(
  deps: DocumentsDeps,
  stationIds: Iterable<string>,
  now: Date,
  opts: { force?: boolean } = {},
): IssueOutcome {
  const store = deps.store;
  const compiled = compileStations(deps, stationIds, now);
  const epoch = store.meta.scheduleEpoch();
  const issued: IssuedVersion[] = [];
  const unchanged: string[] = [];
  // Stations with the same content (a fleet-wide conference) are serialised and schema-validated once.
  const validated = new Set<string>();
  const keys = new Map<CompiledStation['content'], string>();
  for (const c of compiled) {
    let key = keys.get(c.content);
    if (key === undefined) {
      key = contentKey(c.content);
      keys.set(c.content, key);
    }
    const contentJson = key;
    const latest = store.schedules.latest(c.stationId);
    if (
      !opts.force &&
      latest !== undefined &&
      latest.version.epoch === epoch &&
      storedContentKey(latest.doc) === key
    ) {
      unchanged.push(c.stationId);
      continue;
    }
    const doc = store.schedules.issue(c.stationId, (version) =>
      documentBytes(c.stationId, c.content, version, now, {
        validate: !validated.has(contentJson),
        contentJson,
      }),
    );
    validated.add(contentJson);
    issued.push({ stationId: c.stationId, version: doc.version });
  }
  return { issued, unchanged, warnings: compiled.flatMap((c) => c.warnings), compiled };
}
