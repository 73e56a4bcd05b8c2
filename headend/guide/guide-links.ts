/**
 * Guide-linked entries, resolved at the headend into concrete occurrences (DESIGN.md §5; issue 5): one
 * programme, or a series by title with duplicate detection (episode number, else title + sub-title).
 * They follow moved programmes — by programme id (a DVB event id or the feed's id survive a move), else
 * by title within a window and of similar duration (DOMAIN.md §5) — and a programme that vanished from
 * the guide is kept at its last known time, flagged "not listed" and warned about: never silently
 * deleted. The last resolution of each entry is kept in `guide_link_state`, which is also what a moved
 * programme is matched from.
 */
import type { Database } from 'better-sqlite3';
import { createGuideReader, type GuideReader } from './guide-store.js';
import type { GuideProgramme } from './guide-validate.js';
import { type MoveMatchOptions, similarDuration } from './guide-validate.js';
import { titleKey } from './xmltv-programme.js';

/** What a guide-linked entry points at. */
export type GuideLink =
  | {
      kind: 'programme';
      service: string;
      /** The programme as it was when the user chose it. */
      programmeId: string;
      title: string;
      start: string;
      stop: string;
    }
  | {
      kind: 'series';
      service: string;
      /** Matched case- and width-insensitively (NFKC) against programme titles. */
      title: string;
      /** Only showings starting at or after this instant (default: now). */
      from?: string;
      /** Only showings starting before this instant (default: now + horizon). */
      until?: string;
      /** `episode`: one showing per episode number, else per title + sub-title (default); `none`: every showing. */
      dedupe?: 'episode' | 'none';
    };

/** An entry with a guide link (the scheduling module owns entries; this is all resolution needs). */
export interface GuideLinkedEntry {
  id: string;
  link: GuideLink;
}

/** One resolved occurrence. `listed: false` = the guide no longer lists it; kept at its last known time. */
export interface LinkOccurrence {
  start: string;
  end: string;
  programmeId: string;
  title: string;
  subTitle?: string;
  episode?: string;
  listed: boolean;
}

export type LinkWarningCode = 'MOVED' | 'NOT_LISTED' | 'NO_MATCH';

export interface LinkWarning {
  code: LinkWarningCode;
  message: string;
  programmeId?: string;
}

/** The outcome of resolving one entry. */
export interface LinkResolution {
  entryId: string;
  /** `not_listed` when any future occurrence is no longer in the guide. */
  status: 'listed' | 'not_listed';
  occurrences: LinkOccurrence[];
  warnings: LinkWarning[];
  /** Later showings of an episode already chosen (series only). */
  duplicatesSkipped: number;
  /** The occurrences differ from the previous resolution: the entry's stations need a new document. */
  changed: boolean;
}

/** Options of the resolver. */
export interface LinkOptions extends MoveMatchOptions {
  /** How far ahead a series is resolved. Default 14 days (the planning horizon, DESIGN.md §5). */
  horizonMs?: number;
  /** Past occurrences kept in the state (for duplicate detection and display). Default 30 days. */
  keepPastMs?: number;
}

const DAY = 86_400_000;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function occurrenceOf(p: GuideProgramme): LinkOccurrence {
  const o: LinkOccurrence = {
    start: iso(p.startMs),
    end: iso(p.stopMs),
    programmeId: p.programmeId,
    title: p.title,
    listed: true,
  };
  if (p.subTitle !== null) o.subTitle = p.subTitle;
  if (p.episode !== null) o.episode = p.episode;
  return o;
}

/** Duplicate key of a showing: episode number, else title + sub-title, else the showing itself. */
function dedupeKey(o: {
  title: string;
  subTitle?: string | null;
  episode?: string | null;
  programmeId: string;
}) {
  if (o.episode) return `ep:${o.episode}`;
  if (o.subTitle) return `st:${titleKey(o.title)}\u0000${titleKey(o.subTitle)}`;
  return `id:${o.programmeId}`;
}

/** Finds a moved programme: same id, else same title near the old time with a similar duration. */
function follow(
  reader: GuideReader,
  service: string,
  last: { programmeId: string; title: string; startMs: number; stopMs: number },
  o: LinkOptions,
): GuideProgramme | undefined {
  const byId = reader.get(service, last.programmeId);
  if (byId) return byId;
  const window = o.moveWindowMs ?? 12 * 3_600_000;
  const key = titleKey(last.title);
  let best: GuideProgramme | undefined;
  for (const p of reader.overlapping(last.startMs - window, last.stopMs + window, service)) {
    if (titleKey(p.title) !== key || !similarDuration(p.stopMs - p.startMs, last.stopMs - last.startMs, o))
      continue;
    if (Math.abs(p.startMs - last.startMs) > window) continue;
    if (!best || Math.abs(p.startMs - last.startMs) < Math.abs(best.startMs - last.startMs)) best = p;
  }
  return best;
}

function resolveProgramme(
  reader: GuideReader,
  link: Extract<GuideLink, { kind: 'programme' }>,
  prev: LinkOccurrence[] | undefined,
  nowMs: number,
  o: LinkOptions,
): Omit<LinkResolution, 'entryId' | 'changed'> {
  const last = prev?.[0] ?? {
    start: link.start,
    end: link.stop,
    programmeId: link.programmeId,
    title: link.title,
    listed: true,
  };
  const lastRef = {
    programmeId: last.programmeId,
    title: last.title,
    startMs: Date.parse(last.start),
    stopMs: Date.parse(last.end),
  };
  const found = follow(reader, link.service, lastRef, o);
  if (found) {
    const occ = occurrenceOf(found);
    const warnings: LinkWarning[] = [];
    if (found.startMs !== lastRef.startMs || found.stopMs !== lastRef.stopMs) {
      warnings.push({
        code: 'MOVED',
        programmeId: found.programmeId,
        message: `"${found.title}" moved from ${last.start}–${last.end} to ${occ.start}–${occ.end}`,
      });
    }
    return { status: 'listed', occurrences: [occ], warnings, duplicatesSkipped: 0 };
  }
  if (lastRef.stopMs <= nowMs) {
    // Over, and pruned from the guide: nothing left to follow.
    return { status: 'listed', occurrences: [{ ...last }], warnings: [], duplicatesSkipped: 0 };
  }
  return {
    status: 'not_listed',
    occurrences: [{ ...last, listed: false }],
    warnings: [
      {
        code: 'NOT_LISTED',
        programmeId: last.programmeId,
        message: `"${last.title}" (${last.start}–${last.end}) is no longer in the guide; kept at its last known time`,
      },
    ],
    duplicatesSkipped: 0,
  };
}

function resolveSeries(
  reader: GuideReader,
  link: Extract<GuideLink, { kind: 'series' }>,
  prev: LinkOccurrence[] | undefined,
  nowMs: number,
  o: LinkOptions,
): Omit<LinkResolution, 'entryId' | 'changed'> {
  const fromMs = Math.max(nowMs, link.from === undefined ? nowMs : Date.parse(link.from));
  const untilMs = link.until === undefined ? nowMs + (o.horizonMs ?? 14 * DAY) : Date.parse(link.until);
  const keepPast = o.keepPastMs ?? 30 * DAY;
  const dedupe = link.dedupe !== 'none';
  const want = titleKey(link.title);
  const previous = prev ?? [];
  const past = previous.filter((p) => Date.parse(p.start) < fromMs && Date.parse(p.end) > nowMs - keepPast);
  const seen = new Set(dedupe ? past.map(dedupeKey) : []);
  const occurrences: LinkOccurrence[] = [...past];
  let duplicatesSkipped = 0;
  const showings = reader
    .overlapping(fromMs, untilMs, link.service)
    .filter((p) => p.startMs >= fromMs && p.startMs < untilMs && titleKey(p.title) === want);
  for (const p of showings) {
    const occ = occurrenceOf(p);
    const key = dedupe ? dedupeKey(occ) : `id:${occ.programmeId}`;
    if (seen.has(key)) {
      duplicatesSkipped++;
      continue;
    }
    seen.add(key);
    occurrences.push(occ);
  }
  const warnings: LinkWarning[] = [];
  const nowListed = new Map(occurrences.map((x) => [dedupe ? dedupeKey(x) : `id:${x.programmeId}`, x]));
  const byId = new Map(occurrences.map((x) => [x.programmeId, x]));
  for (const old of previous) {
    if (Date.parse(old.start) < fromMs) continue;
    const same =
      byId.get(old.programmeId) ?? nowListed.get(dedupe ? dedupeKey(old) : `id:${old.programmeId}`);
    if (same) {
      if (same.start !== old.start || same.end !== old.end) {
        warnings.push({
          code: 'MOVED',
          programmeId: same.programmeId,
          message: `"${same.title}"${same.subTitle ? ` (${same.subTitle})` : ''} moved from ${old.start} to ${same.start}`,
        });
      }
      continue;
    }
    // Not in the guide any more under any key: follow it by title and duration near its old time.
    const moved = follow(
      reader,
      link.service,
      {
        programmeId: old.programmeId,
        title: old.title,
        startMs: Date.parse(old.start),
        stopMs: Date.parse(old.end),
      },
      o,
    );
    if (moved && moved.startMs >= fromMs && !byId.has(moved.programmeId)) {
      const occ = occurrenceOf(moved);
      occurrences.push(occ);
      byId.set(occ.programmeId, occ);
      warnings.push({
        code: 'MOVED',
        programmeId: occ.programmeId,
        message: `"${occ.title}" moved from ${old.start} to ${occ.start}`,
      });
      continue;
    }
    occurrences.push({ ...old, listed: false });
    warnings.push({
      code: 'NOT_LISTED',
      programmeId: old.programmeId,
      message: `"${old.title}"${old.subTitle ? ` (${old.subTitle})` : ''} at ${old.start} is no longer in the guide; kept at its last known time`,
    });
  }
  if (showings.length === 0 && previous.length === 0) {
    warnings.push({
      code: 'NO_MATCH',
      message: `no showing of "${link.title}" on ${link.service} in the guide yet`,
    });
  }
  occurrences.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const notListed = occurrences.some((x) => !x.listed && Date.parse(x.end) > nowMs);
  return { status: notListed ? 'not_listed' : 'listed', occurrences, warnings, duplicatesSkipped };
}

/** Resolves one link against the guide, given the previous resolution's occurrences (pure over `reader`). */
export function resolveGuideLink(
  reader: GuideReader,
  link: GuideLink,
  previous: LinkOccurrence[] | undefined,
  nowMs: number,
  options: LinkOptions = {},
): Omit<LinkResolution, 'entryId' | 'changed'> {
  return link.kind === 'programme'
    ? resolveProgramme(reader, link, previous, nowMs, options)
    : resolveSeries(reader, link, previous, nowMs, options);
}

interface StateRow {
  entry_id: string;
  status: 'listed' | 'not_listed';
  occurrences_json: string;
  warnings_json: string;
  resolved_at: number;
}

/** Stored resolutions (`guide_link_state`). */
export interface GuideLinkStore {
  get(entryId: string):
    | {
        status: LinkResolution['status'];
        occurrences: LinkOccurrence[];
        warnings: LinkWarning[];
        resolvedAt: number;
      }
    | undefined;
  /** Forgets an entry (call when the entry is deleted). */
  forget(entryId: string): void;
}

export function createGuideLinkStore(db: Database): GuideLinkStore {
  const get = db.prepare('SELECT * FROM guide_link_state WHERE entry_id = ?');
  const del = db.prepare('DELETE FROM guide_link_state WHERE entry_id = ?');
  return {
    get(entryId) {
      const r = get.get(entryId) as StateRow | undefined;
      if (r === undefined) return undefined;
      return {
        status: r.status,
        occurrences: JSON.parse(r.occurrences_json) as LinkOccurrence[],
        warnings: JSON.parse(r.warnings_json) as LinkWarning[],
        resolvedAt: r.resolved_at,
      };
    },
    forget(entryId) {
      del.run(entryId);
    },
  };
}

/**
 * Resolves entries against the current guide (after every import, and when an entry is created or edited),
 * stores the results in one short transaction, and says which entries changed.
 */
export function resolveGuideLinks(
  db: Database,
  entries: readonly GuideLinkedEntry[],
  nowMs: number,
  options: LinkOptions = {},
): LinkResolution[] {
  const reader = createGuideReader(db);
  const store = createGuideLinkStore(db);
  const upsert = db.prepare(
    `INSERT INTO guide_link_state (entry_id, status, occurrences_json, warnings_json, resolved_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (entry_id) DO UPDATE SET status = excluded.status, occurrences_json = excluded.occurrences_json,
       warnings_json = excluded.warnings_json, resolved_at = excluded.resolved_at`,
  );
  const results: LinkResolution[] = entries.map((e) => {
    const prev = store.get(e.id);
    const r = resolveGuideLink(reader, e.link, prev?.occurrences, nowMs, options);
    const json = JSON.stringify(r.occurrences);
    return { entryId: e.id, ...r, changed: prev === undefined || JSON.stringify(prev.occurrences) !== json };
  });
  db.transaction(() => {
    for (const r of results) {
      upsert.run(r.entryId, r.status, JSON.stringify(r.occurrences), JSON.stringify(r.warnings), nowMs);
    }
  }).immediate(); // write lock first: no SQLITE_BUSY_SNAPSHOT when another connection commits meanwhile
  return results;
}

/** The occurrences as the schedule document's `when: {type: 'occurrences'}` items (protocol/messages/schedule.ts). */
export function toScheduleItems(
  r: Pick<LinkResolution, 'occurrences'>,
): { start: string; end: string; programmeId: string; title: string }[] {
  const seen = new Set<string>();
  const out: { start: string; end: string; programmeId: string; title: string }[] = [];
  for (const o of r.occurrences) {
    if (seen.has(o.start)) continue; // starts are occurrence identities (DESIGN.md §5)
    seen.add(o.start);
    out.push({
      start: o.start,
      end: o.end,
      programmeId: o.programmeId.slice(0, 128),
      title: o.title.slice(0, 200),
    });
  }
  return out;
}
