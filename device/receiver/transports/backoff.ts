import { exponentialBackoffMs } from '../../../protocol/backoff.js';

/**
 * Reopen backoff for transports: exponential from `minMs`, doubling up to `maxMs`, reset after a successful
 * open. USB-serial adapters renumber and device servers reboot (DOMAIN.md §6): retry forever, but slowly.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** Delay before the next attempt, then advance. */
  next(): number {
    const delay = exponentialBackoffMs(this.attempt, this.minMs, this.maxMs);
    this.attempt += 1;
    return delay;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
