/**
 * Builds one station's SELF-CONTAINED schedule document (DESIGN.md §5): everything the planner reads —
 * time zone, receivers and their sharing capability, the tuning of every referenced service from the
 * line-up, every entry with its `createdAt` and `rev`, the planner version — so the headend's preview and
 * the station's execution are the same pure function of the same bytes. Guide-linked entries are resolved
 * here into concrete `occurrences` (stations never need the guide to plan).
 *
 * Output is canonical (entries by id, tuning by key, fixed field order), so "did this station's document
 * change?" is a byte comparison of everything but `version` and `issuedAt`.
 */
import { MAX_PAYLOAD_BYTES } from '../../protocol/limits.js';
import type { ScheduleVersion } from '../../protocol/messages/common.js';
import {
  MAX_OCCURRENCE_ITEMS,
  MAX_OCCURRENCE_MS,
  MAX_SCHEDULE_ENTRIES,
  ScheduleDocument,
  type ScheduleEntry,
  type ScheduleReceiver,
} from '../../protocol/messages/schedule.js';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import { PLANNER_VERSION } from '../../protocol/planner/index.js';
import { type GuideLinkStore, toScheduleItems } from '../guide/guide-links.js';
import type { Store } from '../store/index.js';
import type { Station } from '../store/stations.js';
import type { StoredEntry } from './entries-repo.js';
import { SchedulingError } from './errors.js';

/**
 * Receivers of a station whose registry entry lists none: the agent's default receiver id (`rx1`,
 * device/config.ts) with a decoder output. Registering the station's receivers replaces it.
 */
export const DEFAULT_RECEIVERS: readonly ScheduleReceiver[] = [{ id: 'rx1', sharing: 'service' }];

/** Entries whose last occurrence ended longer ago than this leave the documents (they cannot run again). */
export const EXPIRED_AFTER_MS = 24 * 3_600_000;

/** Why an entry was left out of, or changed in, one station's document. */
export interface CompileWarning {
  stationId: string;
  entryId: string;
  code: 'SERVICE_NOT_IN_LINEUP' | 'NOT_LISTED' | 'NO_OCCURRENCES' | 'RECEIVER_NOT_FOUND';
  message: string;
}

/** A document without its version and issue time: what decides whether the station needs a new one. */
export type DocumentContent = Omit<ScheduleDocument, 'version' | 'issuedAt'>;

export interface CompiledStation {
  stationId: string;
  content: DocumentContent;
  warnings: CompileWarning[];
}

/** What compiling needs; one context per operation (it caches line-up look-ups). */
export interface CompileContext {
  store: Store;
  /** The station's IANA zone (the prefecture's, DOMAIN.md §1). */
  timeZone: string;
  now: Date;
  guideLinks: GuideLinkStore;
  entriesOf(stationId: string): StoredEntry[];
  /** Memoised line-up look-up (undefined = not in the line-up). */
  tuningOf(service: string): ServiceTuning | undefined;
}

/** A compile context over `store` for one operation. */
export function compileContext(
  store: Store,
  deps: { timeZone: string; now: Date; guideLinks: GuideLinkStore; entriesOf(id: string): StoredEntry[] },
): CompileContext {
  const cache = new Map<string, ServiceTuning | undefined>();
  return {
    store,
    ...deps,
    tuningOf(service) {
      if (!cache.has(service)) cache.set(service, store.lineup.service(service));
      return cache.get(service);
    },
  };
}

const utc = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** The `when` of one entry in the document, or null when it has nothing (left) to run. */
function whenOf(
  ctx: CompileContext,
  stationId: string,
  e: StoredEntry,
  warnings: CompileWarning[],
): ScheduleEntry['when'] | null {
  const w = e.spec.when;
  const horizonStart = ctx.now.getTime() - EXPIRED_AFTER_MS;
  switch (w.type) {
    case 'once':
      return Date.parse(w.end) < horizonStart ? null : { type: 'once', start: w.start, end: w.end };
    case 'weekly': {
      // `until` is a local date; two days past it is safely over in every zone.
      if (w.until !== undefined && Date.parse(`${w.until}T00:00:00Z`) + 2 * 86_400_000 < horizonStart)
        return null;
      return {
        type: 'weekly',
        weekdays: w.weekdays,
        startLocal: w.startLocal,
        durationMin: w.durationMin,
        from: w.from,
        ...(w.until === undefined ? {} : { until: w.until }),
      };
    }
    case 'programme':
    case 'series': {
      const state = ctx.guideLinks.get(e.id);
      if (state?.status === 'not_listed') {
        for (const warn of state.warnings.filter((x) => x.code === 'NOT_LISTED')) {
          warnings.push({ stationId, entryId: e.id, code: 'NOT_LISTED', message: warn.message });
        }
      }
      const items = toScheduleItems({ occurrences: state?.occurrences ?? [] })
        .filter((it) => {
          const span = Date.parse(it.end) - Date.parse(it.start);
          return span > 0 && span <= MAX_OCCURRENCE_MS && Date.parse(it.end) >= horizonStart;
        })
        .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
        .slice(0, MAX_OCCURRENCE_ITEMS)
        .map((it) => ({
          start: utc(Date.parse(it.start)),
          end: utc(Date.parse(it.end)),
          programmeId: it.programmeId,
          title: it.title,
        }));
      if (items.length === 0) {
        // A programme that is over is not news; a series with nothing (yet) in the guide is.
        if (w.type === 'series' || Date.parse(w.stop) >= horizonStart) {
          warnings.push({
            stationId,
            entryId: e.id,
            code: 'NO_OCCURRENCES',
            message: `"${e.spec.title}" has no showing in the guide at present; nothing to record yet`,
          });
        }
        return null;
      }
      return { type: 'occurrences', items };
    }
  }
}

/** The document entry of a stored entry. */
function documentEntry(
  e: StoredEntry,
  when: ScheduleEntry['when'],
  receiverId: string | undefined,
): ScheduleEntry {
  const s = e.spec;
  const base = {
    id: e.id,
    rev: e.rev,
    createdAt: utc(Date.parse(e.createdAt)),
    title: s.title,
    priority: s.priority,
    service: s.service,
    padBeforeMs: s.padBeforeMs,
    padAfterMs: s.padAfterMs,
    ...(receiverId === undefined ? {} : { receiverId }),
    ...(s.keep === undefined ? {} : { keep: s.keep }),
    when,
  };
  if (s.kind === 'conference') {
    return { ...base, kind: 'conference', class: 'conference', record: s.record, preRollMs: s.preRollMs };
  }
  return {
    ...base,
    kind: 'recording',
    class: s.class === 'mandated' ? 'mandated' : 'operator',
    record: true,
  };
}

/** Compiles one station's document content from the entries, line-up and guide as they are now. */
export function compileStation(ctx: CompileContext, stationId: string, known?: Station): CompiledStation {
  const station = known ?? ctx.store.stations.require(stationId);
  const receivers: ScheduleReceiver[] =
    station.receivers.length > 0
      ? station.receivers.map((r) => ({ id: r.id, sharing: r.sharing }))
      : [...DEFAULT_RECEIVERS];
  const receiverIds = new Set(receivers.map((r) => r.id));
  const warnings: CompileWarning[] = [];
  const entries: ScheduleEntry[] = [];
  const tuning: Record<string, ServiceTuning> = {};
  for (const e of ctx.entriesOf(stationId)) {
    const t = ctx.tuningOf(e.spec.service);
    if (!t) {
      warnings.push({
        stationId,
        entryId: e.id,
        code: 'SERVICE_NOT_IN_LINEUP',
        message: `service ${e.spec.service} of "${e.spec.title}" is not in the line-up; the entry is left out`,
      });
      continue;
    }
    const when = whenOf(ctx, stationId, e, warnings);
    if (when === null) continue;
    let receiverId = e.spec.receiverId;
    if (receiverId !== undefined && !receiverIds.has(receiverId)) {
      warnings.push({
        stationId,
        entryId: e.id,
        code: 'RECEIVER_NOT_FOUND',
        message: `"${e.spec.title}" is pinned to receiver ${receiverId}, which ${stationId} does not have; not pinned`,
      });
      receiverId = undefined;
    }
    entries.push(documentEntry(e, when, receiverId));
    tuning[t.key] = t;
  }
  entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (entries.length > MAX_SCHEDULE_ENTRIES) {
    throw new SchedulingError(
      'DOCUMENT_TOO_LARGE',
      `station ${stationId} would have ${entries.length} entries; a document holds at most ${MAX_SCHEDULE_ENTRIES}`,
    );
  }
  const sortedTuning: Record<string, ServiceTuning> = {};
  for (const k of Object.keys(tuning).sort()) sortedTuning[k] = tuning[k] as ServiceTuning;
  return {
    stationId,
    content: {
      plannerVersion: PLANNER_VERSION,
      timeZone: ctx.timeZone,
      receivers,
      tuning: sortedTuning,
      entries,
    },
    warnings,
  };
}

/**
 * The full document bytes for a version, validated against the protocol schema and the payload cap.
 * `validate: false` skips the schema for content already validated in the same operation (only the
 * version and issue time differ, and those are well-formed by construction).
 */
export function documentBytes(
  stationId: string,
  content: DocumentContent,
  version: ScheduleVersion,
  issuedAt: Date,
  opts: { validate?: boolean; contentJson?: string } = {},
): Buffer {
  const at = utc(issuedAt.getTime() - (issuedAt.getTime() % 1000));
  const doc = { version, issuedAt: at, ...content };
  const checked = opts.validate === false ? ({ success: true } as const) : ScheduleDocument.safeParse(doc);
  if (!checked.success) {
    const first = checked.error.issues[0];
    throw new SchedulingError(
      'INVALID_INPUT',
      `the document of ${stationId} is invalid: ${first ? `${first.path.join('.')}: ${first.message}` : 'unknown'}`,
    );
  }
  // Same bytes as JSON.stringify(doc) (same key order), without serialising the shared content again.
  const json =
    opts.contentJson === undefined
      ? JSON.stringify(doc)
      : `{"version":${JSON.stringify(version)},"issuedAt":${JSON.stringify(at)},${opts.contentJson.slice(1)}`;
  const bytes = Buffer.from(json, 'utf8');
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new SchedulingError(
      'DOCUMENT_TOO_LARGE',
      `the document of ${stationId} would be ${bytes.length} bytes; the cap is ${MAX_PAYLOAD_BYTES}`,
    );
  }
  return bytes;
}

/** Canonical text of a document's content (everything but version and issue time). */
export function contentKey(content: DocumentContent): string {
  return JSON.stringify(content);
}

/** The prefix `documentBytes` writes before the content. */
const DOC_PREFIX = /^\{"version":\{"epoch":\d+,"n":\d+\},"issuedAt":"[^"]*",/;

/** The content key of stored document bytes (null when they cannot be read: then it counts as changed). */
export function storedContentKey(bytes: Buffer): string | null {
  const text = bytes.toString('utf8');
  const prefix = DOC_PREFIX.exec(text);
  if (prefix) return `{${text.slice(prefix[0].length)}`;
  try {
    const {
      version: _v,
      issuedAt: _i,
      ...content
    } = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    return JSON.stringify(content);
  } catch {
    return null;
  }
}
