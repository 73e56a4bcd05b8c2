/**
 * The headend's publisher of retained documents (DESIGN.md §4, §7; issue 5 "Scheduling"):
 * - Outbox: a schedule change and its new document `{epoch, n+1}` are committed together in SQLite
 *   (`schedule_docs`, published_at NULL); `kickSchedules` then publishes the station's NEWEST document
 *   retained QoS 1 and sets `published_at` on PUBACK. Publishing retries until the broker accepts.
 * - Acks: `{storeId, seq}` read from `event_acks` AFTER the ingest transaction committed.
 * - At start and on every (re)connect, `republishAll` sends EVERY retained document from SQLite: schedules,
 *   acks, the line-up and the guide days of the publishing window (and clears days that fell out of it),
 *   because a clean-session broker may have lost them and nothing else would resend them.
 * The headend's own `headend/state` is published by the MQTT client on connect (headend/mqtt/client.ts).
 */
import type { Logger } from 'pino';
import type { Ack } from '../../protocol/messages/ack.js';
import { compareVersions } from '../../protocol/messages/common.js';
import { Lineup } from '../../protocol/messages/lineup.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Topics } from '../../protocol/topics.js';
import { createWriteBatch, type WriteBatch } from '../fleet/write-batch.js';
import {
  buildGuideDay,
  clearExpiredGuideDays,
  type GuideDayKey,
  guideDaysInWindow,
  guideWindow,
} from '../guide/guide-days.js';
import { createGuideReader } from '../guide/guide-store.js';
import { createLocalCalendar } from '../guide/local-day.js';
import type { Store } from '../store/index.js';
import type { IssuedDoc } from '../store/schedules.js';
import { RetainedQueue, type RetainedQueueStats } from './retained-queue.js';

/** The MQTT side the publisher needs (headend/mqtt/client.ts `HeadendMqtt`). */
export interface PublishTransport {
  readonly connected: boolean;
  publish(topic: string, payload: Buffer, options: { qos: 1; retain: true }): Promise<void>;
}

export interface PublisherDeps {
  store: Store;
  transport: PublishTransport;
  topics: Topics;
  logger: Logger;
  timing: Pick<TimingProfile, 'reconnectMinMs' | 'reconnectMaxMs'>;
  /** The prefecture's time zone: guide days are local days in it. */
  timeZone: string;
  now?: () => Date;
  /** Guide days republished: from this many days before today… */
  guidePastDays?: number;
  /** …to this many after it (default 14, the planning horizon, DESIGN.md §5). */
  guideFutureDays?: number;
  /**
   * The store a station currently reports (its birth's `storeId`), so the retained ack names it even
   * before the new store's first event; the most recently advanced store otherwise.
   */
  currentStoreOf?: (stationId: string) => string | undefined;
  /** Where the outbox's "published" flags are queued (shared with presence: one commit per burst). */
  writes?: WriteBatch;
}

export interface Publisher {
  /**
   * Publishes the newest document of each station (all stations with an unpublished one when omitted).
   * `docs`: the documents just committed for them, so their bytes need not be read back.
   */
  kickSchedules(stationIds?: readonly string[], docs?: readonly IssuedDoc[]): void;
  /** Publishes the station's retained ack as committed now. */
  publishAck(stationId: string): void;
  publishLineup(): void;
  /** Publishes the given guide days (e.g. the days an XMLTV import changed). */
  publishGuideDays(days: readonly GuideDayKey[]): void;
  /** Every retained document from SQLite (start and every reconnect). */
  republishAll(): void;
  /** Call on every (re)connect: republishes everything and resumes the queue. */
  onConnected(): void;
  /** Resolves when nothing is waiting to be published. */
  idle(): Promise<void>;
  stats(): RetainedQueueStats;
  close(): void;
}

/** The line-up document of the current line-up version (null before any line-up was imported). */
export function lineupDocument(store: Store, now: Date): Lineup | null {
  const snap = store.lineup.snapshot();
  if (snap.version === 0) return null;
  // Stable issuedAt (the last change), so a republish sends the same bytes.
  const row = store.db
    .prepare(
      'SELECT MAX(u) AS at FROM (SELECT MAX(updated_at) AS u FROM services UNION ALL SELECT MAX(updated_at) FROM transponders)',
    )
    .get() as { at: string | null };
  const issuedAt = (row.at ?? now.toISOString()).replace(/\.\d{3}Z$/, 'Z');
  return Lineup.parse({ version: snap.version, issuedAt, services: snap.services });
}

export function createPublisher(deps: PublisherDeps): Publisher {
  const { store, topics } = deps;
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  const queue = new RetainedQueue({
    publish: (topic, payload) => deps.transport.publish(topic, payload, { qos: 1, retain: true }),
    connected: () => deps.transport.connected,
    logger: log,
    retryMinMs: Math.max(50, deps.timing.reconnectMinMs),
    retryMaxMs: Math.max(100, deps.timing.reconnectMaxMs),
  });
  const marks = deps.writes ?? createWriteBatch(store, log, 'outbox published flags');
  const calendar = createLocalCalendar(deps.timeZone);
  const reader = createGuideReader(store.db);

  // Documents whose bytes the committing change handed over (kickSchedules `docs`): sent without reading
  // them back, as long as they are still the station's newest (the cached head says so; a newer one
  // committed meanwhile is read from the table as before). One read per station per push saved.
  const handed = new Map<string, IssuedDoc>();
  const newestOf = (stationId: string): IssuedDoc | undefined => {
    const h = handed.get(stationId);
    handed.delete(stationId);
    if (h) {
      const head = store.schedules.head(stationId);
      if (head && head.sha256 === h.sha256 && compareVersions(head.version, h.version) === 0) return h;
    }
    return store.schedules.latest(stationId);
  };
  const wantSchedule = (stationId: string) =>
    queue.want(topics.schedule(stationId), () => {
      const doc = newestOf(stationId);
      if (!doc) return null;
      return {
        payload: doc.doc,
        onAccepted: () =>
          marks.add(
            () => store.schedules.markPublished(stationId, doc.version),
            () => store.schedules.publishedCommitted(stationId, doc.version),
          ),
      };
    });

  const currentAck = (stationId: string): Ack | null => {
    const storeId = deps.currentStoreOf?.(stationId);
    if (storeId !== undefined) {
      const a = store.events.ack(stationId, storeId);
      return { storeId, seq: a.seq };
    }
    const newest = store.events.acks(stationId)[0];
    return newest ? { storeId: newest.storeId, seq: newest.seq } : null;
  };

  const publisher: Publisher = {
    kickSchedules(stationIds, docs) {
      for (const d of docs ?? []) handed.set(d.stationId, d);
      const ids = stationIds ?? store.schedules.unpublished().map((d) => d.stationId);
      for (const id of ids) wantSchedule(id);
    },
    publishAck(stationId) {
      queue.want(topics.ack(stationId), () => {
        const ack = currentAck(stationId);
        return ack ? { payload: Buffer.from(JSON.stringify(ack)) } : null;
      });
    },
    publishLineup() {
      queue.want(topics.lineup(), () => {
        const doc = lineupDocument(store, now());
        return doc ? { payload: Buffer.from(JSON.stringify(doc)) } : null;
      });
    },
    publishGuideDays(days) {
      for (const key of days) {
        queue.want(topics.guide(key.service, key.date), () => ({
          payload: Buffer.from(JSON.stringify(buildGuideDay(reader, calendar, key, now()))),
        }));
      }
    },
    republishAll() {
      const started = Date.now();
      const docs = store.schedules.latestAll();
      for (const d of docs) wantSchedule(d.stationId);
      const stations = store.db.prepare('SELECT DISTINCT station_id AS id FROM event_acks').all() as {
        id: string;
      }[];
      for (const s of stations) publisher.publishAck(s.id);
      publisher.publishLineup();
      const window = guideWindow(
        calendar,
        now().getTime(),
        deps.guidePastDays ?? 1,
        deps.guideFutureDays ?? 14,
      );
      const days = guideDaysInWindow(reader, calendar, window);
      publisher.publishGuideDays(days);
      const services = [...new Set(days.map((d) => d.service))];
      void clearExpiredGuideDays(
        {
          topics,
          publish: (topic, payload) => {
            queue.want(topic, () => ({ payload }));
            return Promise.resolve();
          },
        },
        services,
        window.from,
      );
      log.info(
        {
          event: 'republish-all',
          schedules: docs.length,
          acks: stations.length,
          guideDays: days.length,
          readMs: Date.now() - started,
        },
        'republishing every retained document from SQLite',
      );
    },
    onConnected() {
      publisher.republishAll();
      queue.resume();
    },
    idle: () => queue.idle(),
    stats: () => queue.stats(),
    close: () => {
      handed.clear();
      queue.close();
      marks.flush();
    },
  };
  return publisher;
}
