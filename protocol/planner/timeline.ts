/**
 * One receiver's timeline: disjoint, sorted segments `[s, e)`, each tuned to one sharing key and held by
 * the occurrence that first claimed it (DESIGN.md §5: a receiver serves one sharing key at a time; later
 * occurrences with the same key share it, others lose that time). The holder is what a reason names.
 */
import type { Occurrence } from './expand.js';

interface Segment {
  s: number;
  e: number;
  key: number;
  holder: Occurrence;
}

/** Piece kinds produced by `scan`. */
export const FREE = 0;
export const SHARED = 1;
export const LOST = 2;

/**
 * The pieces of a scanned range, in time order: free, shared with `holder[i]` (same key), or lost to
 * `holder[i]`. A reusable buffer (parallel arrays, `n` used), so scanning allocates nothing per call.
 */
export class Pieces {
  n = 0;
  readonly s: number[] = [];
  readonly e: number[] = [];
  readonly kind: number[] = [];
  readonly holder: (Occurrence | null)[] = [];

  push(s: number, e: number, kind: number, holder: Occurrence | null): void {
    const i = this.n++;
    this.s[i] = s;
    this.e[i] = e;
    this.kind[i] = kind;
    this.holder[i] = holder;
  }
}

export class Timeline {
  private readonly segs: Segment[] = [];

  /** Index of the first segment ending after `t`. */
  private firstEndingAfter(t: number): number {
    let lo = 0;
    let hi = this.segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segs[mid]!.e <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Time in `[a, b)` held with another key (lost) and with `key` (shared); written into `out`. */
  measure(a: number, b: number, key: number, out: { lost: number; shared: number }): void {
    out.lost = 0;
    out.shared = 0;
    if (a >= b) return;
    const segs = this.segs;
    for (let i = this.firstEndingAfter(a); i < segs.length; i++) {
      const g = segs[i]!;
      if (g.s >= b) break;
      const len = Math.min(g.e, b) - Math.max(g.s, a);
      if (g.key === key) out.shared += len;
      else out.lost += len;
    }
  }

  /** Splits `[a, b)` into free / shared / lost pieces, in time order, into `out` (cleared first). */
  scan(a: number, b: number, key: number, out: Pieces): void {
    out.n = 0;
    if (a >= b) return;
    const segs = this.segs;
    let t = a;
    for (let i = this.firstEndingAfter(a); i < segs.length && t < b; i++) {
      const g = segs[i]!;
      if (g.s >= b) break;
      if (g.s > t) out.push(t, g.s, FREE, null);
      const e = Math.min(g.e, b);
      out.push(Math.max(g.s, t), e, g.key === key ? SHARED : LOST, g.holder);
      t = e;
    }
    if (t < b) out.push(t, b, FREE, null);
  }

  /** Takes a free interval (one produced by `scan` since the last change) for `holder`. */
  claim(s: number, e: number, key: number, holder: Occurrence): void {
    const i = this.firstEndingAfter(s);
    this.segs.splice(i, 0, { s, e, key, holder });
  }
}

interface Reservation {
  s: number;
  e: number;
  key: number;
}

/**
 * Padding that allocated occurrences will ask for once every nominal interval is placed. Receiver choice
 * avoids it when another receiver is free, so soft padding is cut only when nothing else fits.
 */
export class Reservations {
  private readonly items: Reservation[] = [];
  private maxLen = 0;

  add(s: number, e: number, key: number): void {
    if (s >= e) return;
    const items = this.items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (items[mid]!.s <= s) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, { s, e, key });
    if (e - s > this.maxLen) this.maxLen = e - s;
  }

  /** Time in `[a, b)` reserved with another key (overlapping reservations count once each). */
  conflict(a: number, b: number, key: number): number {
    const items = this.items;
    if (items.length === 0 || a >= b) return 0;
    const floor = a - this.maxLen;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (items[mid]!.s < floor) lo = mid + 1;
      else hi = mid;
    }
    let total = 0;
    for (let i = lo; i < items.length; i++) {
      const r = items[i]!;
      if (r.s >= b) break;
      if (r.key === key || r.e <= a) continue;
      total += Math.min(r.e, b) - Math.max(r.s, a);
    }
    return total;
  }
}
