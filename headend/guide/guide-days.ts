/**
 * The retained per-service, per-local-day guide documents (`ruralsat/v1/guide/{service}/{date}`,
 * DESIGN.md §4; schema protocol/messages/guide.ts). Stations keep them for local display and the on-site
 * tools; planning never needs them. A day holds the programmes that START on that local day in the
 * headend's time zone. After an import, only the days its report names are rebuilt; at start-up and on
 * every reconnect the headend republishes every day in its window from SQLite (DESIGN.md §4), and clears
 * (empty retained payload) the days that fell out of it.
 */
import {
  type Episode,
  GuideDay,
  MAX_PROGRAMMES_PER_DAY,
  type Programme,
} from '../../protocol/messages/guide.js';
import type { Topics } from '../../protocol/topics.js';
import type { GuideReader } from './guide-store.js';
import type { GuideProgramme } from './guide-validate.js';
import type { ImportReport } from './import-report.js';
import { addDays, type LocalCalendar } from './local-day.js';

/** One guide day to (re)publish. */
export interface GuideDayKey {
  service: string;
  date: string;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max);
}

/** The stored episode key (`S2E5.P1`, `E12`, or the feed's onscreen text) as the protocol's Episode. */
export function episodeOf(key: string | null): Episode | undefined {
  if (key === null || key === '') return undefined;
  const m = /^(?:S(\d+))?E(\d+)(?:\.P(\d+))?$/.exec(key);
  if (m === null) return { onScreen: clip(key, 64) };
  const e: Episode = { episode: Number(m[2]) };
  if (m[1] !== undefined) e.season = Number(m[1]);
  if (m[3] !== undefined) e.part = Number(m[3]);
  return e;
}

/** A stored programme as the guide-day message carries it (clipped to the schema's limits). */
export function toProgramme(p: GuideProgramme): Programme {
  const out: Programme = {
    programmeId: clip(p.programmeId, 128),
    start: iso(p.startMs),
    stop: iso(p.stopMs),
    title: clip(p.title, 500),
  };
  if (p.subTitle) out.subTitle = clip(p.subTitle, 500);
  const ep = episodeOf(p.episode);
  if (ep) out.episode = ep;
  if (p.description) out.desc = clip(p.description, 4000);
  if (p.category) out.category = [clip(p.category, 100)];
  return out;
}

/** Builds (and validates against the protocol schema) one service's guide day. */
export function buildGuideDay(
  reader: GuideReader,
  calendar: LocalCalendar,
  key: GuideDayKey,
  issuedAt: Date,
): GuideDay {
  const { startMs, endMs } = calendar.dayRange(key.date);
  const programmes = reader
    .byStart(key.service, startMs, endMs)
    .slice(0, MAX_PROGRAMMES_PER_DAY)
    .map(toProgramme);
  return GuideDay.parse({
    service: key.service,
    date: key.date,
    timeZone: calendar.timeZone,
    issuedAt: issuedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    programmes,
  });
}

/** The days an import changed, from its report. */
export function changedGuideDays(report: ImportReport): GuideDayKey[] {
  const out: GuideDayKey[] = [];
  for (const s of report.services) for (const date of s.changedDates) out.push({ service: s.service, date });
  return out;
}

/** The publishing window: from `pastDays` before today to `futureDays` after it (local dates). */
export function guideWindow(
  calendar: LocalCalendar,
  nowMs: number,
  pastDays: number,
  futureDays: number,
): { from: string; to: string } {
  const today = calendar.dateOf(nowMs);
  return { from: addDays(today, -pastDays), to: addDays(today, futureDays) };
}

/** Every (service, date) with programmes in [from, to] (inclusive local dates): what start-up republishes. */
export function guideDaysInWindow(
  reader: GuideReader,
  calendar: LocalCalendar,
  window: { from: string; to: string },
): GuideDayKey[] {
  const out: GuideDayKey[] = [];
  const startMs = calendar.dayRange(window.from).startMs;
  const endMs = calendar.dayRange(window.to).endMs;
  for (const service of reader.services(startMs, endMs)) {
    for (let d = window.from; d <= window.to; d = addDays(d, 1)) {
      const r = calendar.dayRange(d);
      if (reader.count(service, r.startMs, r.endMs) > 0) out.push({ service, date: d });
    }
  }
  return out;
}

/** Publishes a retained MQTT message (the headend's publisher; retries are its business). */
export type RetainedPublish = (topic: string, payload: Buffer) => Promise<void>;

/** What {@link publishGuideDays} needs. */
export interface GuideDayPublishDeps {
  reader: GuideReader;
  calendar: LocalCalendar;
  topics: Topics;
  publish: RetainedPublish;
  now: () => Date;
}

/**
 * Publishes the given days. A day with no programmes any more is published empty (not cleared): the
 * station should see that the day is known to be empty, e.g. after the feed dropped a service.
 */
export async function publishGuideDays(
  deps: GuideDayPublishDeps,
  days: readonly GuideDayKey[],
): Promise<number> {
  let n = 0;
  for (const key of days) {
    const day = buildGuideDay(deps.reader, deps.calendar, key, deps.now());
    await deps.publish(deps.topics.guide(key.service, key.date), Buffer.from(JSON.stringify(day)));
    n++;
  }
  return n;
}

/**
 * Clears (empty retained payload, MQTT 3.1.1 §3.3.1.3) the retained days of `services` from
 * `lookbackDays` before the window's first day up to the day before it, so stations stop receiving
 * days that have passed. Idempotent: clearing a topic that holds nothing is harmless.
 */
export async function clearExpiredGuideDays(
  deps: Pick<GuideDayPublishDeps, 'topics' | 'publish'>,
  services: readonly string[],
  windowFrom: string,
  lookbackDays = 7,
): Promise<number> {
  let n = 0;
  for (const service of services) {
    for (let i = lookbackDays; i >= 1; i--) {
      await deps.publish(deps.topics.guide(service, addDays(windowFrom, -i)), Buffer.alloc(0));
      n++;
    }
  }
  return n;
}
