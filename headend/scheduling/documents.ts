/**
 * Issuing schedule documents (DESIGN.md §4 "Desired state, not commands"): compile the stations a change
 * touched and write each changed document as the next version `{epoch, n+1}` — inside the caller's
 * transaction, so the change and its new versions commit together (the outbox, DESIGN.md §7). A station
 * whose document would not change keeps its version (an edit of a county's entry republishes exactly that
 * county's stations); a station whose newest document is from an older epoch (after a restore) always gets
 * a new one, which it accepts as newer.
 */
import { createHash } from 'node:crypto';
import type { ScheduleVersion } from '../../protocol/messages/common.js';
import { createGuideLinkStore } from '../guide/guide-links.js';
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/index.js';
import type { DocHead, IssuedDoc } from '../store/schedules.js';
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
  /** The documents written, bytes included: after the commit, the cache and the publisher take them. */
  docs: IssuedDoc[];
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
  /**
   * The content key (compile.ts `contentKey`) of each station's newest document as this process last
   * built it, with that document's SHA-256: when the stored head still has that hash, "did the content
   * change?" needs neither the stored bytes nor parsing them (a hash names the bytes, so an entry can
   * never be wrong, even for a version rolled back). At most one entry per station.
   */
  contentKeys?: Map<string, { sha256: string; key: string }>;
}

/** Station look-up for one operation, through `stationCache` when there is one. */
function stationReader(deps: DocumentsDeps, ids: readonly string[]): (id: string) => Station | undefined {
  const cache = deps.stationCache;
  if (!cache) {
    // Read together: one statement for a fleet-wide change (store/stations.ts `getMany`).
    const rows = deps.store.stations.getMany(ids);
    return (id) => rows.get(id);
  }
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

/**
 * An entry to compile in place of the stored one (a change planned but not yet written,
 * entry-changes.ts): `entry` null means deleted.
 */
export interface EntryOverlay {
  id: string;
  entry: StoredEntry | null;
}

/** Live entries as the database has them, with `overlay` applied. */
function liveEntries(deps: DocumentsDeps, overlay?: EntryOverlay): StoredEntry[] {
  const stored = deps.entries.list();
  if (!overlay) return stored;
  const rest = stored.filter((e) => e.id !== overlay.id);
  return overlay.entry ? [...rest, overlay.entry] : rest;
}

/**
 * Compiles `stationIds` as the database is now, with `overlay` in place of its stored entry (read inside
 * one transaction when the caller needs a consistent snapshot).
 */
export function compileStations(
  deps: DocumentsDeps,
  stationIds: Iterable<string>,
  now: Date,
  overlay?: EntryOverlay,
): CompiledStation[] {
  // One read of the live entries for all stations (a conference for "all" is one row, not 102 queries).
  const byStation = new Map<string, StoredEntry[]>();
  for (const e of liveEntries(deps, overlay)) {
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
  const ids = [...new Set(stationIds)].sort();
  const stationOf = stationReader(deps, ids);
  for (const id of ids) {
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

/** A document built from a read snapshot, to be written by `writePrepared`. */
export interface PreparedDoc {
  stationId: string;
  version: ScheduleVersion;
  doc: Buffer;
  sha256: string;
}

/** What `prepareDocuments` read and built; nothing is written yet. */
export interface PreparedDocuments {
  docs: PreparedDoc[];
  unchanged: string[];
  warnings: CompileWarning[];
  compiled: CompiledStation[];
}

/**
 * Compiles the stations and builds the bytes of every document that changed, with the version each gets
 * (`{epoch, n+1}` of the station's newest, or `{epoch, 1}` in a new epoch) — READS ONLY, so it can run
 * from a snapshot before the write transaction (commit.ts). The versions are right only if nothing is
 * committed between this read and `writePrepared`: commit.ts checks that; inside one transaction it holds.
 * `force` builds a new version even when the content is unchanged (an explicit "republish").
 */
export function prepareDocuments(
  deps: DocumentsDeps,
  stationIds: Iterable<string>,
  now: Date,
  opts: { force?: boolean; overlay?: EntryOverlay } = {},
): PreparedDocuments {
  const store = deps.store;
  const compiled = compileStations(deps, stationIds, now, opts.overlay);
  const epoch = store.meta.scheduleEpoch();
  const docs: PreparedDoc[] = [];
  const unchanged: string[] = [];
  // Stations with the same content (a fleet-wide conference) are serialised and schema-validated once.
  const validated = new Set<string>();
  const keys = new Map<CompiledStation['content'], string>();
  // The newest head of every station compiled, read together (one statement for a fleet-wide change).
  const heads = store.schedules.heads(compiled.map((c) => c.stationId));
  const memo = deps.contentKeys;
  // The stored content of a station's newest document: from the memo when the hash is the one it holds.
  const storedKey = (head: DocHead): string | null => {
    const m = memo?.get(head.stationId);
    if (m && m.sha256 === head.sha256) return m.key;
    const latest = store.schedules.latest(head.stationId);
    return latest ? storedContentKey(latest.doc) : null;
  };
  for (const c of compiled) {
    let key = keys.get(c.content);
    if (key === undefined) {
      key = contentKey(c.content);
      keys.set(c.content, key);
    }
    const latest = heads.get(c.stationId);
    if (latest && latest.version.epoch > epoch) {
      throw new StoreError(
        'CONFLICT',
        `station ${c.stationId} has a document of epoch ${latest.version.epoch} > current ${epoch}`,
      );
    }
    if (!opts.force && latest !== undefined && latest.version.epoch === epoch && storedKey(latest) === key) {
      unchanged.push(c.stationId);
      continue;
    }
    const version = { epoch, n: latest && latest.version.epoch === epoch ? latest.version.n + 1 : 1 };
    const doc = documentBytes(c.stationId, c.content, version, now, {
      validate: !validated.has(key),
      contentJson: key,
    });
    validated.add(key);
    const sha256 = sha256Hex(doc);
    docs.push({ stationId: c.stationId, version, doc, sha256 });
    memo?.set(c.stationId, { sha256, key });
  }
  return { docs, unchanged, warnings: compiled.flatMap((c) => c.warnings), compiled };
}

/** Writes prepared documents (inside the change's write transaction: the outbox, DESIGN.md §7). */
export function writePrepared(store: Store, prepared: PreparedDocuments): IssueOutcome {
  const issued: IssuedVersion[] = [];
  const docs: IssuedDoc[] = [];
  for (const d of prepared.docs) {
    docs.push(store.schedules.insertIssued(d));
    issued.push({ stationId: d.stationId, version: d.version });
  }
  return {
    issued,
    docs,
    unchanged: prepared.unchanged,
    warnings: prepared.warnings,
    compiled: prepared.compiled,
  };
}

/**
 * Compiles and issues the stations' documents; call inside the transaction of the change that caused it
 * (commit.ts moves the compile out of the write transaction where it can).
 * `force` issues even when the content is unchanged (an explicit "republish with a new version").
 */
export function issueDocuments(
  deps: DocumentsDeps,
  stationIds: Iterable<string>,
  now: Date,
  opts: { force?: boolean } = {},
): IssueOutcome {
  return writePrepared(deps.store, prepareDocuments(deps, stationIds, now, opts));
}

const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
