/**
 * A fake `Clock` (device/link/clock.ts) for pure time logic: wall and monotonic time advance together unless
 * a test steps the wall clock; timers fire in order when time is advanced.
 */
import type { Clock } from '../../device/link/clock.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private wall: number;
  private mono = 1_000;
  private timers: Timer[] = [];
  private nextId = 1;

  constructor(startIso = '2026-03-01T00:00:00.000Z') {
    this.wall = Date.parse(startIso);
  }

  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  schedule(ms: number, fn: () => void): () => void {
    const t = { id: this.nextId++, at: this.mono + Math.max(0, ms), fn };
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x.id !== t.id);
    };
  }

  /** Advances both clocks by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.wall += next.at - this.mono;
      this.mono = next.at;
      next.fn();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }

  /** Steps the wall clock only (an admin or chrony setting the time). */
  stepWall(ms: number): void {
    this.wall += ms;
  }
}
