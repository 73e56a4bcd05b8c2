/**
 * From an XMLTV `<programme>` as written to what the guide stores: UTC times (xmltv-time.ts), the title
 * in the preferred language (all variants kept), a normalised episode number, the DVB event id or
 * episode id when the feed gives one, and the reasons a programme is refused. Pure functions.
 */
import type { LangText, XmltvProgramme } from './xmltv-parse.js';
import { parseXmltvTime } from './xmltv-time.js';

/** Why a programme was not imported. */
export type RejectCode =
  | 'MISSING_CHANNEL'
  | 'BAD_START'
  | 'BAD_STOP'
  | 'OFFSET_OUT_OF_RANGE'
  | 'MISSING_TITLE'
  | 'MISSING_STOP'
  | 'STOP_NOT_AFTER_START'
  | 'TOO_LONG'
  | 'DUPLICATE'
  | 'OVERLAP'
  | 'UNMAPPED_CHANNEL';

/** A refused programme and why, with enough context to find it in the file. */
export interface Reject {
  code: RejectCode;
  message: string;
  channel: string;
  line: number;
  title?: string;
  /** UTC ISO start, when it could be parsed. */
  start?: string;
}

/** A programme with parsed times and normalised fields, before per-service validation. */
export interface NormalizedProgramme {
  channel: string;
  startMs: number;
  /** Null when the file gave no stop (filled from the next programme during validation). */
  stopMs: number | null;
  /** Offset written on the start time, minutes east of UTC; null = none (taken as UTC). */
  offsetMinutes: number | null;
  title: string;
  lang: string | null;
  subTitle: string | null;
  episode: string | null;
  description: string | null;
  category: string | null;
  /** Every title variant, when there is more than one (e.g. zh and en). */
  titles: LangText[] | null;
  /** DVB EIT event id (identifies one showing on one service). */
  eventId: string | null;
  /** Feed's episode/programme id (dd_progid, crid): identifies the content, shared by repeats. */
  contentId: string | null;
  line: number;
}

/** `<episode-num system>` values taken as a DVB event id (identifies one showing). */
export const EVENT_ID_SYSTEMS: ReadonlySet<string> = new Set([
  'dvb_event_id',
  'dvb-event-id',
  'eit_event_id',
]);
/** `<episode-num system>` values taken as a content id (identifies an episode, shared by repeats). */
export const CONTENT_ID_SYSTEMS: ReadonlySet<string> = new Set(['dd_progid', 'crid']);

/** Options of {@link normalizeProgramme}. */
export interface NormalizeOptions {
  /** Languages to prefer for the stored title/description, best first. Default `['zh', 'en']`. */
  preferredLangs?: readonly string[];
}

export type NormalizeResult = { ok: true; value: NormalizedProgramme } | { ok: false; reject: Reject };

/** The variant in the best preferred language, else the first one written. */
export function pickLang(list: readonly LangText[], preferred: readonly string[]): LangText | undefined {
  if (list.length <= 1) return list[0];
  for (const want of preferred) {
    const hit = list.find((l) => l.lang === want || l.lang?.toLowerCase().startsWith(`${want}-`));
    if (hit) return hit;
  }
  return list[0];
}

/**
 * Episode number for duplicate detection (issue 5: "episode number, else title + subtitle"): `S2E5`,
 * `E12`, with `.P1` for a part. xmltv_ns is zero-based `season.episode.part` with optional `/total`;
 * onscreen strings like `S02E05` or `第12集` are recognised, other onscreen text is kept as written.
 */
export function normalizeEpisode(nums: readonly { system?: string; value: string }[]): string | null {
  const ns = nums.find((n) => n.system === 'xmltv_ns');
  if (ns) {
    const parts = ns.value.split('.').map((p) => {
      const n = /^\s*(\d+)\s*(?:\/\s*\d+\s*)?$/.exec(p);
      return n ? Number(n[1]) : null;
    });
    const [season, episode, part] = parts;
    if (episode !== null && episode !== undefined) {
      let out = season !== null && season !== undefined ? `S${season + 1}E${episode + 1}` : `E${episode + 1}`;
      if (part !== null && part !== undefined) out += `.P${part + 1}`;
      return out;
    }
  }
  const onscreen = nums.find((n) => n.system === 'onscreen');
  if (onscreen) {
    const v = onscreen.value.trim();
    const se = /S\s*(\d+)\s*E\s*(\d+)/i.exec(v);
    if (se) return `S${Number(se[1])}E${Number(se[2])}`;
    const zh = /(?:第\s*(\d+)\s*季\s*)?第\s*(\d+)\s*集/.exec(v);
    if (zh) return zh[1] ? `S${Number(zh[1])}E${Number(zh[2])}` : `E${Number(zh[2])}`;
    const ep = /^(?:E|Ep\.?|Episode)\s*(\d+)$/i.exec(v);
    if (ep) return `E${Number(ep[1])}`;
    return v.length > 0 ? v.slice(0, 64) : null;
  }
  return null;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const DEFAULT_LANGS: readonly string[] = ['zh', 'en'];

function refusal(
  p: XmltvProgramme,
  titleText: LangText | undefined,
  code: RejectCode,
  message: string,
  startMs: number | undefined,
): NormalizeResult {
  const r: Reject = { code, message, channel: p.channel, line: p.line };
  if (titleText) r.title = titleText.text;
  if (startMs !== undefined) r.start = iso(startMs);
  return { ok: false, reject: r };
}

/** Parses and normalises one programme; refusals carry a code and a message a user can act on. */
export function normalizeProgramme(p: XmltvProgramme, options: NormalizeOptions = {}): NormalizeResult {
  const preferred = options.preferredLangs ?? DEFAULT_LANGS;
  const titleText = pickLang(p.titles, preferred);
  if (p.channel === '')
    return refusal(p, titleText, 'MISSING_CHANNEL', '<programme> without a channel attribute', undefined);
  const start = parseXmltvTime(p.start);
  if (!start.ok) {
    const code = start.code === 'OFFSET_OUT_OF_RANGE' ? 'OFFSET_OUT_OF_RANGE' : 'BAD_START';
    const message = p.start === '' ? '<programme> without a start time' : `start: ${start.message}`;
    return refusal(p, titleText, code, message, undefined);
  }
  let stopMs: number | null = null;
  if (p.stop !== undefined && p.stop.trim() !== '') {
    const stop = parseXmltvTime(p.stop);
    if (!stop.ok) {
      const code = stop.code === 'OFFSET_OUT_OF_RANGE' ? 'OFFSET_OUT_OF_RANGE' : 'BAD_STOP';
      return refusal(p, titleText, code, `stop: ${stop.message}`, start.utcMs);
    }
    stopMs = stop.utcMs;
  }
  if (!titleText) return refusal(p, titleText, 'MISSING_TITLE', '<programme> without a title', start.utcMs);
  const sub = pickLang(p.subTitles, preferred);
  const desc = pickLang(p.descs, preferred);
  const cat = pickLang(p.categories, preferred);
  let eventId: string | null = null;
  let contentId: string | null = null;
  for (const e of p.episodeNums) {
    const sys = e.system?.toLowerCase();
    if (sys === undefined) continue;
    if (eventId === null && EVENT_ID_SYSTEMS.has(sys)) eventId = e.value.trim();
    else if (contentId === null && CONTENT_ID_SYSTEMS.has(sys)) contentId = e.value.trim();
  }
  return {
    ok: true,
    value: {
      channel: p.channel,
      startMs: start.utcMs,
      stopMs,
      offsetMinutes: start.offsetMinutes,
      title: titleText.text,
      lang: titleText.lang ?? null,
      subTitle: sub?.text ?? null,
      episode: normalizeEpisode(p.episodeNums),
      description: desc?.text ?? null,
      category: cat?.text ?? null,
      titles: p.titles.length > 1 ? p.titles : null,
      eventId,
      contentId,
      line: p.line,
    },
  };
}

/** Case- and space-insensitive form of a title, for matching (NFKC folds full-width characters). */
export function titleKey(title: string): string {
  return title.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * 64-bit FNV-1a over UTF-16 code units, kept as two 32-bit halves and multiplied in 16-bit pieces (no
 * float division, no BigInt): ids are hashed for every programme of every import (DESIGN.md §8).
 */
class Fnv1a64 {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;

  /** Feeds the code units of `s`. */
  add(s: string): this {
    let hi = this.hi;
    let lo = this.lo;
    for (let i = 0; i < s.length; i++) {
      lo = (lo ^ s.charCodeAt(i)) >>> 0;
      // (hi:lo) *= 0x100000001b3 = 2^40 + 0x1b3, mod 2^64: lo·0x1b3 in 16-bit halves, hi·0x1b3 + lo·2^8.
      const t = (lo & 0xffff) * 0x1b3;
      const u = (lo >>> 16) * 0x1b3 + (t >>> 16);
      hi = (Math.imul(hi, 0x1b3) + (u >>> 16) + (lo << 8)) >>> 0;
      lo = (((u & 0xffff) << 16) | (t & 0xffff)) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  /** 16 lower-case hex digits. */
  hex(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }
}

/** 64-bit FNV-1a as 16 hex digits: a fast, stable, non-cryptographic hash for programme ids. */
export function fnv1a64(s: string): string {
  return new Fnv1a64().add(s).hex();
}

/**
 * Stable programme id (issue 5): `ev:<id>` for a DVB event id, `ep:<id>` for the feed's episode id,
 * else `h:<hash of channel + start + title>`. Validation appends `#2`, `#3`… when one id occurs more
 * than once in a service's window (a repeat of the same episode).
 */
export function baseProgrammeId(
  p: Pick<NormalizedProgramme, 'channel' | 'startMs' | 'title' | 'eventId' | 'contentId'>,
): string {
  if (p.eventId) return `ev:${p.eventId}`;
  if (p.contentId) return `ep:${p.contentId}`;
  // = fnv1a64(`${channel}\u0000${startMs}\u0000${title}`), without building that string first.
  return `h:${new Fnv1a64().add(p.channel).add('\u0000').add(String(p.startMs)).add('\u0000').add(p.title).hex()}`;
}
