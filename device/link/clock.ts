/**
 * The station's clock against the headend's (DESIGN.md §6 "Clock"; DOMAIN.md §6 "Clock drift without NTP").
 *
 * How the exchange runs (the `clock.exchange` RPC, protocol/messages/rpc-methods.ts): the headend initiates,
 * because the station's ACL lets it write only state, events, telemetry and rpc/res (DESIGN.md §4). The
 * headend sends T1 (its clock) in the params; the station stamps T2 when the request arrives and T3 just
 * before it publishes the result `{t1, t2, t3}`; the headend stamps T4 on arrival and computes, with NTP's
 * on-wire arithmetic (RFC 5905 §8):
 *
 *   offset θ = ((T2 − T1) + (T3 − T4)) / 2   — how far the STATION's clock is ahead of the headend's
 *   delay  δ = (T4 − T1) − (T3 − T2)         — round trip minus the station's own processing time
 *
 * and hands `{offsetMs, rttMs}` back in the params of its NEXT `clock.exchange`: that is how the station
 * learns its offset. `ClockSync.compute` is that arithmetic (the test harness plays the headend with it).
 *
 * Minimum-RTT filter (NTP's clock filter, RFC 5905 §10): of the last `FILTER_SIZE` samples the one with the
 * smallest delay is the estimate, because queueing delay is what makes a sample asymmetric and wrong, and
 * the fastest exchange had the least of it. The estimate's uncertainty is δ/2 plus a drift allowance that
 * grows with the sample's age, so a station that lost its uplink stays trusted for about a day and then
 * marks its recordings clock-uncertain.
 */

/**
 * Wall clock and timers, passed in deps so tests can use a fake clock. A superset of the receiver layer's
 * `Timers` (device/receiver/timers.ts), so one clock object serves the whole agent.
 */
export interface Clock {
  /** Local wall-clock time, ms since the epoch (may jump: an admin or chrony can step it). */
  now(): number;
  /** Monotonic ms (never jumps); only differences are meaningful. */
  monotonic(): number;
  /** Runs `fn` once after `ms`; returns its cancel function (calling it twice is harmless). */
  schedule(ms: number, fn: () => void): () => void;
}

/** The real clock. A function, not a module singleton (STYLE.md guideline 5). */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    schedule(ms, fn) {
      const handle = setTimeout(fn, ms);
      return () => clearTimeout(handle);
    },
  };
}

/** The four timestamps of one exchange (ms since the epoch). T1/T4 headend clock, T2/T3 station clock. */
export interface ExchangeTimes {
  t1: number;
  t2: number;
  t3: number;
  t4: number;
}

/** One accepted sample. */
export interface ClockSample {
  offsetMs: number;
  delayMs: number;
  /** Monotonic time the sample was taken at (station side, at T3). */
  takenAtMono: number;
}

/** What the agent reports and the executor consults. */
export interface ClockEstimate {
  /** An offset has been measured since this process started. */
  known: boolean;
  /** Station clock minus headend clock, ms (positive = station ahead). 0 when unknown. */
  offsetMs: number;
  /** Round-trip delay of the chosen sample. */
  rttMs: number | null;
  /** Bound on the error of `offsetMs`: half the RTT plus drift since the sample. Infinity when unknown. */
  uncertaintyMs: number;
  /** Known, small (|offset| ≤ clockMaxOffsetMs) and certain enough (uncertainty ≤ clockMaxOffsetMs). */
  trusted: boolean;
}

/** Samples the minimum-RTT filter keeps (RFC 5905 §10 keeps 8). */
export const FILTER_SIZE = 8;
/** Drift allowance for an undisciplined crystal, parts per million *(est.)*: ~1.7 s a day. */
export const DRIFT_PPM = 20;
/** A local wall-clock step larger than this (vs the monotonic clock) is a clock jump. */
export const JUMP_THRESHOLD_MS = 1000;

/** Why a sample was refused. */
export type SampleRejection = 'NEGATIVE_DELAY' | 'NOT_FINITE';

/** A local clock step, absorbed into the stored samples and reported. */
export interface ClockJump {
  /** How far the local wall clock stepped (positive = forward). */
  stepMs: number;
  /** Local wall time after the step. */
  at: number;
}

/** The offset estimator. One per agent (several agents may run in one process). */
export class ClockSync {
  private samples: ClockSample[] = [];
  /** wall − monotonic at the last check, to notice steps of the wall clock. */
  private wallMinusMono: number;
  private readonly jumpListeners: ((jump: ClockJump) => void)[] = [];

  constructor(
    private readonly clock: Clock,
    /** From the timing profile: beyond this offset (or uncertainty) the clock is untrusted. */
    private readonly maxOffsetMs: number,
  ) {
    this.wallMinusMono = clock.now() - clock.monotonic();
  }

  /** Computes θ and δ of one exchange (RFC 5905 §8). */
  static compute(x: ExchangeTimes): { offsetMs: number; delayMs: number } {
    return { offsetMs: (x.t2 - x.t1 + (x.t3 - x.t4)) / 2, delayMs: x.t4 - x.t1 - (x.t3 - x.t2) };
  }

  /**
   * Adds the sample of a completed exchange. `t2`/`t3` must be the station's own stamps as it recorded
   * them (never taken from the network). A negative delay means someone's clock stepped mid-exchange.
   */
  addSample(x: ExchangeTimes): { ok: true; sample: ClockSample } | { ok: false; reason: SampleRejection } {
    if (![x.t1, x.t2, x.t3, x.t4].every(Number.isFinite)) return { ok: false, reason: 'NOT_FINITE' };
    const { offsetMs, delayMs } = ClockSync.compute(x);
    if (delayMs < 0) return { ok: false, reason: 'NEGATIVE_DELAY' };
    this.detectJump();
    // The sample was taken at T3 on the local clock; place it on the monotonic axis.
    const sample: ClockSample = {
      offsetMs,
      delayMs,
      takenAtMono: this.clock.monotonic() - (this.clock.now() - x.t3),
    };
    this.samples.push(sample);
    if (this.samples.length > FILTER_SIZE) this.samples.shift();
    return { ok: true, sample };
  }

  /**
   * Notices a step of the local wall clock (compared with the monotonic clock) and shifts every stored
   * offset by it: the headend's clock did not move, ours did. Returns the step, or null.
   */
  detectJump(): ClockJump | null {
    const now = this.clock.now();
    const wmm = now - this.clock.monotonic();
    const step = wmm - this.wallMinusMono;
    this.wallMinusMono = wmm;
    if (Math.abs(step) < JUMP_THRESHOLD_MS) return null;
    for (const s of this.samples) s.offsetMs += step;
    const jump = { stepMs: step, at: now };
    for (const fn of this.jumpListeners) fn(jump);
    return jump;
  }

  /** Called with every clock jump noticed (the executor re-plans, the agent reports `clock.jump`). */
  onJump(fn: (jump: ClockJump) => void): void {
    this.jumpListeners.push(fn);
  }

  /**
   * The headend's estimate carried by a `clock.exchange` request (`params.estimate`: offset and RTT of the
   * exchanges it completed). Each estimate enters the station's own minimum-RTT filter as one sample, so a
   * slow, asymmetric exchange never displaces a fast one.
   */
  addEstimate(e: { offsetMs: number; rttMs: number }): ReturnType<ClockSync['addSample']> {
    if (!Number.isFinite(e.offsetMs) || !Number.isFinite(e.rttMs)) return { ok: false, reason: 'NOT_FINITE' };
    if (e.rttMs < 0) return { ok: false, reason: 'NEGATIVE_DELAY' };
    this.detectJump();
    const sample: ClockSample = {
      offsetMs: e.offsetMs,
      delayMs: e.rttMs,
      takenAtMono: this.clock.monotonic(),
    };
    this.samples.push(sample);
    if (this.samples.length > FILTER_SIZE) this.samples.shift();
    return { ok: true, sample };
  }

  /** The minimum-RTT sample and what it says. */
  estimate(): ClockEstimate {
    let best: ClockSample | undefined;
    for (const s of this.samples) if (!best || s.delayMs < best.delayMs) best = s;
    if (!best)
      return {
        known: false,
        offsetMs: 0,
        rttMs: null,
        uncertaintyMs: Number.POSITIVE_INFINITY,
        trusted: false,
      };
    const ageMs = Math.max(0, this.clock.monotonic() - best.takenAtMono);
    const uncertaintyMs = best.delayMs / 2 + (ageMs * DRIFT_PPM) / 1e6;
    const trusted = Math.abs(best.offsetMs) <= this.maxOffsetMs && uncertaintyMs <= this.maxOffsetMs;
    return { known: true, offsetMs: Math.round(best.offsetMs), rttMs: best.delayMs, uncertaintyMs, trusted };
  }

  /**
   * Best knowledge of the headend's time now: the local clock corrected by the measured offset (the agent
   * cannot step the system clock; chrony does that where NTP is reachable). The local clock when unknown.
   */
  headendNow(): number {
    this.detectJump();
    const e = this.estimate();
    return this.clock.now() - (e.known ? e.offsetMs : 0);
  }

  /** Converts a headend-clock instant to the local clock (for timers). */
  toLocal(headendMs: number): number {
    const e = this.estimate();
    return headendMs + (e.known ? e.offsetMs : 0);
  }
}
