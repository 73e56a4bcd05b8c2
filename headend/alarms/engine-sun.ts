/**
 * The `sun_outage` annotation (DOMAIN.md §6, Sun outage): when a signal alarm is held back inside a predicted
 * window, one info alarm per station names the window and what it suppressed.
 */
import { cause as mkCause, evidence as mkEvidence, utc } from './causes.js';
import type { Core, Entry } from './engine-core.js';
import type { OutageWindow } from './types.js';

/** Raises (or refreshes) the station's `sun_outage` annotation naming what was suppressed. */
export function annotateSun(core: Core, e: Entry, w: OutageWindow, now: number): void {
  const until = w.endMs + core.t.sunOutageGuardMs;
  if (now >= until) return; // window over: only waiting for the raise hold to run from its end
  const station = e.station as string;
  const st = core.stationState(station);
  if (!st.sun || st.sun.until <= now) st.sun = { until, suppressed: new Set() };
  st.sun.until = Math.max(st.sun.until, until);
  st.sun.suppressed.add(`${e.kind}${e.subject ? ` on ${e.subject}` : ''}`);
  const list = [...st.sun.suppressed].join(', ');
  const iso = (ms: number) => new Date(ms).toISOString();
  core.apply(
    station,
    {
      kind: 'sun_outage',
      subject: '',
      level: 1,
      cause: mkCause(
        'sun-outage',
        'the sun is behind the satellite as seen from the dish: expected, not a fault',
      ),
      evidence: mkEvidence(
        `predicted sun outage ${utc(w.startMs)} – ${utc(w.endMs)} (peak ${utc(w.peakMs)}); suppressed: ${list}`,
        {
          windowStart: iso(w.startMs),
          windowEnd: iso(w.endMs),
          peak: iso(w.peakMs),
          suppressed: list,
        },
      ),
      carrier: null,
    },
    'sun',
    now,
    { raise: 0, clear: 0 },
  );
  // Something else suppressed in the same window: show it on the annotation already raised.
  const a = core.entries.get(core.keyOf(station, 'sun_outage', ''))?.alarm;
  const src = core.entries.get(core.keyOf(station, 'sun_outage', ''))?.hold.sources.get('sun');
  if (a && src && a.evidence.text !== src.evidence.text) {
    a.evidence = src.evidence;
    core.emit({ type: 'updated', at: now, alarm: a });
  }
}
