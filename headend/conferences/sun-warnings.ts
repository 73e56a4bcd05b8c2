/**
 * Sun-outage warnings for a conference (DOMAIN.md §2 "Sun outage", §6 "warn about jobs inside it";
 * DESIGN.md §5: warnings such as `in sun outage` come from the headend, which knows each station's
 * coordinates and dish). A target station with coordinates is warned about when a predicted window
 * overlaps the conference with its pre-roll. Pure: the station facts are passed in.
 */
import { type SunOutageWindow, sunOutageWindows, windowsOverlapping } from '../../protocol/sun-outage.js';
import type { SunWarning } from './conference-schema.js';

/** ChinaSat 6B, now 6E, at 115.5°E (DOMAIN.md §2). */
export const SATELLITE_LON_DEG = 115.5;
/** Dish assumed when the registry has none: 1.8 m, the size DOMAIN.md §2 quotes for the stations. */
export const DEFAULT_DISH_M = 1.8;

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What the calculator needs about one station. */
export interface StationSiteInfo {
  id: string;
  lat: number | null;
  lon: number | null;
  dishM: number | null;
}

/**
 * Windows overlapping [fromMs, toMs) at each station that has coordinates, for a carrier at
 * `frequencyMHz`. Stations without coordinates, or that cannot see the satellite, get no warning (the
 * station page says why; a conference is not refused for it).
 */
export function sunOutageWarnings(
  stations: readonly StationSiteInfo[],
  frequencyMHz: number,
  fromMs: number,
  toMs: number,
): SunWarning[] {
  const out: SunWarning[] = [];
  for (const s of stations) {
    if (s.lat === null || s.lon === null) continue;
    let windows: SunOutageWindow[];
    try {
      windows = sunOutageWindows({
        site: { latDeg: s.lat, lonDeg: s.lon },
        satelliteLonDeg: SATELLITE_LON_DEG,
        dish: { diameterM: s.dishM ?? DEFAULT_DISH_M, frequencyMHz },
        fromMs: fromMs - DAY_MS,
        toMs: toMs + DAY_MS,
      });
    } catch {
      continue;
    }
    for (const w of windowsOverlapping(windows, fromMs, toMs)) {
      out.push({ stationId: s.id, start: iso(w.startMs), end: iso(w.endMs), peak: iso(w.peakMs) });
    }
  }
  return out;
}
