/**
 * The hold state machine of one alarm key (station × kind × subject). Several sources may assert the same
 * condition — the headend's own rule on telemetry and the station's `alarm.raised` event — and the alarm
 * follows the strongest of them. Each source reports a level (0 = condition absent, 1–3 = info, warning,
 * critical) and carries its own holds:
 * - raising to level L (or escalating to it) needs some source at ≥ L continuously for its raise hold;
 * - lowering from L (de-escalating or clearing) needs every source below L continuously for its clear hold.
 * So a dip shorter than the raise hold never raises, and a recovery shorter than the clear hold never
 * clears: nothing flaps (DOMAIN.md §2). Hysteresis on the measured value is the rule's job (it decides the
 * level); this file only deals with time. Pure: no clock, times are passed in.
 */
import type { Cause, Evidence } from './types.js';

const LEVELS = [1, 2, 3] as const;

/**
 * The source name of an alarm re-adopted after a headend restart (engine `restore`): it keeps the alarm at
 * its saved level, with no holds, until any real source reports on the same key again — from then on the
 * ordinary holds decide (a good reading clears only after the clear hold). Without it a restart would
 * clear every restored alarm at the station's reconnect and raise the still-true ones again under new ids.
 */
export const RESTORED_SOURCE = 'restored';

/** What a source says now. */
export interface SourceReport {
  /** 0 = condition absent; 1 info, 2 warning, 3 critical. */
  level: number;
  cause: Cause;
  evidence: Evidence;
  /** Carrier the condition is about, when it is a signal condition. */
  carrier?: string | null;
  raiseHoldMs: number;
  clearHoldMs: number;
}

/** One source's state. `aboveSince[i]`: since when its level has been ≥ i+1 (null when below). */
export interface SourceState extends SourceReport {
  aboveSince: [number | null, number | null, number | null];
  belowSince: [number | null, number | null, number | null];
  updatedAt: number;
}

/** The holds of one alarm key. */
export class HoldTracker {
  readonly sources = new Map<string, SourceState>();
  /** Time before which holds do not count (end of a suppression such as a sun-outage window). */
  holdFrom = Number.NEGATIVE_INFINITY;

  /** Records what `name` says at `at`. Times never go backwards per source. */
  report(name: string, r: SourceReport, at: number): void {
    if (name !== RESTORED_SOURCE) this.sources.delete(RESTORED_SOURCE);
    const prev = this.sources.get(name);
    const t = prev ? Math.max(at, prev.updatedAt) : at;
    const s: SourceState = prev ?? {
      ...r,
      level: 0,
      aboveSince: [null, null, null],
      belowSince: [t, t, t],
      updatedAt: t,
    };
    for (const L of LEVELS) {
      const i = L - 1;
      if (r.level >= L) {
        if (s.aboveSince[i] === null) s.aboveSince[i] = t;
        s.belowSince[i] = null;
      } else {
        if (s.belowSince[i] === null) s.belowSince[i] = t;
        s.aboveSince[i] = null;
      }
    }
    Object.assign(s, r, { aboveSince: s.aboveSince, belowSince: s.belowSince, updatedAt: t });
    this.sources.set(name, s);
  }

  /** Highest level any source currently asserts (before holds). */
  rawLevel(): number {
    let m = 0;
    for (const s of this.sources.values()) m = Math.max(m, s.level);
    return m;
  }

  /** Earliest instant the current raw level (or `level`) has been asserted continuously by one source. */
  onsetOf(level: number): number | null {
    if (level < 1) return null;
    let best: number | null = null;
    for (const s of this.sources.values()) {
      const a = s.aboveSince[Math.min(level, 3) - 1];
      if (a != null && (best === null || a < best)) best = a;
    }
    return best;
  }

  /** The source with the highest level (ties: the most recent), for cause and evidence. */
  strongest(): SourceState | undefined {
    let best: SourceState | undefined;
    for (const s of this.sources.values()) {
      if (!best || s.level > best.level || (s.level === best.level && s.updatedAt >= best.updatedAt))
        best = s;
    }
    return best;
  }

  /**
   * The level the holds allow at `now`, given the alarm's current level `current` (0 = not raised).
   */
  heldLevel(current: number, now: number): number {
    for (let L = 3; L > current; L--) {
      for (const s of this.sources.values()) {
        const since = s.aboveSince[L - 1];
        if (since != null && now - Math.max(since, this.holdFrom) >= s.raiseHoldMs) return L;
      }
    }
    for (let L = current; L >= 1; L--) {
      if (this.supports(L, now)) return L;
    }
    return 0;
  }

  /** True while some source is at ≥ L, or dropped below L less than its clear hold ago. */
  private supports(L: number, now: number): boolean {
    for (const s of this.sources.values()) {
      if (s.level >= L) return true;
      const below = s.belowSince[L - 1];
      if (below != null && now - below < s.clearHoldMs) return true;
    }
    return false;
  }

  /** True when nothing can change without a new report (every source settled at `current`). */
  settled(current: number, now: number): boolean {
    if (this.rawLevel() !== current) return false;
    for (const s of this.sources.values()) {
      for (const L of LEVELS) {
        const below = s.belowSince[L - 1];
        if (L <= current && below != null && now - below < s.clearHoldMs) return false;
      }
    }
    return true;
  }

  /** Forgets sources at level 0 whose clear hold has run out (they can no longer hold anything up). */
  prune(now: number): void {
    for (const [name, s] of this.sources) {
      if (s.level === 0 && now - s.updatedAt >= s.clearHoldMs) this.sources.delete(name);
    }
  }
}
