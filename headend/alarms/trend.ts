/**
 * Margin trend detector (DOMAIN.md §6 "Dish misaligned (wind, snow load): slow margin decline at one station
 * while peers are stable — trend alarm; compare with the fleet"). Each receiver's margin is averaged into
 * buckets (1/72 of the trend window: hourly for the default 3 days); when a bucket closes, a least-squares
 * line through the bucket means gives the change over the span covered. A station whose margin fell by at
 * least `dropDb` while the median change of the other stations on the same carrier stayed within
 * ±`peerStableDb` has a local problem (dish, feed, snow on this dish) — a fleet-wide decline would be weather
 * or the uplink. Samples inside sun-outage windows are left out by the engine. Pure: times are passed in.
 */

/** Fitted change of one series. */
export interface TrendFit {
  /** Change of the fitted line over the span, dB (negative = falling). */
  changeDb: number;
  /** Fitted margin at the first and last bucket, dB. */
  fromDb: number;
  toDb: number;
  /** Time between the first and last bucket centres. */
  spanMs: number;
  buckets: number;
}

interface Series {
  carrier: string;
  station: string;
  buckets: Map<number, { sum: number; count: number }>;
  lastIndex: number;
  fit: TrendFit | null;
}

/** Buckets per trend window. */
export const TREND_BUCKETS = 72;
/** A fit needs buckets covering at least this share of the window. */
const MIN_SPAN_SHARE = 0.5;
const MIN_BUCKETS = 12;

/** Least squares over (x, y) points; `null` with fewer than 2 distinct x. */
function fitLine(points: readonly { x: number; y: number }[]): { slope: number; intercept: number } | null {
  const n = points.length;
  if (n < 2) return null;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Margin series of every receiver, keyed `station|receiver`. */
export class MarginTrends {
  private readonly series = new Map<string, Series>();
  private readonly peerCache = new Map<
    string,
    { index: number; values: Map<string, number>; sorted: number[] }
  >();
  private readonly seeded = new Set<string>();
  readonly bucketMs: number;

  constructor(readonly windowMs: number) {
    this.bucketMs = Math.max(1, Math.floor(windowMs / TREND_BUCKETS));
  }

  /**
   * Adds one sample. Returns true when it opened a new bucket (the previous one closed and the series was
   * refitted), which is when the engine re-evaluates the trend alarm.
   */
  add(station: string, receiver: string, carrier: string, marginDb: number, at: number): boolean {
    const key = `${station}|${receiver}`;
    let s = this.series.get(key);
    if (!s || s.carrier !== carrier) {
      // Retuned to another carrier: its margins are not comparable (different required C/N).
      s = { carrier, station, buckets: new Map(), lastIndex: Number.NEGATIVE_INFINITY, fit: null };
      this.series.set(key, s);
    }
    const index = Math.floor(at / this.bucketMs);
    if (index < s.lastIndex) return false; // late sample for a closed bucket: ignored
    const b = s.buckets.get(index) ?? { sum: 0, count: 0 };
    b.sum += marginDb;
    b.count += 1;
    s.buckets.set(index, b);
    if (index === s.lastIndex) return false;
    const opened = s.lastIndex !== Number.NEGATIVE_INFINITY;
    s.lastIndex = index;
    for (const i of s.buckets.keys()) if (i < index - TREND_BUCKETS) s.buckets.delete(i);
    s.fit = this.fitClosed(s, index);
    return opened;
  }

  /** Fit over the closed buckets (all but the open one at `openIndex`). */
  private fitClosed(s: Series, openIndex: number): TrendFit | null {
    const pts: { x: number; y: number }[] = [];
    for (const [i, b] of s.buckets) {
      if (i < openIndex && b.count > 0) pts.push({ x: (i + 0.5) * this.bucketMs, y: b.sum / b.count });
    }
    if (pts.length < MIN_BUCKETS) return null;
    pts.sort((a, b) => a.x - b.x);
    const first = (pts[0] as { x: number }).x;
    const last = (pts.at(-1) as { x: number }).x;
    if (last - first < this.windowMs * MIN_SPAN_SHARE) return null;
    const line = fitLine(pts);
    if (!line) return null;
    const fromDb = line.intercept + line.slope * first;
    const toDb = line.intercept + line.slope * last;
    return { changeDb: toDb - fromDb, fromDb, toDb, spanMs: last - first, buckets: pts.length };
  }

  /**
   * True the first time it is asked about a receiver without a series (then never again until `forget`):
   * the engine rebuilds that series from stored history once, not on every message.
   */
  needsSeed(station: string, receiver: string): boolean {
    const key = `${station}|${receiver}`;
    if (this.series.has(key) || this.seeded.has(key)) return false;
    this.seeded.add(key);
    return true;
  }

  /** The latest fit of a receiver, if it has enough data. */
  fitOf(station: string, receiver: string): TrendFit | null {
    return this.series.get(`${station}|${receiver}`)?.fit ?? null;
  }

  /** Carrier of a receiver's series. */
  carrierOf(station: string, receiver: string): string | undefined {
    return this.series.get(`${station}|${receiver}`)?.carrier;
  }

  /**
   * The other stations on `carrier`: how many have a fit and the median of their changes (one value per
   * station: the mean of its receivers' fits), excluding `station`. The carrier's sorted list is built once
   * per bucket, so a round of 10 000 stations costs O(n log n), not O(n²).
   */
  peers(carrier: string, station: string, at: number): { count: number; medianDb: number } {
    const index = Math.floor(at / this.bucketMs);
    let c = this.peerCache.get(carrier);
    if (!c || c.index !== index) {
      const byStation = new Map<string, number[]>();
      for (const s of this.series.values()) {
        if (s.carrier !== carrier || !s.fit) continue;
        const list = byStation.get(s.station) ?? [];
        list.push(s.fit.changeDb);
        byStation.set(s.station, list);
      }
      const values = new Map([...byStation].map(([k, l]) => [k, l.reduce((x, y) => x + y, 0) / l.length]));
      c = { index, values, sorted: [...values.values()].sort((x, y) => x - y) };
      this.peerCache.set(carrier, c);
    }
    const own = c.values.get(station);
    return own === undefined
      ? { count: c.sorted.length, medianDb: median(c.sorted) }
      : { count: c.sorted.length - 1, medianDb: medianWithout(c.sorted, own) };
  }

  /** Drops every series of a station (deregistered). */
  forget(station: string): void {
    for (const [k, s] of this.series) if (s.station === station) this.series.delete(k);
    for (const k of this.seeded) if (k.startsWith(`${station}|`)) this.seeded.delete(k);
    this.peerCache.clear();
  }
}

/** Median of a list (NaN when empty). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median of a sorted list with one occurrence of `value` left out (NaN when nothing remains). */
export function medianWithout(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  const at = (i: number) => sorted[i < lo ? i : i + 1] as number;
  const m = sorted.length - 1;
  if (m <= 0) return Number.NaN;
  return m % 2 ? at((m - 1) / 2) : (at(m / 2 - 1) + at(m / 2)) / 2;
}

/** Thresholds of the trend verdict. */
export interface TrendPolicy {
  dropDb: number;
  peerStableDb: number;
  minPeers: number;
}

/** Whether a station's fit is a local decline, with hysteresis (`active`: the alarm is already on). */
export function trendVerdict(
  fit: TrendFit | null,
  peers: { count: number; medianDb: number },
  active: boolean,
  p: TrendPolicy,
): { on: boolean; peerMedianDb: number } {
  const peerMedianDb = peers.medianDb;
  if (!fit || peers.count < p.minPeers) return { on: false, peerMedianDb };
  // Clearing needs the decline to shrink to half the threshold (or the peers to move too): no flapping.
  const k = active ? 0.5 : 1;
  const stableLimit = active ? p.peerStableDb * 1.5 : p.peerStableDb;
  const on =
    fit.changeDb <= -p.dropDb * k &&
    fit.changeDb - peerMedianDb <= -p.dropDb * k &&
    Math.abs(peerMedianDb) <= stableLimit;
  return { on, peerMedianDb };
}
