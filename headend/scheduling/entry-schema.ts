/**
 * What a user asks the headend to schedule (DESIGN.md §1, §5): a recording (operator or mandated by the
 * control room) or a conference, one-off, weekly, one guide programme or a series by title, targeted at a
 * station, a county or group, a list of stations, or all. One zod schema is the single source for the HTTP
 * API, the OpenAPI document and the stored form. Times from forms may carry an offset; they are normalised
 * to UTC `Z` here, before anything enters the protocol (DESIGN.md §4).
 */
import { z } from 'zod';
import { Id, OffsetTimestamp, ServiceKey, StationId } from '../../protocol/messages/common.js';
import {
  LocalDate,
  LocalTime,
  MAX_OCCURRENCE_MS,
  MAX_PAD_MS,
  MAX_PRIORITY,
  MIN_PRIORITY,
} from '../../protocol/messages/schedule.js';

/** Most stations one list target may name (the prefecture has 102; headroom for growth). */
export const MAX_TARGET_STATIONS = 5000;

/** An instant with an offset (or `Z`), normalised to UTC `…Z` without milliseconds when they are zero. */
export const InstantInput = OffsetTimestamp.transform((s) =>
  new Date(s).toISOString().replace(/\.000Z$/, 'Z'),
);

/** Who gets the entry. A county is a group (DOMAIN.md §1: the 7 counties of Pingliang are seeded groups). */
export const Target = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('station'), stationId: StationId }),
  z.strictObject({
    type: z.literal('stations'),
    stationIds: z
      .array(StationId)
      .min(1)
      .max(MAX_TARGET_STATIONS)
      .refine((ids) => new Set(ids).size === ids.length, 'station ids must not repeat'),
  }),
  z.strictObject({ type: z.literal('county'), county: z.string().min(1).max(63) }),
  z.strictObject({ type: z.literal('group'), groupId: z.string().min(1).max(63) }),
  z.strictObject({ type: z.literal('all') }),
]);
export type Target = z.infer<typeof Target>;

const OnceInput = z
  .strictObject({ type: z.literal('once'), start: InstantInput, end: InstantInput })
  .superRefine((w, ctx) => {
    const span = Date.parse(w.end) - Date.parse(w.start);
    if (!(span > 0)) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
    else if (span > MAX_OCCURRENCE_MS)
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'an occurrence may last at most 24 h' });
  });

const WeeklyInput = z
  .strictObject({
    type: z.literal('weekly'),
    /** ISO weekdays (1 = Monday … 7 = Sunday) of the local date a slot starts on. */
    weekdays: z
      .array(z.number().int().min(1).max(7))
      .min(1)
      .max(7)
      .refine((w) => new Set(w).size === w.length, 'weekdays must not repeat')
      .transform((w) => [...w].sort((a, b) => a - b)),
    startLocal: LocalTime,
    durationMin: z
      .number()
      .int()
      .min(1)
      .max(MAX_OCCURRENCE_MS / 60_000, 'a weekly slot may last at most 24 h'),
    /** First local date (inclusive). */
    from: LocalDate,
    /** Last local date (inclusive); open-ended when omitted. */
    until: LocalDate.optional(),
  })
  .superRefine((w, ctx) => {
    if (w.until !== undefined && w.until < w.from)
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'until must not be before from' });
  });

/** One programme of the guide, by its stable id (the entry's service is its channel). */
const ProgrammeInput = z.strictObject({
  type: z.literal('programme'),
  programmeId: z.string().min(1).max(512),
});

/** Every showing of a title on the entry's service (DESIGN.md §5: duplicates by episode, else sub-title). */
const SeriesInput = z
  .strictObject({
    type: z.literal('series'),
    title: z.string().trim().min(1).max(200),
    from: InstantInput.optional(),
    until: InstantInput.optional(),
    /** `episode` (default): one recording per episode; `none`: every showing. */
    dedupe: z.enum(['episode', 'none']).default('episode'),
  })
  .superRefine((s, ctx) => {
    if (s.from !== undefined && s.until !== undefined && Date.parse(s.until) <= Date.parse(s.from))
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'until must be after from' });
  });

/** When, as a user gives it. */
export const WhenInput = z.discriminatedUnion('type', [OnceInput, WeeklyInput, ProgrammeInput, SeriesInput]);
export type WhenInput = z.input<typeof WhenInput>;

/** When, as stored: a programme link keeps the programme as it was chosen, to follow it if it moves. */
export const StoredWhen = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('once'), start: z.string(), end: z.string() }),
  z.strictObject({
    type: z.literal('weekly'),
    weekdays: z.array(z.number().int()),
    startLocal: z.string(),
    durationMin: z.number().int(),
    from: z.string(),
    until: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('programme'),
    programmeId: z.string(),
    title: z.string(),
    start: z.string(),
    stop: z.string(),
  }),
  z.strictObject({
    type: z.literal('series'),
    title: z.string(),
    from: z.string().optional(),
    until: z.string().optional(),
    dedupe: z.enum(['episode', 'none']),
  }),
]);
export type StoredWhen = z.infer<typeof StoredWhen>;

const pad = z.number().int().min(0).max(MAX_PAD_MS);

/** Fields every entry has, as a user gives them (defaults are filled by the service from the timing profile). */
const entryFields = {
  /** Optional caller-chosen id (else a random one). */
  id: Id.optional(),
  title: z.string().trim().min(1).max(200),
  service: ServiceKey,
  /** Explicit priority inside the class; higher wins (DESIGN.md §5). Default 0. */
  priority: z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY).optional(),
  /** Soft padding; defaults from the timing profile (2 min / 5 min for recordings, 0 for conferences). */
  padBeforeMs: pad.optional(),
  padAfterMs: pad.optional(),
  /** Pin to one receiver (single-station targets only). */
  receiverId: Id.optional(),
  /** Keep at most this many recordings of this entry on the station. */
  keep: z.number().int().min(1).max(1000).optional(),
  when: WhenInput,
  target: Target,
};

/** A recording: `operator` (a township's own) or `mandated` (pushed by the control room). */
const RecordingInput = z.strictObject({
  ...entryFields,
  kind: z.literal('recording'),
  class: z.enum(['operator', 'mandated']).default('operator'),
});

/** A conference: shown on the station's output; recorded too when `record`. */
const ConferenceInput = z.strictObject({
  ...entryFields,
  kind: z.literal('conference'),
  /** Record as well as show (default false). */
  record: z.boolean().default(false),
  /** Tune this long before the start (default: the profile's conference pre-roll, 5 min). */
  preRollMs: pad.optional(),
});

/** A new entry. */
export const EntryInput = z.discriminatedUnion('kind', [RecordingInput, ConferenceInput]);
export type EntryInput = z.input<typeof EntryInput>;
export type ParsedEntryInput = z.output<typeof EntryInput>;

/**
 * An edit: any field but `id` and `kind`; `expectedRev` makes it conditional on the revision the editor saw
 * (optimistic concurrency: two operators editing at once do not overwrite each other silently).
 */
export const EntryPatch = z.strictObject({
  expectedRev: z.number().int().min(1).optional(),
  title: entryFields.title.optional(),
  service: ServiceKey.optional(),
  class: z.enum(['operator', 'mandated']).optional(),
  priority: z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY).optional(),
  padBeforeMs: pad.optional(),
  padAfterMs: pad.optional(),
  preRollMs: pad.optional(),
  record: z.boolean().optional(),
  /** `null` removes the pin. */
  receiverId: Id.nullable().optional(),
  /** `null` removes the limit. */
  keep: z.number().int().min(1).max(1000).nullable().optional(),
  when: WhenInput.optional(),
  target: Target.optional(),
});
export type EntryPatch = z.input<typeof EntryPatch>;

/** The stored specification (`entries.spec_json`); identity, revision and audit fields are columns. */
export const EntrySpec = z.strictObject({
  kind: z.enum(['recording', 'conference']),
  class: z.enum(['conference', 'mandated', 'operator']),
  title: z.string(),
  service: z.string(),
  priority: z.number().int(),
  padBeforeMs: z.number().int(),
  padAfterMs: z.number().int(),
  preRollMs: z.number().int(),
  record: z.boolean(),
  receiverId: z.string().optional(),
  keep: z.number().int().optional(),
  when: StoredWhen,
});
export type EntrySpec = z.infer<typeof EntrySpec>;

/** `z.ZodError` → field issues. */
export function fieldIssues(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(entry)', message: i.message }));
}
