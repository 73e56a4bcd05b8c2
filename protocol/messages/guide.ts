/**
 * One guide day (`ruralsat/v1/guide/{service}/{date}`, retained, DESIGN.md §4): the programmes of one
 * service whose start falls on one local calendar day in `timeZone`. Stations keep N days for local
 * display and the on-site tools; planning never needs the guide (guide-linked entries are resolved at
 * the headend, DESIGN.md §5). Field meanings follow XMLTV (DOMAIN.md §5).
 */
import { z } from 'zod';
import { ServiceKey, TimeZone, UtcTimestamp } from './common.js';
import { LocalDate } from './schedule.js';

/** Most programmes one guide day may carry (a 5-minute grid is 288). */
export const MAX_PROGRAMMES_PER_DAY = 400;

/** Episode numbering, 1-based as shown to people (XMLTV `xmltv_ns` is 0-based: add 1 on import). */
export const Episode = z
  .strictObject({
    season: z.number().int().positive().optional(),
    episode: z.number().int().positive().optional(),
    part: z.number().int().positive().optional(),
    /** The feed's own text (XMLTV `onscreen`, e.g. `第12集`), kept for display. */
    onScreen: z.string().min(1).max(64).optional(),
  })
  .refine((e) => Object.keys(e).length > 0, 'episode needs at least one field');
export type Episode = z.infer<typeof Episode>;

export const Programme = z
  .strictObject({
    /** Stable id: the XMLTV/DVB event id when the feed has one, else a hash of channel, start and title. */
    programmeId: z.string().min(1).max(128),
    start: UtcTimestamp,
    stop: UtcTimestamp,
    title: z.string().min(1).max(500),
    subTitle: z.string().min(1).max(500).optional(),
    episode: Episode.optional(),
    desc: z.string().max(4000).optional(),
    category: z.array(z.string().min(1).max(100)).max(10).optional(),
  })
  .refine((p) => Date.parse(p.stop) > Date.parse(p.start), {
    path: ['stop'],
    message: 'stop must be after start',
  });
export type Programme = z.infer<typeof Programme>;

function localDateOf(instant: string, fmt: Intl.DateTimeFormat): string {
  const parts = fmt.formatToParts(new Date(instant));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export const GuideDay = z
  .strictObject({
    service: ServiceKey,
    /** The local day (in `timeZone`) every programme here starts on. */
    date: LocalDate,
    timeZone: TimeZone,
    /** When the headend built this day (from the last guide import). */
    issuedAt: UtcTimestamp,
    /** Sorted by start; ids unique. */
    programmes: z.array(Programme).max(MAX_PROGRAMMES_PER_DAY),
  })
  .superRefine((day, ctx) => {
    let fmt: Intl.DateTimeFormat;
    try {
      fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: day.timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
    } catch {
      return; // TimeZone already reported the problem.
    }
    const ids = new Set<string>();
    let previousStart = Number.NEGATIVE_INFINITY;
    day.programmes.forEach((p, i) => {
      if (ids.has(p.programmeId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['programmes', i, 'programmeId'],
          message: 'duplicate programmeId',
        });
      }
      ids.add(p.programmeId);
      const start = Date.parse(p.start);
      if (start < previousStart) {
        ctx.addIssue({
          code: 'custom',
          path: ['programmes', i, 'start'],
          message: 'programmes not sorted by start',
        });
      }
      previousStart = start;
      const local = localDateOf(p.start, fmt);
      if (local !== day.date) {
        ctx.addIssue({
          code: 'custom',
          path: ['programmes', i, 'start'],
          message: `starts on ${local} in ${day.timeZone}, not on ${day.date}`,
        });
      }
    });
  });
export type GuideDay = z.infer<typeof GuideDay>;
