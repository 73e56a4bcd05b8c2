/**
 * Allocation: who gets which receiver when (DESIGN.md §5).
 *
 * Occurrences arrive in priority order (class, explicit priority, earlier creation, entry id, then start)
 * and are placed class by class, highest class first, so a lower class never takes anything from a higher
 * one — neither nominal time nor padding: a conference's pre-roll pre-empts an operator recording just as
 * the conference does. Inside one class:
 * - phase 1 places every occurrence's NOMINAL interval: a receiver serves one sharing key at a time, the
 *   same key shares, and whatever an earlier-placed occurrence with another key holds is lost — so the
 *   higher-ranked occurrence pre-empts the overlapping part of a lower one, which keeps the parts that
 *   remain;
 * - phase 2 grows each surviving occurrence into its padding (in priority order), only where the receiver
 *   is free or already tuned to its key, and only contiguously with its nominal interval. Padding is soft:
 *   it never takes nominal time from an occurrence of its own class, and losing it is not a truncation.
 *
 * Receiver choice (unless pinned): least nominal time lost, then least padding conflict (own padding over
 * held time, or landing on padding reserved by its class), then most time shared (keeps other receivers
 * free), then document order. So a free receiver is picked before anything is cut.
 */
import type { Cut, Occurrence } from './expand.js';
import {
  FREE as FREE_KIND,
  LOST as LOST_KIND,
  Pieces,
  Reservations,
  SHARED as SHARED_KIND,
  Timeline,
} from './timeline.js';

// Module-local copies: under the tsx loader (tests, `npm run bench`) each use of an imported binding is a
// getter call, which shows in these hot loops; compiled ESM has no such cost.
const FREE = FREE_KIND;
const SHARED = SHARED_KIND;
const LOST = LOST_KIND;

interface ReceiverState {
  readonly timeline: Timeline;
  /** Padding reserved by the class being placed; replaced for each class. */
  soft: Reservations;
}

function addPart(o: Occurrence, s: number, e: number): void {
  const p = o.parts;
  if (p.length > 0 && p[p.length - 1] === s) p[p.length - 1] = e;
  else p.push(s, e);
}

function addCut(o: Occurrence, s: number, e: number, by: Occurrence, padding: boolean): void {
  if (o.cuts === null) o.cuts = [];
  const last = o.cuts[o.cuts.length - 1];
  if (last !== undefined && last.by === by && last.e === s && last.padding === padding) last.e = e;
  else o.cuts.push({ s, e, by, padding });
}

/** The holder with the most time in `tally` (pairs of holder, ms); the earliest one on a tie. */
function topHolder(tally: (Occurrence | number)[]): Occurrence | null {
  let best: Occurrence | null = null;
  let bestTime = 0;
  for (let i = 0; i < tally.length; i += 2) {
    const h = tally[i] as Occurrence;
    let time = 0;
    for (let j = i; j < tally.length; j += 2) if (tally[j] === h) time += tally[j + 1] as number;
    if (time > bestTime) {
      best = h;
      bestTime = time;
    }
  }
  return best;
}

/** Allocates `order` (priority order, see above) over `receiverCount` receivers, writing into each occurrence. */
export function allocate(order: readonly Occurrence[], receiverCount: number): void {
  const states: ReceiverState[] = [];
  for (let r = 0; r < receiverCount; r++) states.push({ timeline: new Timeline(), soft: new Reservations() });
  const pieces = new Pieces();
  let i = 0;
  while (i < order.length) {
    const cls = order[i]!.prep.entry.class;
    let j = i;
    while (j < order.length && order[j]!.prep.entry.class === cls) j++;
    const group = order.slice(i, j);
    for (const st of states) st.soft = new Reservations();
    placeNominal(group, states, pieces);
    placePadding(group, states, pieces);
    i = j;
  }
}

/** The receiver that costs least (see the file comment); `m` is scratch space. */
function chooseReceiver(
  o: Occurrence,
  states: readonly ReceiverState[],
  m: { lost: number; shared: number },
): number {
  let best = -1;
  let bLost = 0;
  let bSoft = 0;
  let bShared = 0;
  for (let r = 0; r < states.length; r++) {
    const key = o.prep.keys[r]!;
    const st = states[r]!;
    st.timeline.measure(o.start, o.end, key, m);
    const lost = m.lost;
    const shared = m.shared;
    if (best >= 0 && lost > bLost) continue;
    let soft = st.soft.conflict(o.pStart, o.pEnd, key);
    st.timeline.measure(o.pStart, o.start, key, m);
    soft += m.lost;
    st.timeline.measure(o.end, o.pEnd, key, m);
    soft += m.lost;
    if (
      best < 0 ||
      lost < bLost ||
      (lost === bLost && (soft < bSoft || (soft === bSoft && shared > bShared)))
    ) {
      best = r;
      bLost = lost;
      bSoft = soft;
      bShared = shared;
    }
  }
  return best;
}

/** Phase 1: nominal intervals, receiver choice, cuts; reserves the padding each survivor will ask for. */
function placeNominal(order: readonly Occurrence[], states: readonly ReceiverState[], pieces: Pieces): void {
  const receiverCount = states.length;
  const m = { lost: 0, shared: 0 };
  const lostTally: (Occurrence | number)[] = [];
  const sharedTally: (Occurrence | number)[] = [];
  const { s: ps, e: pe, kind, holder } = pieces;
  for (const o of order) {
    const prep = o.prep;
    const best = prep.pin >= 0 ? prep.pin : receiverCount === 1 ? 0 : chooseReceiver(o, states, m);
    const key = prep.keys[best]!;
    const st = states[best]!;
    o.receiver = best;
    o.key = key;
    st.timeline.scan(o.start, o.end, key, pieces);
    for (let i = 0; i < pieces.n; i++) {
      const s = ps[i]!;
      const e = pe[i]!;
      const k = kind[i]!;
      if (k === FREE) {
        st.timeline.claim(s, e, key, o);
        addPart(o, s, e);
      } else if (k === SHARED) {
        addPart(o, s, e);
        o.shared += e - s;
        sharedTally.push(holder[i]!, e - s);
      } else {
        o.lost += e - s;
        lostTally.push(holder[i]!, e - s);
        addCut(o, s, e, holder[i]!, false);
      }
    }
    if (lostTally.length > 0) {
      o.lostTo = topHolder(lostTally);
      lostTally.length = 0;
    }
    if (sharedTally.length > 0) {
      o.sharedWith = topHolder(sharedTally);
      sharedTally.length = 0;
    }
    const parts = o.parts;
    // Reservations only steer receiver choice, so a one-receiver station needs none.
    if (parts.length > 0 && receiverCount > 1) {
      if (parts[0] === o.start) st.soft.add(o.pStart, o.start, key);
      if (parts[parts.length - 1] === o.end) st.soft.add(o.end, o.pEnd, key);
    }
  }
}

/** Phase 2: padding, contiguous with the nominal interval, never over another key. */
function placePadding(order: readonly Occurrence[], states: readonly ReceiverState[], pieces: Pieces): void {
  const { s: ps, e: pe, kind, holder } = pieces;
  for (const o of order) {
    const parts = o.parts;
    if (parts.length === 0) continue;
    const tl = states[o.receiver]!.timeline;
    if (o.pStart < o.start && parts[0] === o.start) {
      tl.scan(o.pStart, o.start, o.key, pieces);
      // Walk back from the programme's start to the nearest piece held with another key.
      let k = pieces.n - 1;
      while (k >= 0 && kind[k] !== LOST) k--;
      for (let j = k + 1; j < pieces.n; j++) if (kind[j] === FREE) tl.claim(ps[j]!, pe[j]!, o.key, o);
      if (k >= 0) {
        parts[0] = pe[k]!;
        addCut(o, o.pStart, pe[k]!, holder[k]!, true);
      } else {
        parts[0] = o.pStart;
      }
    }
    if (o.pEnd > o.end && parts[parts.length - 1] === o.end) {
      tl.scan(o.end, o.pEnd, o.key, pieces);
      let k = 0;
      while (k < pieces.n && kind[k] !== LOST) k++;
      for (let j = 0; j < k; j++) if (kind[j] === FREE) tl.claim(ps[j]!, pe[j]!, o.key, o);
      if (k < pieces.n) {
        parts[parts.length - 1] = ps[k]!;
        addCut(o, ps[k]!, o.pEnd, holder[k]!, true);
      } else {
        parts[parts.length - 1] = o.pEnd;
      }
    }
  }
}

function byCutStart(a: Cut, b: Cut): number {
  return a.s - b.s;
}

/** Cuts in time order (padding before, nominal cuts, padding after). */
export function sortedCuts(o: Occurrence): Cut[] {
  const cuts = o.cuts;
  if (cuts === null) return [];
  return cuts.length > 1 ? cuts.slice().sort(byCutStart) : cuts;
}
