/**
 * Sun-outage calculator (DOMAIN.md §2 "Sun outage", §6 "Sun outage: predicted calendar"). Around the
 * equinoxes the sun passes behind a geostationary satellite as seen from a dish and its noise swamps the
 * carrier for a few minutes a day. For a station and a satellite this computes every daily window:
 * start, end, the instant of closest approach and the separation then.
 *
 * Model:
 * - Sun: the Astronomical Almanac's low-precision solar coordinates (accuracy ~0.01° for 1950–2050),
 *   with UTC used for UT1 (|UT1 − UTC| < 0.9 s, i.e. < 0.004° of Earth rotation).
 * - Earth: WGS84 ellipsoid (geodetic latitude/longitude/height → ECEF); sidereal rotation from the IAU
 *   1982 GMST expression. The sun's topocentric direction includes parallax (≤ 0.0025°, for free).
 * - Satellite: on the geostationary ring, radius 42 164 km, at its nominal longitude (station-keeping
 *   boxes of ±0.05–0.1° are inside the accuracy that matters here).
 * - Outage while the angular separation between sun and satellite, seen from the station, is below
 *   half the antenna's half-power beamwidth (HPBW ≈ 70·λ/D degrees) plus the sun's radius 0.27°
 *   (DOMAIN.md §2). The real onset is gradual; this is the conventional "degraded" criterion.
 *
 * Search: the separation is at least the difference in declination (both directions expressed in the
 * Earth-fixed equatorial frame), so only days when the sun's declination is near the satellite's
 * apparent declination (a few weeks around each equinox) are examined. On those days the closest
 * approach is found by golden-section search near the instant the sun crosses the satellite's hour
 * circle, and the window edges by bisection to better than 1 s.
 */

/** Typed error of this module. */
export class SunOutageError extends Error {
  override readonly name = 'SunOutageError';
  constructor(
    readonly code: 'bad-input' | 'satellite-below-horizon',
    message: string,
  ) {
    super(message);
  }
}

/** Where the dish is. */
export interface StationSite {
  /** Geodetic latitude, degrees north (−90..90). */
  latDeg: number;
  /** Longitude, degrees east (−180..180). */
  lonDeg: number;
  /** Height above the WGS84 ellipsoid, metres (default 0). */
  altitudeM?: number;
}

/** The dish and the carrier it receives. */
export interface DishSpec {
  /** Reflector diameter, metres. */
  diameterM: number;
  /** Downlink frequency, MHz (C-band ~3400–4200, Ku ~10700–12750). */
  frequencyMHz: number;
}

/** One daily outage window. Instants are UTC milliseconds since the epoch. */
export interface SunOutageWindow {
  startMs: number;
  endMs: number;
  /** Instant of closest approach. */
  peakMs: number;
  /** Sun–satellite separation at the peak, degrees. */
  peakSeparationDeg: number;
  durationS: number;
}

/** Satellite look angles from a station. */
export interface LookAngles {
  /** Elevation above the horizon, degrees (geometric, no refraction). */
  elevationDeg: number;
  /** Azimuth from true north, clockwise, degrees 0..360. */
  azimuthDeg: number;
  /** Slant range, km. */
  rangeKm: number;
}

const DEG = Math.PI / 180;
const DAY_MS = 86_400_000;
const J2000_MS = Date.UTC(2000, 0, 1, 12); // JD 2451545.0
const AU_KM = 149_597_870.7;
const WGS84_A_KM = 6378.137;
const WGS84_F = 1 / 298.257223563;
const WGS84_E2 = WGS84_F * (2 - WGS84_F);
/** Geostationary orbit radius, km. */
export const GEO_RADIUS_KM = 42_164;
/** Apparent angular radius of the sun, degrees (DOMAIN.md §2). */
export const SUN_RADIUS_DEG = 0.27;
const SPEED_OF_LIGHT = 299_792_458;

type Vec = readonly [number, number, number];
const sub = (a: Vec, b: Vec): Vec => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: Vec, b: Vec) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const norm = (a: Vec) => Math.sqrt(dot(a, a));

/** Angle between two vectors, degrees (atan2 form: exact near 0°, where acos loses precision). */
function angleDeg(a: Vec, b: Vec): number {
  const c: Vec = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  return Math.atan2(norm(c), dot(a, b)) / DEG;
}

const wrap360 = (x: number) => ((x % 360) + 360) % 360;
const wrap180 = (x: number) => wrap360(x + 180) - 180;

/** Half-power beamwidth of a parabolic dish, degrees: 70·λ/D (DOMAIN.md §2). */
export function halfPowerBeamwidthDeg(dish: DishSpec): number {
  const lambdaM = SPEED_OF_LIGHT / (dish.frequencyMHz * 1e6);
  return (70 * lambdaM) / dish.diameterM;
}

/** Separation below which the station is in outage: HPBW/2 + the sun's radius (DOMAIN.md §2). */
export function outageThresholdDeg(dish: DishSpec): number {
  return halfPowerBeamwidthDeg(dish) / 2 + SUN_RADIUS_DEG;
}

/** Geodetic → Earth-centred Earth-fixed, km. */
function stationEcef(site: StationSite): Vec {
  const lat = site.latDeg * DEG;
  const lon = site.lonDeg * DEG;
  const h = (site.altitudeM ?? 0) / 1000;
  const n = WGS84_A_KM / Math.sqrt(1 - WGS84_E2 * Math.sin(lat) ** 2);
  return [
    (n + h) * Math.cos(lat) * Math.cos(lon),
    (n + h) * Math.cos(lat) * Math.sin(lon),
    (n * (1 - WGS84_E2) + h) * Math.sin(lat),
  ];
}

function satelliteEcef(satLonDeg: number): Vec {
  return [GEO_RADIUS_KM * Math.cos(satLonDeg * DEG), GEO_RADIUS_KM * Math.sin(satLonDeg * DEG), 0];
}

/** Sun's geocentric apparent right ascension, declination (degrees) and distance (AU). */
function sunEquatorial(ms: number): { raDeg: number; decDeg: number; rAu: number } {
  const n = (ms - J2000_MS) / DAY_MS;
  const L = 280.46 + 0.9856474 * n;
  const g = (357.528 + 0.9856003 * n) * DEG;
  const lambda = (L + 1.915 * Math.sin(g) + 0.02 * Math.sin(2 * g)) * DEG;
  const eps = (23.439 - 0.0000004 * n) * DEG;
  return {
    raDeg: Math.atan2(Math.cos(eps) * Math.sin(lambda), Math.cos(lambda)) / DEG,
    decDeg: Math.asin(Math.sin(eps) * Math.sin(lambda)) / DEG,
    rAu: 1.00014 - 0.01671 * Math.cos(g) - 0.00014 * Math.cos(2 * g),
  };
}

/** Greenwich mean sidereal time, degrees (IAU 1982, UT1 ≈ UTC). */
function gmstDeg(ms: number): number {
  const d = (ms - J2000_MS) / DAY_MS;
  const t = d / 36525;
  return wrap360(280.46061837 + 360.98564736629 * d + 0.000387933 * t * t);
}

/** Sun position in ECEF, km. */
function sunEcef(ms: number): Vec {
  const { raDeg, decDeg, rAu } = sunEquatorial(ms);
  const lon = (raDeg - gmstDeg(ms)) * DEG;
  const dec = decDeg * DEG;
  const r = rAu * AU_KM;
  return [r * Math.cos(dec) * Math.cos(lon), r * Math.cos(dec) * Math.sin(lon), r * Math.sin(dec)];
}

function validate(site: StationSite, satLonDeg: number, dish?: DishSpec): void {
  const bad = (msg: string) => new SunOutageError('bad-input', msg);
  if (!(site.latDeg >= -90 && site.latDeg <= 90)) throw bad(`latitude must be −90..90, got ${site.latDeg}`);
  if (!(site.lonDeg >= -180 && site.lonDeg <= 180))
    throw bad(`longitude must be −180..180, got ${site.lonDeg}`);
  const alt = site.altitudeM ?? 0;
  if (!(alt >= -500 && alt <= 9000)) throw bad(`altitude must be −500..9000 m, got ${alt}`);
  if (!(satLonDeg >= -180 && satLonDeg <= 180))
    throw bad(`satellite longitude must be −180..180, got ${satLonDeg}`);
  if (dish) {
    if (!(dish.diameterM >= 0.3 && dish.diameterM <= 30))
      throw bad(`dish diameter must be 0.3–30 m, got ${dish.diameterM}`);
    if (!(dish.frequencyMHz >= 1000 && dish.frequencyMHz <= 40000)) {
      throw bad(`frequency must be 1000–40000 MHz, got ${dish.frequencyMHz}`);
    }
  }
}

/** Elevation, azimuth and range of a geostationary satellite from a station. */
export function lookAngles(site: StationSite, satLonDeg: number): LookAngles {
  validate(site, satLonDeg);
  const los = sub(satelliteEcef(satLonDeg), stationEcef(site));
  const lat = site.latDeg * DEG;
  const lon = site.lonDeg * DEG;
  const east = -Math.sin(lon) * los[0] + Math.cos(lon) * los[1];
  const north =
    -Math.sin(lat) * Math.cos(lon) * los[0] - Math.sin(lat) * Math.sin(lon) * los[1] + Math.cos(lat) * los[2];
  const up =
    Math.cos(lat) * Math.cos(lon) * los[0] + Math.cos(lat) * Math.sin(lon) * los[1] + Math.sin(lat) * los[2];
  return {
    elevationDeg: Math.atan2(up, Math.hypot(east, north)) / DEG,
    azimuthDeg: wrap360(Math.atan2(east, north) / DEG),
    rangeKm: norm(los),
  };
}

/** A query over a time range. */
export interface SunOutageQuery {
  site: StationSite;
  /** Satellite longitude, degrees east (ChinaSat 6B/6E: 115.5). */
  satelliteLonDeg: number;
  dish: DishSpec;
  /** Range to search, UTC ms; windows whose peak lies inside it are returned. At most 10 years. */
  fromMs: number;
  toMs: number;
}

/** Every outage window in the range, in time order. */
export function sunOutageWindows(q: SunOutageQuery): SunOutageWindow[] {
  validate(q.site, q.satelliteLonDeg, q.dish);
  if (
    !(
      Number.isFinite(q.fromMs) &&
      Number.isFinite(q.toMs) &&
      q.fromMs < q.toMs &&
      q.toMs - q.fromMs <= 3660 * DAY_MS
    )
  ) {
    throw new SunOutageError('bad-input', 'range must be finite, from < to, at most 10 years');
  }
  const look = lookAngles(q.site, q.satelliteLonDeg);
  if (look.elevationDeg <= 0) {
    throw new SunOutageError(
      'satellite-below-horizon',
      `satellite at ${q.satelliteLonDeg}°E is ${look.elevationDeg.toFixed(1)}° below the horizon of the station`,
    );
  }
  const st = stationEcef(q.site);
  const satDir = sub(satelliteEcef(q.satelliteLonDeg), st);
  const satDecDeg = Math.asin(satDir[2] / norm(satDir)) / DEG;
  const satHourCircleDeg = Math.atan2(satDir[1], satDir[0]) / DEG;
  const threshold = outageThresholdDeg(q.dish);
  const separation = (ms: number) => angleDeg(sub(sunEcef(ms), st), satDir);
  // How far off the sun crosses the satellite's hour circle: the sun's Earth-fixed longitude runs
  // backwards at ~360°/day, so one Newton step per day keeps the crossing to well under a second.
  const offset = (ms: number) => wrap180(sunEquatorial(ms).raDeg - gmstDeg(ms) - satHourCircleDeg);
  const degPerMs = 360.9856 / DAY_MS - 0.9856 / DAY_MS;

  const windows: SunOutageWindow[] = [];
  let t = q.fromMs - DAY_MS;
  for (let i = 0; i < 3; i++) t += offset(t) / degPerMs;
  for (; t <= q.toMs + DAY_MS; t += DAY_MS) {
    t += offset(t) / degPerMs;
    // Separation ≥ |Δ declination|; the slack covers parallax and the declination drift within ±1 h.
    if (Math.abs(sunEquatorial(t).decDeg - satDecDeg) > threshold + 0.05) continue;
    const w = windowAround(t, separation, threshold);
    if (w && w.peakMs >= q.fromMs && w.peakMs < q.toMs) windows.push(w);
  }
  return windows;
}

/** Windows of one calendar year (UTC). */
export function sunOutageWindowsForYear(
  q: Omit<SunOutageQuery, 'fromMs' | 'toMs'>,
  year: number,
): SunOutageWindow[] {
  if (!Number.isInteger(year) || year < 1950 || year > 2100) {
    throw new SunOutageError(
      'bad-input',
      `year must be 1950–2100 (the solar formula's useful range), got ${year}`,
    );
  }
  return sunOutageWindows({ ...q, fromMs: Date.UTC(year, 0, 1), toMs: Date.UTC(year + 1, 0, 1) });
}

const GOLDEN = (Math.sqrt(5) - 1) / 2;

function windowAround(
  crossingMs: number,
  sep: (ms: number) => number,
  threshold: number,
): SunOutageWindow | null {
  // Closest approach: golden-section search over ±30 min of the hour-circle crossing, to < 0.5 s.
  let a = crossingMs - 30 * 60_000;
  let b = crossingMs + 30 * 60_000;
  let c = b - GOLDEN * (b - a);
  let d = a + GOLDEN * (b - a);
  let fc = sep(c);
  let fd = sep(d);
  while (b - a > 500) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - GOLDEN * (b - a);
      fc = sep(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + GOLDEN * (b - a);
      fd = sep(d);
    }
  }
  const peakMs = Math.round((a + b) / 2);
  const peakSeparationDeg = sep(peakMs);
  if (peakSeparationDeg >= threshold) return null;
  const startMs = edge(peakMs, -1, sep, threshold);
  const endMs = edge(peakMs, 1, sep, threshold);
  return { startMs, endMs, peakMs, peakSeparationDeg, durationS: Math.round((endMs - startMs) / 1000) };
}

/** The threshold crossing before (dir −1) or after (dir 1) the peak, by bisection to 250 ms. */
function edge(peakMs: number, dir: 1 | -1, sep: (ms: number) => number, threshold: number): number {
  let inside = peakMs;
  let span = 15 * 60_000;
  let outside = peakMs + dir * span;
  // The sun moves ~0.25°/min, so a bracket is found within a few doublings for any sane beamwidth.
  while (sep(outside) < threshold && span < 12 * 3_600_000) {
    inside = outside;
    span *= 2;
    outside = peakMs + dir * span;
  }
  while (Math.abs(outside - inside) > 250) {
    const mid = (inside + outside) / 2;
    if (sep(mid) < threshold) inside = mid;
    else outside = mid;
  }
  return Math.round((inside + outside) / 2);
}

/** A run of consecutive daily windows (one per equinox season). */
export interface SunOutageSeason {
  /** Start of the first window and end of the last, UTC ms. */
  firstStartMs: number;
  lastEndMs: number;
  days: number;
  /** The day with the smallest separation. */
  peak: SunOutageWindow;
  /** Longest daily window, seconds. */
  maxDurationS: number;
}

/** Groups daily windows into seasons (windows less than 3 days apart belong together). */
export function groupSeasons(windows: readonly SunOutageWindow[]): SunOutageSeason[] {
  const seasons: SunOutageSeason[] = [];
  let current: SunOutageWindow[] = [];
  const flush = () => {
    const first = current[0];
    const last = current.at(-1);
    if (!first || !last) return;
    const peak = current.reduce((p, w) => (w.peakSeparationDeg < p.peakSeparationDeg ? w : p), first);
    seasons.push({
      firstStartMs: first.startMs,
      lastEndMs: last.endMs,
      days: current.length,
      peak,
      maxDurationS: Math.max(...current.map((w) => w.durationS)),
    });
    current = [];
  };
  for (const w of windows) {
    const prev = current.at(-1);
    if (prev && w.peakMs - prev.peakMs > 3 * DAY_MS) flush();
    current.push(w);
  }
  flush();
  return seasons;
}

/** Windows that overlap [fromMs, toMs): for warning about a job inside an outage (DOMAIN.md §6). */
export function windowsOverlapping(
  windows: readonly SunOutageWindow[],
  fromMs: number,
  toMs: number,
): SunOutageWindow[] {
  return windows.filter((w) => w.startMs < toMs && w.endMs > fromMs);
}
