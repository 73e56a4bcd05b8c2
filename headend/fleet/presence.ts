/**
 * Station presence (DESIGN.md §4 "Presence"): the retained state plus the Will, both carrying
 * `boot: {n, conn}` — counters persisted on the station, so they only grow.
 * - A birth (`online: true`) marks the station connected. A birth older than the last one is a stale
 *   copy and is ignored — unless it names another `storeId` (the station was reinstalled and its counters
 *   started again).
 * - A Will older than the last birth is ignored: the broker may deliver the Will of a dead connection
 *   after the station already reconnected. A Will of the current connection marks it "disconnected" AT
 *   ONCE; the `station_offline` ALARM waits `offlineGraceMs`, so a flapping uplink pages nobody.
 * - Every accepted change is kept in `station_state` (history), and the last birth's counters are loaded
 *   from it at start, so a stale Will still retained on the broker is recognised after a headend restart.
 * - A station not heard from since the headend (re)connected is "unknown"; if it was seen before and stays
 *   silent for the grace period, it counts as disconnected since then (the embedded broker keeps retained
 *   states in memory only, so after a restart only stations that reconnect report).
 */
import { isUtf8 } from 'node:buffer';
import type { Logger } from 'pino';
import { MAX_PAYLOAD_BYTES } from '../../protocol/limits.js';
import { type Boot, compareBoot } from '../../protocol/messages/common.js';
import { type DecodeResult, decodePayload } from '../../protocol/messages/decode.js';
import { fastStationState, type StationBirth, StationState } from '../../protocol/messages/state.js';
import { PLANNER_VERSION } from '../../protocol/planner/index.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Store } from '../store/index.js';
import type { AlarmBoard } from './alarm-board.js';
import { createWriteBatch, type WriteBatch } from './write-batch.js';

export type Connection = 'online' | 'disconnected' | 'unknown';

/** What the headend knows of one station's presence. */
export interface StationPresence {
  stationId: string;
  connection: Connection;
  /** When `connection` last changed (headend clock). */
  since: string;
  /** Counters of the last accepted birth. */
  boot: Boot | null;
  storeId: string | null;
  /** The last accepted birth as the station sent it. */
  birth: StationBirth | null;
  /** The `station_offline` alarm is raised. */
  offlineAlarm: boolean;
  /** The station plans with another planner version than this headend previews with (DESIGN.md §5). */
  plannerMismatch: boolean;
  /** Ever seen (a birth or Will is in the history). */
  seen: boolean;
}

/** What one state message did. */
export type PresenceOutcome =
  | 'birth'
  | 'will'
  | 'stale-birth'
  | 'stale-will'
  | 'duplicate'
  | 'cleared'
  | 'invalid'
  | 'unknown-station';

export interface PresenceDeps {
  store: Store;
  timing: Pick<TimingProfile, 'offlineGraceMs'>;
  alarms: AlarmBoard;
  logger: Logger;
  now?: () => Date;
  /** Where history rows are queued (shared with the publisher's bookkeeping: one commit per burst). */
  writes?: WriteBatch;
  /**
   * After an accepted birth (the tracker reads its schedule). `newConnection`: a connection (or store)
   * the headend had not seen yet — not a state republished on the same connection after applying a document.
   */
  onBirth?: (stationId: string, birth: StationBirth, newConnection: boolean) => void;
}

export interface Presence {
  /** Loads the last births' counters from the history (call once at start). */
  load(): void;
  handle(stationId: string, payload: Buffer): PresenceOutcome;
  /** Raises due offline alarms; call periodically (every second or so). */
  tick(): void;
  /** The headend's own broker connection changed (presence is unknowable while it is down). */
  setBrokerUp(up: boolean): void;
  get(stationId: string): StationPresence | undefined;
  list(): StationPresence[];
  /** Listens to changes (SSE); returns the remover. */
  onChange(listener: (p: StationPresence) => void): () => void;
  /** Writes the queued history rows now (they are written once per turn of the event loop). */
  flush(): void;
}

/**
 * A state payload decoded, with its text. The common shapes take the fast path (protocol/messages/state.ts
 * `fastStationState`: same checks, same output, without the schema walk that was the largest part of a
 * report's cost at 5 000 stations); anything else, and every failure, goes through `decodePayload`, so
 * errors read exactly as before.
 */
function decodeState(payload: Buffer): DecodeResult<StationState> & { text: string } {
  const text = payload.toString('utf8');
  if (payload.length <= MAX_PAYLOAD_BYTES && isUtf8(payload)) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
    const value = fastStationState(data);
    if (value) return { ok: true, value, text };
  }
  return { ...decodePayload(StationState, payload), text };
}

export function createPresence(deps: PresenceDeps): Presence {
  const { store, alarms } = deps;
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  const map = new Map<string, StationPresence>();
  const lastPayload = new Map<string, string>();
  const listeners = new Set<(p: StationPresence) => void>();
  let brokerUp = false;
  const writes = deps.writes ?? createWriteBatch(store, log, 'presence history');
  // Stations are never deleted (revoked ones keep their history), so a positive look-up can be cached.
  const known = new Set<string>();
  const exists = store.db.prepare<[string], { one: number }>('SELECT 1 AS one FROM stations WHERE id = ?');
  const registered = (id: string) => {
    if (known.has(id)) return true;
    if (!exists.get(id)) return false;
    known.add(id);
    return true;
  };
  // Ids of the registered, unrevoked stations, in id order (what `store.stations.list()` returns, without
  // parsing every row): `list()` runs every second over the whole fleet (the alarm wiring's schedule and
  // clock poll), and parsing 10 000 registry rows each time cost a third of a core
  // (scripts/bench/telemetry-ingest.ts).
  const activeIds = store.db
    .prepare<[], string>('SELECT id FROM stations WHERE revoked_at IS NULL ORDER BY id')
    .pluck();

  const entry = (stationId: string): StationPresence => {
    let p = map.get(stationId);
    if (!p) {
      p = {
        stationId,
        connection: 'unknown',
        since: now().toISOString(),
        boot: null,
        storeId: null,
        birth: null,
        offlineAlarm: false,
        plannerMismatch: false,
        seen: false,
      };
      map.set(stationId, p);
    }
    return p;
  };
  const changed = (p: StationPresence) => {
    for (const l of listeners) {
      try {
        l({ ...p });
      } catch (err) {
        log.error(
          { event: 'presence-listener-failed', err: (err as Error).message },
          'a presence listener threw',
        );
      }
    }
  };
  const setConnection = (p: StationPresence, c: Connection) => {
    if (p.connection === c) return;
    p.connection = c;
    p.since = now().toISOString();
  };
  const record = (stationId: string, online: boolean, boot: Boot, text: string) => {
    if (lastPayload.get(stationId) === text) return;
    lastPayload.set(stationId, text);
    const at = now().toISOString();
    writes.add(() => store.stateHistory.append({ stationId, online, boot, payload: text, at }));
  };

  const presence: Presence = {
    load() {
      const rows = store.db
        .prepare(
          `SELECT station_id, boot_n, boot_conn, payload FROM station_state WHERE id IN
             (SELECT MAX(id) FROM station_state WHERE online = 1 GROUP BY station_id)`,
        )
        .all() as { station_id: string; boot_n: number | null; boot_conn: number | null; payload: string }[];
      for (const r of rows) {
        const p = entry(r.station_id);
        p.seen = true;
        if (r.boot_n !== null && r.boot_conn !== null) p.boot = { n: r.boot_n, conn: r.boot_conn };
        const d = decodePayload(StationState, r.payload);
        if (d.ok && d.value.online) p.storeId = d.value.storeId;
      }
      const seen = store.db.prepare('SELECT DISTINCT station_id AS id FROM station_state').all() as {
        id: string;
      }[];
      for (const s of seen) entry(s.id).seen = true;
    },

    handle(stationId, payload) {
      if (payload.length === 0) return 'cleared'; // a retained state was cleared (decommissioning)
      if (!registered(stationId)) {
        log.warn({ event: 'state-unknown-station', stationId }, 'state from a station not in the registry');
        return 'unknown-station';
      }
      const decoded = decodeState(payload);
      if (!decoded.ok) {
        log.warn(
          { event: 'state-invalid', stationId, err: decoded.error.message },
          'invalid station state dropped',
        );
        return 'invalid';
      }
      const s = decoded.value;
      const p = entry(stationId);
      const text = decoded.text;
      if (s.online) {
        const sameStore = p.storeId === null || p.storeId === s.storeId;
        if (sameStore && p.boot && compareBoot(s.boot, p.boot) < 0) {
          log.info({ event: 'stale-birth', stationId, boot: s.boot, last: p.boot }, 'older birth ignored');
          return 'stale-birth';
        }
        const duplicate = p.connection === 'online' && lastPayload.get(stationId) === text;
        const newConnection =
          p.connection !== 'online' || !sameStore || p.boot === null || compareBoot(s.boot, p.boot) !== 0;
        if (!sameStore)
          log.info(
            { event: 'store-changed', stationId, from: p.storeId, to: s.storeId },
            'station store changed',
          );
        p.boot = s.boot;
        p.storeId = s.storeId;
        p.birth = s;
        p.seen = true;
        p.plannerMismatch = s.plannerVersion !== PLANNER_VERSION;
        if (p.plannerMismatch) {
          log.warn(
            { event: 'planner-mismatch', stationId, station: s.plannerVersion, headend: PLANNER_VERSION },
            'station plans with another planner version than the headend previews with',
          );
        }
        setConnection(p, 'online');
        record(stationId, true, s.boot, text);
        if (p.offlineAlarm) {
          p.offlineAlarm = false;
          alarms.clear('station_offline', stationId, '', { boot: `${s.boot.n}.${s.boot.conn}` });
        }
        deps.onBirth?.(stationId, s, newConnection);
        if (duplicate) return 'duplicate';
        changed(p);
        return 'birth';
      }
      if (p.boot && compareBoot(s.boot, p.boot) < 0) {
        log.info(
          { event: 'stale-will', stationId, boot: s.boot, last: p.boot },
          'Will of an older connection ignored',
        );
        return 'stale-will';
      }
      if (p.connection === 'disconnected') {
        record(stationId, false, s.boot, text);
        return 'duplicate';
      }
      p.seen = true;
      setConnection(p, 'disconnected');
      record(stationId, false, s.boot, text);
      log.info({ event: 'station-disconnected', stationId, boot: s.boot }, 'station disconnected');
      changed(p);
      return 'will';
    },

    tick() {
      if (!brokerUp) return; // nothing can be observed: do not page anybody for our own outage
      const t = now().getTime();
      for (const p of map.values()) {
        const quietFor = t - Date.parse(p.since);
        if (p.connection === 'unknown' && p.seen && quietFor >= deps.timing.offlineGraceMs) {
          // Seen before, silent since we (re)connected: it did not come back.
          p.connection = 'disconnected';
          changed(p);
        }
        if (p.connection === 'disconnected' && !p.offlineAlarm && quietFor >= deps.timing.offlineGraceMs) {
          p.offlineAlarm = true;
          alarms.raise({
            kind: 'station_offline',
            stationId: p.stationId,
            subject: '',
            message: `${p.stationId} disconnected since ${p.since}`,
            evidence: { since: p.since, graceMs: deps.timing.offlineGraceMs },
          });
          changed(p);
        }
      }
    },

    setBrokerUp(up) {
      if (up === brokerUp) return;
      brokerUp = up;
      if (!up) return;
      // The broker delivers every retained state again; until it does, silence since now is what counts.
      const at = now().toISOString();
      for (const p of map.values()) if (p.connection === 'unknown') p.since = at;
      for (const id of activeIds.all()) entry(id);
    },

    get: (stationId) => {
      const p = map.get(stationId);
      return p ? { ...p } : undefined;
    },
    list: () =>
      activeIds.all().map((id) => {
        const p = map.get(id) ?? entry(id);
        return { ...p };
      }),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    flush: () => writes.flush(),
  };
  return presence;
}
