/**
 * Sun-outage calendar per station (DOMAIN.md §2 "Sun outage", §6 "Sun outage: predicted calendar — suppress
 * alarms in the window"). Wraps protocol/sun-outage.ts with a per-station, per-year cache: the engine asks
 * "which windows overlap this instant?" on every suppressible raise, the station page asks for the year's
 * calendar. No globals: one calendar per headend, built with a lookup of each station's site and dish.
 */
import {
  type DishSpec,
  groupSeasons,
  type StationSite,
  SunOutageError,
  type SunOutageSeason,
  type SunOutageWindow,
  sunOutageWindowsForYear,
  windowsOverlapping,
} from '../../protocol/sun-outage.js';

/** What the calculator needs about one station. */
export interface StationSky {
  site: StationSite;
  dish: DishSpec;
  /** Satellite longitude, degrees east (ChinaSat 6B/6E: 115.5, DOMAIN.md §2). */
  satelliteLonDeg: number;
}

/** The calendar of one station and year, for the station page. */
export type StationCalendar =
  | { ok: true; station: string; year: number; windows: SunOutageWindow[]; seasons: SunOutageSeason[] }
  | {
      ok: false;
      station: string;
      year: number;
      code: 'unknown-station' | SunOutageError['code'];
      message: string;
    };

/** The calendar service. */
export interface SunOutageCalendar {
  /** Windows of `station` overlapping [fromMs, toMs); empty when the station's site is unknown. */
  windows(station: string, fromMs: number, toMs: number): SunOutageWindow[];
  /** The year's windows grouped in seasons, or why there are none. */
  calendar(station: string, year: number): StationCalendar;
  /** Forgets cached windows (a station's site or dish changed; all stations when omitted). */
  invalidate(station?: string): void;
}

/** Builds a calendar over `skyOf` (returns `undefined` for a station without coordinates). */
export function createSunOutageCalendar(
  skyOf: (station: string) => StationSky | undefined,
): SunOutageCalendar {
  const cache = new Map<string, StationCalendar>();

  function calendar(station: string, year: number): StationCalendar {
    const key = `${station}|${year}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const sky = skyOf(station);
    let result: StationCalendar;
    if (!sky) {
      result = {
        ok: false,
        station,
        year,
        code: 'unknown-station',
        message: `no site or dish known for ${station}`,
      };
    } else {
      try {
        const windows = sunOutageWindowsForYear(sky, year);
        result = { ok: true, station, year, windows, seasons: groupSeasons(windows) };
      } catch (err) {
        if (!(err instanceof SunOutageError)) throw err;
        result = { ok: false, station, year, code: err.code, message: err.message };
      }
    }
    cache.set(key, result);
    return result;
  }

  return {
    windows(station, fromMs, toMs) {
      const y0 = new Date(fromMs).getUTCFullYear();
      const y1 = new Date(toMs).getUTCFullYear();
      const out: SunOutageWindow[] = [];
      for (let y = y0; y <= y1; y++) {
        const c = calendar(station, y);
        if (c.ok) out.push(...windowsOverlapping(c.windows, fromMs, toMs));
      }
      return out;
    },
    calendar,
    invalidate(station) {
      if (station === undefined) cache.clear();
      else for (const k of cache.keys()) if (k.startsWith(`${station}|`)) cache.delete(k);
    },
  };
}
