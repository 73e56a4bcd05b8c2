/**
 * The schedule document: one retained message per station on `ruralsat/v1/st/{id}/schedule`
 * (DESIGN.md §4). It carries EVERYTHING the planner reads (DESIGN.md §5) — time zone, receivers and their
 * sharing capability, the tuning of every referenced service, every entry with its creation time and
 * revision, and the planner version it was written for — so the headend's preview and the station's
 * execution are the same pure function of the same bytes and cannot differ.
 *
 * No defaults are applied to planner inputs here: the headend writes padding, pre-roll and priority
 * explicitly, so a station never plans with a default it does not share with the headend.
 */
import { z } from 'zod';
import { PriorityClass } from '../registry.js';
import { Id, ScheduleVersion, ServiceKey, TimeZone, UtcTimestamp } from './common.js';
import { ServiceTuning } from './tuning.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Most entries one station's document may hold (the 256 KiB payload cap allows about this many). */
export const MAX_SCHEDULE_ENTRIES = 500;
/** Most receivers one station may declare. */
export const MAX_RECEIVERS = 8;
/** Most services one document may carry tuning for (the line-up has 49, DOMAIN.md §1). */
export const MAX_TUNING_SERVICES = 500;
/** Longest single occurrence (once, weekly slot, or guide-resolved item). */
export const MAX_OCCURRENCE_MS = 24 * HOUR_MS;
/** Longest padding or conference pre-roll on either side of an occurrence. */
export const MAX_PAD_MS = 2 * HOUR_MS;
/** Most concrete occurrences one guide-linked entry may list. */
export const MAX_OCCURRENCE_ITEMS = 500;
/** Bounds of an entry's explicit priority (higher wins inside a class, DESIGN.md §5). */
export const MIN_PRIORITY = -1000;
export const MAX_PRIORITY = 1000;

/**
 * How a receiver can be shared (DESIGN.md §5): a decoder-output receiver serves one *service* at a time;
 * one that outputs the whole transport stream serves every service of one *transponder*
 * (`transponderKey()` in tuning.ts).
 */
export const RECEIVER_SHARING = ['service', 'transponder'] as const;
export const ReceiverSharing = z.enum(RECEIVER_SHARING);
export type ReceiverSharing = z.infer<typeof ReceiverSharing>;

/** One receiver of the station as the planner sees it. Order matters: earlier receivers are tried first. */
export const ScheduleReceiver = z.strictObject({
  id: Id,
  sharing: ReceiverSharing,
});
export type ScheduleReceiver = z.infer<typeof ScheduleReceiver>;

/** True when `y-m-d` is a real Gregorian calendar date. */
function isCalendarDate(s: string): boolean {
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(5, 7));
  const d = Number(s.slice(8, 10));
  if (m < 1 || m > 12 || d < 1) return false;
  const monthDays = [
    31,
    y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return d <= (monthDays[m - 1] ?? 0);
}

/** A local calendar date in the document's time zone, `YYYY-MM-DD` (years 2000–2199). */
export const LocalDate = z
  .string()
  .regex(/^2[01]\d\d-\d\d-\d\d$/, 'local date YYYY-MM-DD (years 2000–2199)')
  .refine(isCalendarDate, 'not a calendar date');
export type LocalDate = z.infer<typeof LocalDate>;

/** A local wall-clock time `HH:MM`, 00:00–23:59. */
export const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'local time HH:MM, 00:00–23:59');

const ms = (max: number, what: string) =>
  z.number().int().min(0, `${what} must be ≥ 0`).max(max, `${what} must be ≤ ${max} ms`);

function checkSpan(v: { start: string; end: string }, ctx: z.RefinementCtx): void {
  const span = Date.parse(v.end) - Date.parse(v.start);
  if (!(span > 0)) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
  else if (span > MAX_OCCURRENCE_MS) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'an occurrence may last at most 24 h' });
  }
}

/** A one-off occurrence. */
export const OnceRule = z
  .strictObject({ type: z.literal('once'), start: UtcTimestamp, end: UtcTimestamp })
  .superRefine(checkSpan);

/**
 * Weekly recurrence, expanded by plain arithmetic in the document's time zone (DESIGN.md §3, §5).
 * `weekdays` are ISO (1 = Monday … 7 = Sunday) and refer to the local date the slot STARTS on, so a slot
 * may cross midnight. `durationMin` is elapsed time, so a slot over a DST change still lasts that long.
 * `from`/`until` are inclusive local dates of the slot's start.
 */
export const WeeklyRule = z
  .strictObject({
    type: z.literal('weekly'),
    weekdays: z
      .array(z.number().int().min(1).max(7))
      .min(1)
      .max(7)
      .refine((w) => new Set(w).size === w.length, 'weekdays must not repeat'),
    startLocal: LocalTime,
    durationMin: z
      .number()
      .int()
      .min(1)
      .max(MAX_OCCURRENCE_MS / MINUTE_MS, 'a weekly slot may last at most 24 h'),
    from: LocalDate,
    until: LocalDate.optional(),
  })
  .superRefine((w, ctx) => {
    if (w.until !== undefined && w.until < w.from) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'until must not be before from' });
    }
  });
export type WeeklyRule = z.infer<typeof WeeklyRule>;

/** One concrete occurrence of a guide-linked entry, resolved by the headend from the programme guide. */
export const OccurrenceItem = z
  .strictObject({
    start: UtcTimestamp,
    end: UtcTimestamp,
    /** Guide programme this occurrence was resolved from (for display and for following moves). */
    programmeId: z.string().min(1).max(128).optional(),
    /** Episode title; shown instead of the entry's title. */
    title: z.string().min(1).max(200).optional(),
  })
  .superRefine(checkSpan);
export type OccurrenceItem = z.infer<typeof OccurrenceItem>;

/**
 * Concrete occurrences: a programme or a series the headend resolved against the guide (DESIGN.md §5 —
 * stations never need the guide to plan). Starts are the occurrences' identities, so they are unique.
 */
export const OccurrencesRule = z
  .strictObject({
    type: z.literal('occurrences'),
    items: z.array(OccurrenceItem).min(1).max(MAX_OCCURRENCE_ITEMS),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<number>();
    r.items.forEach((it, i) => {
      const at = Date.parse(it.start);
      if (seen.has(at)) {
        ctx.addIssue({
          code: 'custom',
          path: ['items', i, 'start'],
          message: 'two items start at the same instant',
        });
      }
      seen.add(at);
    });
  });

/** When an entry happens. */
export const ScheduleWhen = z.discriminatedUnion('type', [OnceRule, WeeklyRule, OccurrencesRule]);
export type ScheduleWhen = z.infer<typeof ScheduleWhen>;

const entryFields = {
  /** Stable entry id; `(id, nominal start)` is an occurrence's identity across edits (DESIGN.md §5). */
  id: Id,
  /** Revision, bumped by every edit of the entry. */
  rev: z.number().int().nonnegative(),
  /** Creation instant: inside a class and priority, the earlier entry wins. */
  createdAt: UtcTimestamp,
  title: z.string().min(1).max(200),
  /** Explicit priority inside the class; higher wins. */
  priority: z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY),
  /** Line-up service; its tuning must be in the document's `tuning`. */
  service: ServiceKey,
  /** Soft padding (DESIGN.md §5: defaults 2 min / 5 min for recordings, written here by the headend). */
  padBeforeMs: ms(MAX_PAD_MS, 'padBeforeMs'),
  padAfterMs: ms(MAX_PAD_MS, 'padAfterMs'),
  /** Pin to one receiver of `receivers[]`; the planner then never moves it elsewhere. */
  receiverId: Id.optional(),
  /** Retention hint: keep at most this many recordings of this entry (DESIGN.md §6, Recorder). */
  keep: z.number().int().min(1).max(1000).optional(),
  when: ScheduleWhen,
};

/** A recording requested by an operator or mandated by the control room. */
export const RecordingEntry = z.strictObject({
  ...entryFields,
  kind: z.literal('recording'),
  class: PriorityClass.exclude(['conference']),
  record: z.literal(true),
});

/** A video conference: shown on the station's output and, if `record`, recorded too. */
export const ConferenceEntry = z.strictObject({
  ...entryFields,
  kind: z.literal('conference'),
  class: z.literal('conference'),
  record: z.boolean(),
  /** Tune this long before the start (DESIGN.md §5: conferences tune 5 min early). Soft, like padding. */
  preRollMs: ms(MAX_PAD_MS, 'preRollMs'),
});

export const ScheduleEntry = z.discriminatedUnion('kind', [RecordingEntry, ConferenceEntry]);
export type ScheduleEntry = z.infer<typeof ScheduleEntry>;

/** The whole desired schedule of one station. */
export const ScheduleDocument = z
  .strictObject({
    version: ScheduleVersion,
    issuedAt: UtcTimestamp,
    /** The planner version this document was written for (`PLANNER_VERSION` in protocol/planner). */
    plannerVersion: z.number().int().min(1),
    /** IANA zone in which weekly rules are expanded (Asia/Shanghai for the Pingliang stations). */
    timeZone: TimeZone,
    receivers: z.array(ScheduleReceiver).min(1).max(MAX_RECEIVERS),
    /** Tuning of every service an entry references, keyed by service key. */
    tuning: z.record(ServiceKey, ServiceTuning),
    entries: z.array(ScheduleEntry).max(MAX_SCHEDULE_ENTRIES),
  })
  .superRefine((doc, ctx) => {
    const receiverIds = new Set<string>();
    doc.receivers.forEach((r, i) => {
      if (receiverIds.has(r.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['receivers', i, 'id'],
          message: `duplicate receiver id "${r.id}"`,
        });
      }
      receiverIds.add(r.id);
    });
    const keys = Object.keys(doc.tuning);
    if (keys.length > MAX_TUNING_SERVICES) {
      ctx.addIssue({ code: 'custom', path: ['tuning'], message: `at most ${MAX_TUNING_SERVICES} services` });
    }
    for (const k of keys) {
      const key = doc.tuning[k]?.key;
      if (key !== k) {
        ctx.addIssue({
          code: 'custom',
          path: ['tuning', k, 'key'],
          message: `tuning keyed "${k}" describes service "${key}"`,
        });
      }
    }
    const entryIds = new Set<string>();
    doc.entries.forEach((e, i) => {
      if (entryIds.has(e.id)) {
        ctx.addIssue({ code: 'custom', path: ['entries', i, 'id'], message: `duplicate entry id "${e.id}"` });
      }
      entryIds.add(e.id);
      if (!Object.hasOwn(doc.tuning, e.service)) {
        ctx.addIssue({
          code: 'custom',
          path: ['entries', i, 'service'],
          message: `service "${e.service}" has no tuning in this document`,
        });
      }
      if (e.receiverId !== undefined && !receiverIds.has(e.receiverId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['entries', i, 'receiverId'],
          message: `receiver "${e.receiverId}" is not one of this station's receivers`,
        });
      }
    });
  });
export type ScheduleDocument = z.infer<typeof ScheduleDocument>;
/** What a producer writes (tuning fields with defaults may be omitted). */
export type ScheduleDocumentInput = z.input<typeof ScheduleDocument>;
