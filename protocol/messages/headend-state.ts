/**
 * Headend presence (`ruralsat/v1/headend/state`, retained, also the headend's Will, DESIGN.md §4).
 * Stations use it to tell "headend away" from "my uplink is down" and keep executing either way.
 */
import { z } from 'zod';
import { UtcTimestamp } from './common.js';

export const HeadendState = z.strictObject({
  online: z.boolean(),
  /** When this state was set (for the Will: when the headend connected and registered it). */
  at: UtcTimestamp,
  /** The headend's current schedule epoch (a restore starts a new one, DESIGN.md §7). */
  epoch: z.number().int().nonnegative().optional(),
  /** Headend software version. */
  version: z.string().min(1).max(64),
});
export type HeadendState = z.infer<typeof HeadendState>;
