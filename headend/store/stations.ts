/**
 * The fleet registry: one row per station (DESIGN.md §7). A station's id is its MQTT username and client id
 * (DESIGN.md §4); its credential is only ever stored as a Mosquitto `$7$` hash (headend/provisioning).
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { StationId } from '../../protocol/messages/common.js';
import { dataVersionPerTurn } from './data-version.js';
import { StoreError } from './errors.js';

/**
 * One receiver at a station. `sharing` is the driver capability that decides what a receiver can serve at
 * once (DESIGN.md §5): `service` for a decoder-output receiver, `transponder` for one that outputs the whole
 * transport stream.
 */
export const StationReceiver = z
  .object({
    /** Local name, unique per station, e.g. `rx1`. */
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'receiver id: 1–32 chars a–z 0–9 _ -'),
    /** Driver family (DOMAIN.md §3: the RX8200 is the first). */
    family: z.enum(['rx8200']).default('rx8200'),
    sharing: z.enum(['service', 'transponder']).default('service'),
    /** `serial` (a `/dev/serial/by-id/…` path, DOMAIN.md §3) or `tcp` (`host:port` of a ser2net-style server). */
    transport: z.enum(['serial', 'tcp']).default('serial'),
    address: z.string().min(1).max(256),
    /** RX8200 bus address 000–999 (DOMAIN.md §3, default 2). */
    busAddress: z.number().int().min(0).max(999).default(2),
    /** Where the receiver's MPEG-TS comes out, e.g. `udp://239.1.1.1:5000` (DOMAIN.md §4). */
    streamUrl: z
      .url({ protocol: /^(udp|rtp|https?)$/ })
      .max(256)
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.transport === 'tcp' && !/^(?:\[[^\]]+\]|[^:/\s]+):\d{1,5}$/.test(r.address)) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'a tcp receiver address is host:port' });
    }
  });
export type StationReceiver = z.infer<typeof StationReceiver>;

const Tag = z.string().regex(/^[\p{L}\p{N}_.:-]{1,40}$/u, 'tag: 1–40 letters, digits, _ . : -');

/** Fields an admin gives when registering a station. */
export const NewStation = z
  .object({
    id: StationId,
    name: z.string().trim().min(1).max(120),
    /** County group id (`kongtong`, `huating`, … DOMAIN.md §1). */
    county: z.string().min(1),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    /** Dish diameter in metres (sun-outage width depends on it, DOMAIN.md §2). */
    dishM: z.number().positive().max(20).optional(),
    receivers: z.array(StationReceiver).max(8).default([]),
    tags: z.array(Tag).max(32).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    const ids = s.receivers.map((r) => r.id);
    if (new Set(ids).size !== ids.length)
      ctx.addIssue({ code: 'custom', path: ['receivers'], message: 'receiver ids must be unique' });
  });
export type NewStation = z.input<typeof NewStation>;

/** Editable fields (everything but id and credential). */
export const StationPatch = z
  .object({
    name: z.string().trim().min(1).max(120),
    county: z.string().min(1),
    lat: z.number().min(-90).max(90).nullable(),
    lon: z.number().min(-180).max(180).nullable(),
    dishM: z.number().positive().max(20).nullable(),
    receivers: z.array(StationReceiver).max(8),
    tags: z.array(Tag).max(32),
  })
  .partial()
  .strict();
export type StationPatch = z.input<typeof StationPatch>;

/** A station as the registry holds it. The credential hash is deliberately not part of it. */
export interface Station {
  id: string;
  name: string;
  county: string;
  lat: number | null;
  lon: number | null;
  dishM: number | null;
  receivers: StationReceiver[];
  tags: string[];
  /** Whether a credential is set (the hash itself only leaves through `credentialOf`). */
  hasCredential: boolean;
  credentialChangedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What the broker needs to authenticate a station. */
export interface StationCredential {
  hash: string | null;
  revoked: boolean;
}

interface Row {
  id: string;
  name: string;
  county: string;
  lat: number | null;
  lon: number | null;
  dish_m: number | null;
  receivers_json: string;
  tags_json: string;
  credential_hash: string | null;
  credential_changed_at: string | null;
  revoked_at: string | null;
  created_at: string;
  updated_at: string;
}

// Built once: zod schemas are objects whose construction costs more than parsing a short list, and a
// station row is read on every presence change of a fleet-wide fan-out.
const ReceiversJson = z.array(StationReceiver);
const TagsJson = z.array(z.string());

function toStation(r: Row): Station {
  return {
    id: r.id,
    name: r.name,
    county: r.county,
    lat: r.lat,
    lon: r.lon,
    dishM: r.dish_m,
    receivers: ReceiversJson.parse(JSON.parse(r.receivers_json)),
    tags: TagsJson.parse(JSON.parse(r.tags_json)),
    hasCredential: r.credential_hash !== null,
    credentialChangedAt: r.credential_changed_at,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function invalid(err: z.ZodError): StoreError {
  const lines = err.issues.map((i) => `${i.path.join('.') || '(station)'}: ${i.message}`);
  return new StoreError('INVALID_INPUT', lines.join('; '));
}

/** Repo over `stations`. */
export interface StationsRepo {
  /** Registers a station (without a credential: provisioning sets it in the same transaction). */
  create(input: NewStation): Station;
  get(id: string): Station | undefined;
  /**
   * The registered stations among `ids` (unknown ids are left out), as `get` returns them. Many ids are
   * read with ONE statement, and receiver/tag lists with the same text are parsed once: compiling a
   * fleet-wide change runs in a read transaction, where the row cache does not serve, and 5 000 single
   * reads each parsing its receivers were a sixth of the change's read phase.
   */
  getMany(ids: Iterable<string>): Map<string, Station>;
  /** Throws NOT_FOUND. */
  require(id: string): Station;
  list(opts?: { county?: string; includeRevoked?: boolean }): Station[];
  update(id: string, patch: StationPatch): Station;
  setCredential(id: string, hash: string): void;
  revoke(id: string): void;
  /** The stored hash and revocation flag, or undefined for an unknown station. */
  credentialOf(id: string): StationCredential | undefined;
  /** Every station with a credential that is not revoked: the Mosquitto password_file's lines. */
  activeCredentials(): { id: string; hash: string }[];
}

/**
 * Parsed registry rows, reused while nothing could have changed them: every write through this repo
 * invalidates (`generation`), and `PRAGMA data_version` moves when another connection (the CLI provisioning
 * a station) commits. Filled only outside transactions, so a row written by a transaction that is rolled
 * back is never kept. A fleet-wide push reads each station's row several times (station board, warnings,
 * compile); parsing it each time was a tenth of the headend's time at 5 000 stations.
 */
function createRowCache(db: Database) {
  const dataVersion = dataVersionPerTurn(db);
  const exactDataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const cache = new Map<string, Station>();
  let generation = 0;
  let stamp = '';
  return {
    invalidate() {
      generation++;
    },
    /**
     * The cached rows, when they are certainly what a read would give now — inside a transaction too (a
     * read snapshot that compiles a change): no write through this repo since they were cached, and no
     * other connection's commit (data_version asked now, not once per turn). Undefined otherwise.
     */
    exact(): ReadonlyMap<string, Station> | undefined {
      return stamp === `${exactDataVersion.get()}.${generation}` ? cache : undefined;
    },
    get(id: string, read: () => Station | undefined): Station | undefined {
      if (db.inTransaction) return read();
      const now = `${dataVersion()}.${generation}`;
      if (now !== stamp) {
        cache.clear();
        stamp = now;
      }
      const hit = cache.get(id);
      if (hit) return hit;
      const s = read();
      if (s) cache.set(id, freeze(s));
      return s;
    },
  };
}

/** From this many ids on, `getMany` reads the whole table in one statement instead of row by row. */
export const BULK_READ_FROM = 64;

/** Shared between callers, so nobody may change it in place. */
function freeze(s: Station): Station {
  for (const r of s.receivers) Object.freeze(r);
  Object.freeze(s.receivers);
  Object.freeze(s.tags);
  return Object.freeze(s);
}

export function createStationsRepo(db: Database, now: () => Date = () => new Date()): StationsRepo {
  const byId = db.prepare<[string], Row>('SELECT * FROM stations WHERE id = ?');
  const all = db.prepare<[], Row>('SELECT * FROM stations');
  const rows = createRowCache(db);
  const countyKind = db.prepare<[string], { kind: string }>('SELECT kind FROM station_groups WHERE id = ?');
  const ins = db.prepare(`INSERT INTO stations
    (id, name, county, lat, lon, dish_m, receivers_json, tags_json, created_at, updated_at)
    VALUES (@id, @name, @county, @lat, @lon, @dishM, @receivers, @tags, @now, @now)`);
  const setCred = db.prepare(
    'UPDATE stations SET credential_hash = ?, credential_changed_at = ?, updated_at = ? WHERE id = ?',
  );
  const revokeStmt = db.prepare(
    'UPDATE stations SET revoked_at = COALESCE(revoked_at, ?), credential_hash = NULL, updated_at = ? WHERE id = ?',
  );
  const active = db.prepare<[], { id: string; hash: string }>(
    'SELECT id, credential_hash AS hash FROM stations WHERE revoked_at IS NULL AND credential_hash IS NOT NULL ORDER BY id',
  );

  const checkCounty = (county: string) => {
    if (countyKind.get(county)?.kind !== 'county') {
      throw new StoreError('INVALID_INPUT', `county: unknown county ${JSON.stringify(county)}`);
    }
  };

  const repo: StationsRepo = {
    create(input) {
      const parsed = NewStation.safeParse(input);
      if (!parsed.success) throw invalid(parsed.error);
      const s = parsed.data;
      checkCounty(s.county);
      if (byId.get(s.id)) throw new StoreError('ALREADY_EXISTS', `station ${s.id} already exists`);
      rows.invalidate();
      ins.run({
        id: s.id,
        name: s.name,
        county: s.county,
        lat: s.lat ?? null,
        lon: s.lon ?? null,
        dishM: s.dishM ?? null,
        receivers: JSON.stringify(s.receivers),
        tags: JSON.stringify(s.tags),
        now: now().toISOString(),
      });
      return repo.require(s.id);
    },
    get(id) {
      return rows.get(id, () => {
        const r = byId.get(id);
        return r ? toStation(r) : undefined;
      });
    },
    getMany(ids) {
      const wanted = new Set(ids);
      const out = new Map<string, Station>();
      if (wanted.size < BULK_READ_FROM) {
        for (const id of wanted) {
          const st = repo.get(id);
          if (st) out.set(id, st);
        }
        return out;
      }
      // Rows the cache holds are good as they are (store/stations.ts `exact`): after the first fleet-wide
      // change, nothing but the new stations is read.
      const cached = rows.exact();
      const missing: string[] = [];
      for (const id of wanted) {
        const hit = cached?.get(id);
        if (hit) out.set(id, hit);
        else missing.push(id);
      }
      if (missing.length === 0) return out;
      if (missing.length < BULK_READ_FROM) {
        for (const id of missing) {
          const r = byId.get(id);
          if (r) out.set(id, freeze(toStation(r)));
        }
        return out;
      }
      const receivers = new Map<string, Station['receivers']>();
      const tags = new Map<string, Station['tags']>();
      const memo = <T>(m: Map<string, T>, text: string, parse: (t: string) => T): T => {
        let v = m.get(text);
        if (v === undefined) {
          v = parse(text);
          m.set(text, v);
        }
        return v;
      };
      const left = new Set(missing);
      for (const r of all.all()) {
        if (!left.has(r.id)) continue;
        const st = freeze({
          ...toStation({ ...r, receivers_json: '[]', tags_json: '[]' }),
          receivers: memo(receivers, r.receivers_json, (t) => ReceiversJson.parse(JSON.parse(t))),
          tags: memo(tags, r.tags_json, (t) => TagsJson.parse(JSON.parse(t))),
        });
        out.set(r.id, st);
      }
      return out;
    },
    require(id) {
      const s = repo.get(id);
      if (!s) throw new StoreError('NOT_FOUND', `no station ${id}`);
      return s;
    },
    list(opts = {}) {
      const where: string[] = [];
      const args: string[] = [];
      if (opts.county !== undefined) {
        where.push('county = ?');
        args.push(opts.county);
      }
      if (!opts.includeRevoked) where.push('revoked_at IS NULL');
      const sql = `SELECT * FROM stations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
      return (db.prepare(sql).all(...args) as Row[]).map(toStation);
    },
    update(id, patch) {
      const parsed = StationPatch.safeParse(patch);
      if (!parsed.success) throw invalid(parsed.error);
      const p = parsed.data;
      const cur = repo.require(id);
      if (p.county !== undefined) checkCounty(p.county);
      const next = {
        name: p.name ?? cur.name,
        county: p.county ?? cur.county,
        lat: p.lat === undefined ? cur.lat : p.lat,
        lon: p.lon === undefined ? cur.lon : p.lon,
        dishM: p.dishM === undefined ? cur.dishM : p.dishM,
        receivers: JSON.stringify(p.receivers ?? cur.receivers),
        tags: JSON.stringify(p.tags ?? cur.tags),
      };
      rows.invalidate();
      db.prepare(`UPDATE stations SET name = @name, county = @county, lat = @lat, lon = @lon, dish_m = @dishM,
        receivers_json = @receivers, tags_json = @tags, updated_at = @now WHERE id = @id`).run({
        ...next,
        id,
        now: now().toISOString(),
      });
      return repo.require(id);
    },
    setCredential(id, hash) {
      const cur = repo.require(id);
      if (cur.revokedAt) throw new StoreError('CONFLICT', `station ${id} is revoked`);
      const at = now().toISOString();
      rows.invalidate();
      setCred.run(hash, at, at, id);
    },
    revoke(id) {
      repo.require(id);
      const at = now().toISOString();
      // The hash goes too: a revoked station has no credential anywhere, not only a flag.
      rows.invalidate();
      revokeStmt.run(at, at, id);
    },
    credentialOf(id) {
      const r = byId.get(id);
      return r ? { hash: r.credential_hash, revoked: r.revoked_at !== null } : undefined;
    },
    activeCredentials: () => active.all(),
  };
  return repo;
}
