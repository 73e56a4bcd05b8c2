/**
 * What the control room gives when it pushes a video conference (issue 7; DESIGN.md §1): title, organiser,
 * the line-up service that carries it, start, end, targets (all stations, one or more counties, or a list),
 * record at the stations or only show, notes. One zod schema per request is the single source for the HTTP
 * API, its OpenAPI document and the service's own validation. Times from forms may carry an offset; they
 * are normalised to UTC `Z` before anything enters the protocol (DESIGN.md §4).
 */
import { z } from 'zod';
import { Id, ServiceKey, StationId } from '../../protocol/messages/common.js';
import { MAX_OCCURRENCE_MS, MAX_PAD_MS } from '../../protocol/messages/schedule.js';
import { InstantInput, MAX_TARGET_STATIONS } from '../scheduling/entry-schema.js';

/** Longest extension in one step (a conference lasts at most 24 h anyway, DESIGN.md §5 limits). */
export const MAX_EXTEND_MIN = 600;

/** Who receives the conference: every station, whole counties (DOMAIN.md §1), or a list of stations. */
export const ConferenceTarget = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('all') }),
  z.strictObject({
    type: z.literal('counties'),
    counties: z
      .array(z.string().min(1).max(63))
      .min(1)
      .max(64)
      .refine((c) => new Set(c).size === c.length, 'counties must not repeat'),
  }),
  z.strictObject({
    type: z.literal('stations'),
    stationIds: z
      .array(StationId)
      .min(1)
      .max(MAX_TARGET_STATIONS)
      .refine((ids) => new Set(ids).size === ids.length, 'station ids must not repeat'),
  }),
]);
export type ConferenceTarget = z.infer<typeof ConferenceTarget>;

const title = z.string().trim().min(1, 'a title is required').max(200);
const organiser = z.string().trim().min(1, 'an organiser is required').max(120);
const notes = z.string().max(2000);
const preRoll = z.number().int().min(0).max(MAX_PAD_MS);

function checkSpan(v: { start?: string | undefined; end?: string | undefined }, ctx: z.RefinementCtx): void {
  if (v.start === undefined || v.end === undefined) return;
  const span = Date.parse(v.end) - Date.parse(v.start);
  if (!(span > 0)) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
  else if (span > MAX_OCCURRENCE_MS)
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'a conference may last at most 24 h' });
}

/** A new conference. */
export const ConferenceInput = z
  .strictObject({
    /** Optional caller-chosen id (else `conf-<random>`); it is also the schedule entry's id. */
    id: Id.optional(),
    title,
    organiser,
    /** The line-up service that carries the conference (DOMAIN.md §1: conferences come over the satellite). */
    service: ServiceKey,
    start: InstantInput,
    end: InstantInput,
    target: ConferenceTarget,
    /** Record at the stations as well as show it (default: show only). */
    record: z.boolean().default(false),
    notes: notes.default(''),
    /** Tune this long before the start; default the timing profile's `conferencePreRollMs` (5 min). */
    preRollMs: preRoll.optional(),
  })
  .superRefine(checkSpan);
export type ConferenceInput = z.input<typeof ConferenceInput>;
export type ParsedConferenceInput = z.output<typeof ConferenceInput>;

/**
 * An edit. Before the conference starts anything may change; once it runs only what does not disturb the
 * stations' running occurrence: title, organiser, notes, targets and the end (extend / end early have their
 * own actions). `expectedRev` guards against two control-room users overwriting each other.
 */
export const ConferencePatch = z
  .strictObject({
    expectedRev: z.number().int().min(1).optional(),
    title: title.optional(),
    organiser: organiser.optional(),
    notes: notes.optional(),
    service: ServiceKey.optional(),
    start: InstantInput.optional(),
    end: InstantInput.optional(),
    target: ConferenceTarget.optional(),
    record: z.boolean().optional(),
    preRollMs: preRoll.optional(),
  })
  .superRefine(checkSpan);
export type ConferencePatch = z.input<typeof ConferencePatch>;

/** Extend by some minutes, or to a new end. */
export const ExtendInput = z.union([
  z.strictObject({ minutes: z.number().int().min(1).max(MAX_EXTEND_MIN) }),
  z.strictObject({ end: InstantInput }),
]);
export type ExtendInput = z.input<typeof ExtendInput>;

/** Where a conference is in its life (derived from the clock; `cancelled` is stored). */
export const CONFERENCE_PHASES = ['scheduled', 'pre-roll', 'live', 'ended', 'cancelled'] as const;
export type ConferencePhase = (typeof CONFERENCE_PHASES)[number];

/** A predicted sun outage at a target station during the conference (DOMAIN.md §2, §6). */
export const SunWarning = z.strictObject({
  stationId: z.string(),
  /** Window start and end, UTC. */
  start: z.string(),
  end: z.string(),
  /** Closest approach of the sun to the satellite. */
  peak: z.string(),
});
export type SunWarning = z.infer<typeof SunWarning>;

/** A conference as the API shows it. */
export const ConferenceView = z.strictObject({
  id: z.string(),
  /** Revision of the schedule entry that carries it (bumped by every change). */
  rev: z.number().int(),
  title: z.string(),
  organiser: z.string(),
  notes: z.string(),
  service: z.string(),
  /** The service's name in the line-up (null when it was removed from the line-up since). */
  serviceName: z.string().nullable(),
  start: z.string(),
  end: z.string(),
  preRollMs: z.number().int(),
  record: z.boolean(),
  target: ConferenceTarget,
  /** Target stations (operators: only their own). */
  stations: z.array(z.string()),
  phase: z.enum(CONFERENCE_PHASES),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  cancelledAt: z.string().nullable(),
  cancelledBy: z.string().nullable(),
  startedNowAt: z.string().nullable(),
  endedEarlyAt: z.string().nullable(),
  /** Sun-outage windows overlapping the conference at target stations (operators: only their own). */
  warnings: z.array(SunWarning),
});
export type ConferenceView = z.infer<typeof ConferenceView>;
