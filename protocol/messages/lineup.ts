/**
 * The line-up (`ruralsat/v1/lineup`, retained, DESIGN.md §4): every service stations can receive, with
 * its transponder and DVB service id. Sample data only — DOMAIN.md §2: current transponder parameters are
 * not verified, the user edits them.
 */
import { z } from 'zod';
import { UtcTimestamp } from './common.js';
import { ServiceTuning, transponderKey } from './tuning.js';

/** Most services a line-up may carry (the Pingliang platform relays 49, DOMAIN.md §1). */
export const MAX_LINEUP_SERVICES = 1000;

export const Lineup = z
  .strictObject({
    /** Grows with every change the headend publishes; a station keeps the highest it has seen. */
    version: z.number().int().nonnegative(),
    /** When the headend issued this version. */
    issuedAt: UtcTimestamp,
    services: z.array(ServiceTuning).max(MAX_LINEUP_SERVICES),
    /** Optional display labels of carriers, keyed by `transponderKey()` (e.g. `3840H27500`). */
    transponderLabels: z.record(z.string(), z.string().min(1).max(120)).optional(),
  })
  .superRefine((lineup, ctx) => {
    const keys = new Set<string>();
    const sids = new Map<string, string>();
    const carriers = new Set<string>();
    lineup.services.forEach((s, i) => {
      if (keys.has(s.key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'key'],
          message: `duplicate service key ${s.key}`,
        });
      }
      keys.add(s.key);
      const carrier = transponderKey(s.transponder);
      carriers.add(carrier);
      // Two services on one carrier with one programme number could not be told apart (DOMAIN.md §4).
      const other = sids.get(`${carrier}/${s.serviceId}`);
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'serviceId'],
          message: `service id ${s.serviceId} on ${carrier} is already used by ${other}`,
        });
      }
      sids.set(`${carrier}/${s.serviceId}`, s.key);
    });
    for (const key of Object.keys(lineup.transponderLabels ?? {})) {
      if (!carriers.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['transponderLabels', key],
          message: `label for ${key}, which no service uses`,
        });
      }
    }
  });
export type Lineup = z.infer<typeof Lineup>;
