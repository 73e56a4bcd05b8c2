/**
 * Time as a dependency (DESIGN.md §2: clocks are passed in, so every part runs under a fake clock in tests).
 * The receiver layer only needs "now", one-shot timers and a sleep; `realTimers` is the production binding.
 */

/** Cancels a scheduled callback; calling it twice is harmless. */
export type Cancel = () => void;

export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once after `ms`; returns its cancel function. */
  schedule(ms: number, fn: () => void): Cancel;
}

/** Node's timers and wall clock. Timers are unref'd so a pending retry never keeps a CLI process alive. */
export const realTimers: Timers = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
};

/** Promise that resolves after `ms` on the given timers. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.schedule(ms, resolve);
  });
}
