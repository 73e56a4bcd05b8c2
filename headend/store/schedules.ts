/**
 * Issued schedule documents, one row per station per version `{epoch, n}` (DESIGN.md §4 "Desired state"):
 * the exact bytes published and their SHA-256, which stations report back for what they applied. `n` only
 * grows within an epoch; a restore starts a new epoch (meta.ts), so the next document of every station is
 * `{newEpoch, 1}` and stations accept it as newer. `published_at` is the outbox flag: null until the broker
 * accepted the retained publish.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { compareVersions, type ScheduleVersion } from '../../protocol/messages/common.js';
import { dataVersionPerTurn } from './data-version.js';
import { StoreError } from './errors.js';
import { createMetaRepo } from './meta.js';

/** One issued document. */
export interface IssuedDoc {
  stationId: string;
  version: ScheduleVersion;
  /** The payload bytes exactly as published. */
  doc: Buffer;
  /** Lower-case hex SHA-256 of `doc`. */
  sha256: string;
  issuedAt: string;
  publishedAt: string | null;
}

/** Repo over `schedule_docs`. */
export interface SchedulesRepo {
  /** The version the next document of `stationId` gets (current epoch; n + 1 within it, else 1). */
  nextVersion(stationId: string): ScheduleVersion;
  /**
   * Issues the next document: `build` gets the version and returns the payload bytes (or a string, UTF-8).
   * Runs in one transaction, so callers can commit their own change and the new version together by calling
   * it inside their transaction (DESIGN.md §7 outbox).
   */
  issue(stationId: string, build: (version: ScheduleVersion) => Buffer | string): IssuedDoc;
  /**
   * Writes a document whose version the caller computed from the station's newest one read in the same
   * snapshot (headend/scheduling/documents.ts `prepareDocuments`, inside the write transaction or checked
   * unchanged since, commit.ts). The unique `(station_id, epoch, n)` index refuses a version issued twice.
   */
  insertIssued(d: { stationId: string; version: ScheduleVersion; doc: Buffer; sha256: string }): IssuedDoc;
  /** The newest document of a station (any epoch), or undefined. */
  latest(stationId: string): IssuedDoc | undefined;
  /**
   * The newest document's version, hash and times, without its bytes: what the desired-vs-applied status
   * reads after every station report. Cached between writes (see `createHeadCache`); do not mutate.
   */
  head(stationId: string): DocHead | undefined;
  /**
   * The newest head of each of `stationIds` that has a document, as `head` gives it. Many ids are read
   * with ONE statement (a fleet-wide change compiles 5 000 stations inside a read transaction, where the
   * head cache does not serve); a few, one by one.
   */
  heads(stationIds: readonly string[]): Map<string, DocHead>;
  /**
   * Documents this connection has just COMMITTED (call after the write transaction, never inside one): they
   * become the cached heads, so the first status read after a push costs no query (a fleet-wide push made
   * every station's first report after it a cache miss). Ignored inside a transaction.
   */
  committed(docs: readonly DocHead[]): void;
  /** The newest document of every station: what the headend republishes at start and on reconnect. */
  latestAll(): IssuedDoc[];
  /** Newest documents not yet accepted by the broker. */
  unpublished(): IssuedDoc[];
  /**
   * The broker accepted `version` (PUBACK): sets its `published_at`; every `PRUNE_EVERY`-th version it also
   * drops the bytes of the station's older versions (their hash and times stay: `wasIssued` knows them).
   */
  markPublished(stationId: string, version: ScheduleVersion): void;
  /**
   * After the transaction holding `markPublished` COMMITTED (the write batch's after-commit hook; never
   * after a rollback): the cached head of that version gets the `published_at` the row now has, instead of
   * being forgotten and read again on the next report.
   */
  publishedCommitted(stationId: string, version: ScheduleVersion): void;
  /** Was this version (and, when given, this hash) ever issued to the station? */
  wasIssued(stationId: string, version: ScheduleVersion, sha256?: string): boolean;
  /** Stations whose newest document is from an older epoch than the current one (after a restore). */
  staleEpochStations(): string[];
}

/** From this many stations on, `heads` reads every station's newest head in one statement. */
export const BULK_HEADS_FROM = 64;

/** Superseded documents' bytes are dropped when a station's published version reaches a multiple of this. */
export const PRUNE_EVERY = 8;

/** An issued document without its bytes. */
export type DocHead = Readonly<Omit<IssuedDoc, 'doc'>>;

/**
 * The newest head of each station, reused while nothing could have changed it: a write through this repo
 * forgets that station's entry, and `PRAGMA data_version` moves when another connection commits (then all
 * are forgotten). Filled only outside transactions, so a version written by a transaction that is later
 * rolled back is never kept. At 5 000 stations every push makes each station report once, and its status
 * is read by the station board and by the alarm rules: two queries per report before.
 */
function createHeadCache(db: Database) {
  const dataVersion = dataVersionPerTurn(db);
  const exactDataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const cache = new Map<string, DocHead | null>();
  let stamp = -1;
  const current = () => {
    const v = dataVersion();
    if (v !== stamp) {
      cache.clear();
      stamp = v;
    }
  };
  const frozen = (h: DocHead): DocHead => Object.freeze({ ...h, version: Object.freeze({ ...h.version }) });
  return {
    forget(stationId: string) {
      cache.delete(stationId);
    },
    /** A head known to be committed and newest (outside transactions only). */
    prime(stationId: string, h: DocHead) {
      if (db.inTransaction) return;
      current();
      cache.set(stationId, frozen(h));
    },
    /** The cached head, if any, inside a transaction too (what the cache held when it began). */
    peekAny(stationId: string): { head: DocHead; stamp: number } | undefined {
      const h = cache.get(stationId);
      return h && dataVersion() === stamp ? { head: h, stamp } : undefined;
    },
    /**
     * The cached heads (null: no document), when they are certainly current — inside a transaction too
     * (the read snapshot that compiles a change): writes through this repo forget their station, and no
     * other connection has committed (data_version asked now, not once per turn). Undefined otherwise.
     */
    exact(): ReadonlyMap<string, DocHead | null> | undefined {
      return stamp === exactDataVersion.get() ? cache : undefined;
    },
    /** The data version the cached heads are valid for. */
    stamp: () => stamp,
    /** The cached head, if any (no read). */
    peek(stationId: string): DocHead | undefined {
      if (db.inTransaction) return undefined;
      current();
      return cache.get(stationId) ?? undefined;
    },
    get(stationId: string, read: () => DocHead | undefined): DocHead | undefined {
      if (db.inTransaction) return read();
      current();
      const hit = cache.get(stationId);
      if (hit !== undefined) return hit ?? undefined;
      const h = read();
      cache.set(stationId, h ? frozen(h) : null);
      return h;
    },
  };
}

interface Row {
  station_id: string;
  epoch: number;
  n: number;
  /** Null once superseded by a newer published version (migration 7): only the newest is read back. */
  doc: Buffer | null;
  sha256: string;
  issued_at: string;
  published_at: string | null;
}

const headOf = (r: Omit<Row, 'doc'>): DocHead => ({
  stationId: r.station_id,
  version: { epoch: r.epoch, n: r.n },
  sha256: r.sha256,
  issuedAt: r.issued_at,
  publishedAt: r.published_at,
});

const toDoc = (r: Row): IssuedDoc => {
  // Only versions older than a published one lose their bytes, so a station's newest never does.
  if (r.doc === null) {
    throw new StoreError(
      'CONFLICT',
      `schedule {epoch ${r.epoch}, n ${r.n}} of ${r.station_id} was superseded; its bytes are gone`,
    );
  }
  return {
    stationId: r.station_id,
    version: { epoch: r.epoch, n: r.n },
    doc: r.doc,
    sha256: r.sha256,
    issuedAt: r.issued_at,
    publishedAt: r.published_at,
  };
};

export function createSchedulesRepo(db: Database, now: () => Date = () => new Date()): SchedulesRepo {
  const meta = createMetaRepo(db);
  const cols = 'station_id, epoch, n, doc, sha256, issued_at, published_at';
  // Served by the unique index (station_id, epoch, n): one index probe, one row.
  const latestStmt = db.prepare<[string], Row>(
    `SELECT ${cols} FROM schedule_docs WHERE station_id = ? ORDER BY epoch DESC, n DESC LIMIT 1`,
  );
  // The newest row of every registered station, one index probe each (no scan of the history).
  const newestPerStation = `SELECT ${cols} FROM schedule_docs WHERE id IN (
      SELECT (SELECT d.id FROM schedule_docs d WHERE d.station_id = s.id ORDER BY d.epoch DESC, d.n DESC LIMIT 1)
      FROM stations s)`;
  const latestAllStmt = db.prepare<[], Row>(`${newestPerStation} ORDER BY station_id`);
  const unpublishedStmt = db.prepare<[], Row>(
    `${newestPerStation} AND published_at IS NULL ORDER BY issued_at, station_id`,
  );
  const staleStmt = db.prepare<[number], Row>(`${newestPerStation} AND epoch < ? ORDER BY station_id`);
  const stationExists = db.prepare<[string], { id: string }>('SELECT id FROM stations WHERE id = ?');
  const ins = db.prepare(
    'INSERT INTO schedule_docs (station_id, epoch, n, doc, sha256, issued_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const markStmt = db.prepare(
    'UPDATE schedule_docs SET published_at = COALESCE(published_at, ?) WHERE station_id = ? AND epoch = ? AND n = ?',
  );
  // Bytes of versions older than a published one: the broker retains the newer one and a republish reads
  // the newest, so nothing can send them again (their hash stays for the unknown-version check).
  const pruneStmt = db.prepare(
    `UPDATE schedule_docs SET doc = NULL WHERE doc IS NOT NULL AND station_id = ?
       AND (epoch < ? OR (epoch = ? AND n < ?))`,
  );
  const headStmt = db.prepare<[string], Omit<Row, 'doc'>>(
    'SELECT station_id, epoch, n, sha256, issued_at, published_at FROM schedule_docs WHERE station_id = ? ORDER BY epoch DESC, n DESC LIMIT 1',
  );
  const heads = createHeadCache(db);
  const headsAllStmt = db.prepare<[], Omit<Row, 'doc'>>(
    `SELECT station_id, epoch, n, sha256, issued_at, published_at FROM schedule_docs WHERE id IN (
      SELECT (SELECT d.id FROM schedule_docs d WHERE d.station_id = s.id ORDER BY d.epoch DESC, d.n DESC LIMIT 1)
      FROM stations s)`,
  );
  /** What `markPublished` wrote, per station, until `publishedCommitted` confirms it (or the next mark). */
  const marked = new Map<
    string,
    { version: ScheduleVersion; at: string; head: DocHead; stamp: number; kept: boolean }
  >();
  /** A kept head whose mark was never confirmed (rolled back, or committed without the hook): read again. */
  const unconfirmed = (stationId: string) => {
    const m = marked.get(stationId);
    if (!m?.kept || db.inTransaction) return false;
    marked.delete(stationId);
    heads.forget(stationId);
    return true;
  };
  const hashStmt = db.prepare<[string, number, number], { sha256: string }>(
    'SELECT sha256 FROM schedule_docs WHERE station_id = ? AND epoch = ? AND n = ?',
  );
  const repo: SchedulesRepo = {
    nextVersion(stationId) {
      const epoch = meta.scheduleEpoch();
      const last = latestStmt.get(stationId);
      if (last && last.epoch > epoch) {
        throw new StoreError(
          'CONFLICT',
          `station ${stationId} has a document of epoch ${last.epoch} > current ${epoch}`,
        );
      }
      return { epoch, n: last && last.epoch === epoch ? last.n + 1 : 1 };
    },
    issue(stationId, build) {
      const write = (): IssuedDoc => {
        if (!stationExists.get(stationId)) throw new StoreError('NOT_FOUND', `no station ${stationId}`);
        const version = repo.nextVersion(stationId);
        const built = build(version);
        const doc = typeof built === 'string' ? Buffer.from(built, 'utf8') : built;
        const sha256 = createHash('sha256').update(doc).digest('hex');
        const issuedAt = now().toISOString();
        heads.forget(stationId);
        ins.run(stationId, version.epoch, version.n, doc, sha256, issuedAt);
        return { stationId, version, doc, sha256, issuedAt, publishedAt: null };
      };
      // Inside the caller's transaction (a fleet-wide change issues thousands) a savepoint per document would
      // only cost time: the insert is the last statement, so a failure leaves nothing of this document.
      return db.inTransaction ? write() : db.transaction(write)();
    },
    insertIssued(d) {
      const issuedAt = now().toISOString();
      heads.forget(d.stationId);
      try {
        ins.run(d.stationId, d.version.epoch, d.version.n, d.doc, d.sha256, issuedAt);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY')
          throw new StoreError('NOT_FOUND', `no station ${d.stationId}`);
        if (code === 'SQLITE_CONSTRAINT_UNIQUE')
          throw new StoreError(
            'CONFLICT',
            `schedule {epoch ${d.version.epoch}, n ${d.version.n}} of ${d.stationId} was already issued`,
          );
        throw err;
      }
      return { ...d, issuedAt, publishedAt: null };
    },
    latest(stationId) {
      const r = latestStmt.get(stationId);
      return r ? toDoc(r) : undefined;
    },
    head(stationId) {
      unconfirmed(stationId);
      return heads.get(stationId, () => {
        const r = headStmt.get(stationId);
        return r ? headOf(r) : undefined;
      });
    },
    heads(stationIds) {
      const out = new Map<string, DocHead>();
      const cached = heads.exact();
      const missing: string[] = [];
      for (const id of stationIds) {
        const hit = marked.get(id)?.kept ? undefined : cached?.get(id);
        if (hit) out.set(id, hit);
        else if (hit !== null) missing.push(id); // null: known to have no document
      }
      if (missing.length < BULK_HEADS_FROM) {
        // Read, not `head`: its cache trusts the data version of the turn, and these must be exact.
        for (const id of missing) {
          const r = headStmt.get(id);
          if (r) out.set(id, headOf(r));
        }
        return out;
      }
      const wanted = new Set(missing);
      for (const r of headsAllStmt.all()) if (wanted.has(r.station_id)) out.set(r.station_id, headOf(r));
      return out;
    },
    committed(docs) {
      for (const d of docs) heads.prime(d.stationId, d);
    },
    latestAll: () => latestAllStmt.all().map(toDoc),
    unpublished: () => unpublishedStmt.all().map(toDoc),
    markPublished(stationId, version) {
      const cached = heads.peekAny(stationId);
      marked.delete(stationId);
      const at = now().toISOString();
      const row = markStmt.run(at, stationId, version.epoch, version.n).changes > 0;
      const c = cached?.head;
      // A cached head without published_at: the row had none either (the cache is current), so it has `at` now.
      const current =
        row && cached && c && c.publishedAt === null && compareVersions(c.version, version) === 0;
      // Inside a transaction (the write batch) the cached head stays — it is what the table holds if the
      // batch rolls back — and is completed once it committed (publishedCommitted). Nothing reads it in
      // between: the batch runs start to commit in one synchronous call, and `head` forgets a head whose
      // mark was never confirmed. Forgetting it here made every station's first report after a fleet-wide
      // push a cache miss (5 000 reads). Outside a transaction the row is committed at once: forgotten.
      const keep = !!current && db.inTransaction;
      if (!keep) heads.forget(stationId);
      if (current) marked.set(stationId, { version, at, head: c, stamp: cached.stamp, kept: keep });
      // Every PRUNE_EVERY-th version: one statement per station per push costs ~10 % of a fleet-wide push's
      // bookkeeping, and a station keeps at most PRUNE_EVERY documents' bytes meanwhile.
      if (row && version.n % PRUNE_EVERY === 0)
        pruneStmt.run(stationId, version.epoch, version.epoch, version.n);
    },
    publishedCommitted(stationId, version) {
      const m = marked.get(stationId);
      marked.delete(stationId);
      if (!m || m.version.epoch !== version.epoch || m.version.n !== version.n) return;
      // Only while no other connection has committed since (its write may have made a newer head), and
      // the cache still holds the head the mark was made against (kept) or nothing (forgotten).
      const held = heads.peek(stationId);
      if ((m.kept ? held === m.head : held === undefined) && heads.stamp() === m.stamp)
        heads.prime(stationId, { ...m.head, publishedAt: m.at });
      else heads.forget(stationId);
    },
    wasIssued(stationId, version, sha256) {
      const r = hashStmt.get(stationId, version.epoch, version.n);
      return r !== undefined && (sha256 === undefined || r.sha256 === sha256);
    },
    staleEpochStations() {
      return staleStmt.all(meta.scheduleEpoch()).map((r) => r.station_id);
    },
  };
  return repo;
}
