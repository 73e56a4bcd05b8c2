/**
 * Retry backoff arithmetic, shared by the station agent and the headend (pure: the random draw is passed
 * in). Exponential from a minimum, doubling per attempt up to a maximum: a broker or a device server that
 * is down is retried forever, but slowly (DOMAIN.md §6 "Flaky uplink", "USB-serial renumbered").
 */
import type { TimingProfile } from './timing.js';

/** Doublings past this add nothing (2³⁰ × any sane minimum is far beyond any maximum) and keep it finite. */
const MAX_DOUBLINGS = 30;

/** The delay before attempt `attempt` (0-based): `minMs`·2^attempt, capped at `maxMs`. */
export function exponentialBackoffMs(attempt: number, minMs: number, maxMs: number): number {
  const n = Math.min(Math.max(0, Math.floor(attempt)), MAX_DOUBLINGS);
  return Math.min(maxMs, minMs * 2 ** n);
}

/** The timing profile fields an MQTT client's reconnect uses. */
export type ReconnectTiming = Pick<TimingProfile, 'reconnectMinMs' | 'reconnectMaxMs' | 'reconnectJitter'>;

/**
 * The delay before MQTT reconnect attempt `attempt` (0-based): the exponential backoff minus up to
 * `reconnectJitter` of it, by `random` in [0, 1), so a fleet that lost the broker together does not come
 * back in one burst.
 */
export function reconnectBackoffMs(attempt: number, timing: ReconnectTiming, random: number): number {
  const base = exponentialBackoffMs(attempt, timing.reconnectMinMs, timing.reconnectMaxMs);
  return Math.round(base * (1 - timing.reconnectJitter * random));
}
