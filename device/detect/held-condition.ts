/**
 * Hold and hysteresis for a station-raised condition (issue 8: "each with severity, hold time and
 * hysteresis so nothing flaps"): raised once it has held for `raiseHoldMs`, cleared once it has been absent
 * for `clearHoldMs` (both from the timing profile: `alarmRaiseHoldMs`, `alarmClearHoldMs`). Pure: the
 * caller passes the time of each observation.
 */

/** What one observation changed. */
export type HeldTransition = 'raise' | 'clear' | null;

export class HeldCondition {
  private presentSince: number | null = null;
  private absentSince: number | null = null;
  private on = false;

  constructor(
    private readonly raiseHoldMs: number,
    private readonly clearHoldMs: number,
  ) {}

  /** True while raised. */
  get raised(): boolean {
    return this.on;
  }

  /** Since when the condition has held without a break (null while absent). */
  get since(): number | null {
    return this.presentSince;
  }

  /**
   * One observation at `now`. `heldSince` lets an observation that covers a span (a decoded window that
   * was black throughout) count from the start of that span; it never moves an earlier start later.
   */
  observe(present: boolean, now: number, heldSince: number = now): HeldTransition {
    if (present) {
      this.absentSince = null;
      if (this.presentSince === null || heldSince < this.presentSince) {
        this.presentSince = Math.min(heldSince, now);
      }
      if (!this.on && now - this.presentSince >= this.raiseHoldMs) {
        this.on = true;
        return 'raise';
      }
      return null;
    }
    this.presentSince = null;
    if (!this.on) return null;
    this.absentSince ??= now;
    if (now - this.absentSince >= this.clearHoldMs) {
      this.on = false;
      this.absentSince = null;
      return 'clear';
    }
    return null;
  }

  /** Forget everything (the receiver went idle): returns 'clear' when it was raised. */
  reset(): HeldTransition {
    const was = this.on;
    this.on = false;
    this.presentSince = null;
    this.absentSince = null;
    return was ? 'clear' : null;
  }
}
