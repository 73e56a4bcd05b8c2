/**
 * Sun-outage calculator (protocol/sun-outage.ts) against
 * 1. an independent brute-force oracle written here: a different solar algorithm (NOAA / Meeus ch. 25
 *    with the equation of time, instead of the Astronomical Almanac formula), a different frame
 *    (topocentric altitude/azimuth and the haversine, instead of Earth-fixed vectors), sampled minute
 *    by minute over both equinox seasons, with the same threshold HPBW/2 + 0.27°;
 * 2. DOMAIN.md §2's figures for Pingliang → 115.5°E.
 */
import t from 'tap';
import {
  groupSeasons,
  halfPowerBeamwidthDeg,
  lookAngles,
  outageThresholdDeg,
  type StationSite,
  SunOutageError,
  type SunOutageWindow,
  sunOutageWindows,
  sunOutageWindowsForYear,
  windowsOverlapping,
} from '../../protocol/sun-outage.js';

const D = Math.PI / 180;
const MIN = 60_000;
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------------
// The oracle. Nothing below imports from the module under test.

/** NOAA solar position (Meeus, Astronomical Algorithms ch. 25, low accuracy): declination, eq. of time. */
function noaaSun(ms: number): { decDeg: number; eqTimeMin: number } {
  const jd = ms / DAY + 2440587.5;
  const T = (jd - 2451545) / 36525;
  const L0 = (280.46646 + T * (36000.76983 + T * 0.0003032)) % 360;
  const M = 357.52911 + T * (35999.05029 - 0.0001537 * T);
  const e = 0.016708634 - T * (0.000042037 + 0.0000001267 * T);
  const C =
    Math.sin(M * D) * (1.914602 - T * (0.004817 + 0.000014 * T)) +
    Math.sin(2 * M * D) * (0.019993 - 0.000101 * T) +
    Math.sin(3 * M * D) * 0.000289;
  const omega = 125.04 - 1934.136 * T;
  const lambda = L0 + C - 0.00569 - 0.00478 * Math.sin(omega * D);
  const eps0 = 23 + (26 + (21.448 - T * (46.815 + T * (0.00059 - T * 0.001813))) / 60) / 60;
  const eps = eps0 + 0.00256 * Math.cos(omega * D);
  const decDeg = Math.asin(Math.sin(eps * D) * Math.sin(lambda * D)) / D;
  const y = Math.tan((eps * D) / 2) ** 2;
  const eqTimeMin =
    (4 / D) *
    (y * Math.sin(2 * L0 * D) -
      2 * e * Math.sin(M * D) +
      4 * e * y * Math.sin(M * D) * Math.cos(2 * L0 * D) -
      0.5 * y * y * Math.sin(4 * L0 * D) -
      1.25 * e * e * Math.sin(2 * M * D));
  return { decDeg, eqTimeMin };
}

/** Sun altitude/azimuth (degrees) from the true-solar-time hour angle. */
function oracleSunAltAz(ms: number, latDeg: number, lonDeg: number): { alt: number; az: number } {
  const { decDeg, eqTimeMin } = noaaSun(ms);
  const utcMin = (((ms % DAY) + DAY) % DAY) / MIN;
  const trueSolarMin = utcMin + eqTimeMin + 4 * lonDeg;
  const H = (trueSolarMin / 4 - 180) * D;
  const lat = latDeg * D;
  const dec = decDeg * D;
  const sinAlt = Math.sin(lat) * Math.sin(dec) + Math.cos(lat) * Math.cos(dec) * Math.cos(H);
  const alt = Math.asin(sinAlt);
  const az = Math.atan2(Math.sin(H), Math.cos(H) * Math.sin(lat) - Math.tan(dec) * Math.cos(lat)) / D + 180;
  return { alt: alt / D, az };
}

/** GEO satellite altitude/azimuth via geocentric latitude and radius on the WGS84 ellipsoid. */
function oracleSatAltAz(site: StationSite, satLon: number): { alt: number; az: number } {
  const a = 6378.137;
  const b = a * (1 - 1 / 298.257223563);
  const phi = site.latDeg * D;
  const h = (site.altitudeM ?? 0) / 1000;
  const psi = Math.atan(((b * b) / (a * a)) * Math.tan(phi)); // geocentric latitude of the surface point
  const rSurf = Math.sqrt(
    ((a * a * Math.cos(psi)) ** 2 + (b * b * Math.sin(psi)) ** 2) /
      ((a * Math.cos(psi)) ** 2 + (b * Math.sin(psi)) ** 2),
  );
  const lon = site.lonDeg * D;
  // station = surface point + h along the geodetic normal
  const px = rSurf * Math.cos(psi) * Math.cos(lon) + h * Math.cos(phi) * Math.cos(lon);
  const py = rSurf * Math.cos(psi) * Math.sin(lon) + h * Math.cos(phi) * Math.sin(lon);
  const pz = rSurf * Math.sin(psi) + h * Math.sin(phi);
  const sx = 42164 * Math.cos(satLon * D) - px;
  const sy = 42164 * Math.sin(satLon * D) - py;
  const sz = -pz;
  // rotate into (south, east, zenith) about the geodetic vertical
  const south = Math.sin(phi) * Math.cos(lon) * sx + Math.sin(phi) * Math.sin(lon) * sy - Math.cos(phi) * sz;
  const east = -Math.sin(lon) * sx + Math.cos(lon) * sy;
  const zen = Math.cos(phi) * Math.cos(lon) * sx + Math.cos(phi) * Math.sin(lon) * sy + Math.sin(phi) * sz;
  const alt = Math.atan2(zen, Math.hypot(south, east)) / D;
  const az = (Math.atan2(east, -south) / D + 360) % 360;
  return { alt, az };
}

/** Great-circle angle between two alt/az directions (haversine). */
function haversineDeg(a: { alt: number; az: number }, b: { alt: number; az: number }): number {
  const dAlt = (b.alt - a.alt) * D;
  const dAz = (b.az - a.az) * D;
  const h = Math.sin(dAlt / 2) ** 2 + Math.cos(a.alt * D) * Math.cos(b.alt * D) * Math.sin(dAz / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(h)))) / D;
}

interface OracleWindow {
  firstMs: number;
  lastMs: number;
}

/** Minute-by-minute scan of [fromMs, toMs): runs of minutes with separation below the threshold. */
function oracleWindows(
  site: StationSite,
  satLon: number,
  thresholdDeg: number,
  fromMs: number,
  toMs: number,
): OracleWindow[] {
  const sat = oracleSatAltAz(site, satLon);
  const out: OracleWindow[] = [];
  let open: OracleWindow | null = null;
  for (let ms = fromMs; ms < toMs; ms += MIN) {
    const inside = haversineDeg(oracleSunAltAz(ms, site.latDeg, site.lonDeg), sat) < thresholdDeg;
    if (inside && !open) open = { firstMs: ms, lastMs: ms };
    else if (inside && open) open.lastMs = ms;
    else if (!inside && open) {
      out.push(open);
      open = null;
    }
  }
  if (open) out.push(open);
  return out;
}

/** The same criterion, computed here: half of HPBW = 70·λ/D, plus the sun's 0.27° radius (DOMAIN.md §2). */
const oracleThreshold = (dish: { diameterM: number; frequencyMHz: number }) =>
  (70 * (299_792_458 / (dish.frequencyMHz * 1e6))) / dish.diameterM / 2 + 0.27;

/** Both equinox seasons of a year, generously: a GEO satellite sits within ±9° of declination. */
const seasonsOf = (year: number): Array<[number, number]> => [
  [Date.UTC(year, 1, 1), Date.UTC(year, 4, 1)],
  [Date.UTC(year, 7, 10), Date.UTC(year, 10, 10)],
];

// ---------------------------------------------------------------------------------------------------

const PINGLIANG: StationSite = { latDeg: 35.5, lonDeg: 106.7, altitudeM: 1350 };
const CASES = [
  {
    name: 'Pingliang 1.8 m C-band → 115.5°E',
    site: PINGLIANG,
    sat: 115.5,
    dish: { diameterM: 1.8, frequencyMHz: 4000 },
  },
  {
    name: 'Pingliang 3 m C-band → 115.5°E',
    site: PINGLIANG,
    sat: 115.5,
    dish: { diameterM: 3, frequencyMHz: 3840 },
  },
  {
    name: 'Jingning 0.6 m Ku-band → 92.2°E',
    site: { latDeg: 35.52, lonDeg: 105.73 },
    sat: 92.2,
    dish: { diameterM: 0.6, frequencyMHz: 12000 },
  },
  {
    name: 'Ürümqi 1.8 m C-band → 115.5°E (satellite far to the east)',
    site: { latDeg: 43.83, lonDeg: 87.62, altitudeM: 800 },
    sat: 115.5,
    dish: { diameterM: 1.8, frequencyMHz: 4000 },
  },
  {
    name: 'Hobart 2.4 m C-band → 166°E (southern hemisphere)',
    site: { latDeg: -42.88, lonDeg: 147.33 },
    sat: 166,
    dish: { diameterM: 2.4, frequencyMHz: 3900 },
  },
] as const;

t.test('agrees with the brute-force oracle within 2 minutes per window edge', async (t) => {
  const year = 2026;
  for (const c of CASES) {
    const threshold = oracleThreshold(c.dish);
    const mine = sunOutageWindowsForYear({ site: c.site, satelliteLonDeg: c.sat, dish: c.dish }, year);
    const oracle = seasonsOf(year).flatMap(([from, to]) => oracleWindows(c.site, c.sat, threshold, from, to));
    t.ok(oracle.length >= 8, `${c.name}: the oracle finds outage days (${oracle.length})`);

    const inSeason = (ms: number) => seasonsOf(year).some(([from, to]) => ms >= from && ms < to);
    t.ok(
      mine.every((w) => inSeason(w.peakMs)),
      `${c.name}: every window lies in an equinox season`,
    );

    let matched = 0;
    let worst = 0;
    for (const o of oracle) {
      const w = mine.find((m) => m.startMs <= o.lastMs + MIN && m.endMs >= o.firstMs);
      if (!w) {
        t.fail(`${c.name}: oracle window at ${new Date(o.firstMs).toISOString()} has no match`);
        continue;
      }
      matched++;
      // the oracle's first/last inside minute brackets the true edge to within one minute
      const startErr = Math.abs(w.startMs - o.firstMs) / MIN;
      const endErr = Math.abs(w.endMs - o.lastMs) / MIN;
      worst = Math.max(worst, startErr, endErr);
      if (startErr > 2 || endErr > 2) {
        t.fail(
          `${c.name} ${new Date(o.firstMs).toISOString()}: start off by ${startErr.toFixed(2)} min, end by ${endErr.toFixed(2)}`,
        );
      }
    }
    t.equal(matched, oracle.length, `${c.name}: all ${oracle.length} oracle windows matched within 2 min`);
    t.comment(`${c.name}: ${mine.length} windows, worst edge difference ${worst.toFixed(2)} min`);
    const unmatched = mine.filter(
      (m) => !oracle.some((o) => m.startMs <= o.lastMs + MIN && m.endMs >= o.firstMs),
    );
    t.ok(
      unmatched.every((m) => m.durationS < 120),
      `${c.name}: windows the minute grid could miss are all shorter than 2 min (${unmatched.length})`,
    );
  }
});

t.test(
  'window edges sit on the threshold and the peak is the closest approach (oracle geometry)',
  async (t) => {
    const c = CASES[0];
    const threshold = oracleThreshold(c.dish);
    const sat = oracleSatAltAz(c.site, c.sat);
    const sep = (ms: number) => haversineDeg(oracleSunAltAz(ms, c.site.latDeg, c.site.lonDeg), sat);
    for (const w of sunOutageWindowsForYear({ site: c.site, satelliteLonDeg: c.sat, dish: c.dish }, 2026)) {
      const when = new Date(w.peakMs).toISOString().slice(0, 10);
      t.ok(Math.abs(sep(w.startMs) - threshold) < 0.02, `${when}: start on the threshold`);
      t.ok(Math.abs(sep(w.endMs) - threshold) < 0.02, `${when}: end on the threshold`);
      t.ok(Math.abs(sep(w.peakMs) - w.peakSeparationDeg) < 0.02, `${when}: peak separation`);
      t.ok(
        sep(w.peakMs) <= sep(w.peakMs - 2 * MIN) && sep(w.peakMs) <= sep(w.peakMs + 2 * MIN),
        `${when}: peak is a minimum`,
      );
      t.equal(w.durationS, Math.round((w.endMs - w.startMs) / 1000));
    }
  },
);

t.test('DOMAIN.md §2: Pingliang → 115.5°E, 1.8 m at 4 GHz', async (t) => {
  // Tolerances: DOMAIN.md marks these figures *(est.)* and rounds them (a day, "near 12:25", "~13 min");
  // the peak day also moves by up to a day between years with the leap-year cycle. So: peak day ±1,
  // peak time ±10 min, season edges ±2 days, longest window 13 ± 2 min.
  const look = lookAngles(PINGLIANG, 115.5);
  t.ok(Math.abs(look.elevationDeg - 47.7) < 0.3, `elevation ${look.elevationDeg.toFixed(2)}° ≈ 47.7°`);
  t.ok(Math.abs(look.azimuthDeg - 165) < 1, `azimuth ${look.azimuthDeg.toFixed(2)}° ≈ 165°`);
  t.ok(Math.abs(halfPowerBeamwidthDeg({ diameterM: 1.8, frequencyMHz: 4000 }) - 2.9) < 0.05, 'HPBW ≈ 2.9°');
  t.ok(
    Math.abs(outageThresholdDeg({ diameterM: 1.8, frequencyMHz: 4000 }) - (2.915 / 2 + 0.27)) < 0.01,
    'threshold',
  );

  const beijing = (ms: number) => new Date(ms + 8 * 3_600_000);
  const dayOf = (ms: number) => beijing(ms).getUTCDate();
  const minuteOfDay = (ms: number) => beijing(ms).getUTCHours() * 60 + beijing(ms).getUTCMinutes();
  for (const year of [2026, 2027, 2028]) {
    const seasons = groupSeasons(
      sunOutageWindowsForYear(
        { site: PINGLIANG, satelliteLonDeg: 115.5, dish: { diameterM: 1.8, frequencyMHz: 4000 } },
        year,
      ),
    );
    t.equal(seasons.length, 2, `${year}: one spring and one autumn season`);
    const [spring, autumn] = seasons;
    if (!spring || !autumn) continue;
    t.equal(beijing(spring.peak.peakMs).getUTCMonth(), 2, `${year}: spring peak in March`);
    t.ok(
      Math.abs(dayOf(spring.peak.peakMs) - 6) <= 1,
      `${year}: spring peak ${dayOf(spring.peak.peakMs)} March ≈ 6`,
    );
    t.ok(
      Math.abs(minuteOfDay(spring.peak.peakMs) - (12 * 60 + 25)) <= 10,
      `${year}: spring peak near 12:25 Beijing`,
    );
    t.ok(
      Math.abs(dayOf(spring.firstStartMs) - 2) <= 2,
      `${year}: spring starts ≈ 2 March (${dayOf(spring.firstStartMs)})`,
    );
    t.ok(
      Math.abs(dayOf(spring.lastEndMs) - 10) <= 2,
      `${year}: spring ends ≈ 10 March (${dayOf(spring.lastEndMs)})`,
    );
    t.equal(beijing(autumn.peak.peakMs).getUTCMonth(), 9, `${year}: autumn peak in October`);
    t.ok(
      Math.abs(dayOf(autumn.peak.peakMs) - 7.5) <= 1.5,
      `${year}: autumn peak ${dayOf(autumn.peak.peakMs)} Oct ≈ 7–8`,
    );
    t.ok(
      Math.abs(minuteOfDay(autumn.peak.peakMs) - (12 * 60 + 1)) <= 10,
      `${year}: autumn peak near 12:01 Beijing`,
    );
    t.ok(
      Math.abs(dayOf(autumn.firstStartMs) - 4) <= 2,
      `${year}: autumn starts ≈ 4 Oct (${dayOf(autumn.firstStartMs)})`,
    );
    t.ok(
      Math.abs(dayOf(autumn.lastEndMs) - 12) <= 2,
      `${year}: autumn ends ≈ 12 Oct (${dayOf(autumn.lastEndMs)})`,
    );
    for (const s of [spring, autumn]) {
      t.ok(
        Math.abs(s.maxDurationS / 60 - 13) <= 2,
        `${year}: longest window ${(s.maxDurationS / 60).toFixed(1)} min ≈ 13`,
      );
    }
  }
});

t.test('bigger dishes and higher frequencies mean shorter outages', async (t) => {
  const total = (diameterM: number, frequencyMHz: number) =>
    sunOutageWindowsForYear(
      { site: PINGLIANG, satelliteLonDeg: 115.5, dish: { diameterM, frequencyMHz } },
      2026,
    ).reduce((s, w) => s + w.durationS, 0);
  const small = total(1.2, 4000);
  const medium = total(1.8, 4000);
  const large = total(3, 4000);
  const ku = total(1.8, 12000);
  t.ok(small > medium && medium > large, `C-band 1.2 m ${small} s > 1.8 m ${medium} s > 3 m ${large} s`);
  t.ok(ku < medium, `Ku 1.8 m ${ku} s < C-band 1.8 m ${medium} s`);
});

t.test('range queries, overlap lookup and seasons', async (t) => {
  const q = { site: PINGLIANG, satelliteLonDeg: 115.5, dish: { diameterM: 1.8, frequencyMHz: 4000 } };
  const year = sunOutageWindowsForYear(q, 2026);
  const march = sunOutageWindows({ ...q, fromMs: Date.UTC(2026, 2, 1), toMs: Date.UTC(2026, 3, 1) });
  t.same(
    march,
    year.filter((w) => w.peakMs < Date.UTC(2026, 3, 1)),
    'a sub-range gives the same windows',
  );
  t.same(
    sunOutageWindows({ ...q, fromMs: Date.UTC(2026, 5, 1), toMs: Date.UTC(2026, 6, 1) }),
    [],
    'none in June',
  );

  const peak = march.find((w) => new Date(w.peakMs).getUTCDate() === 6) as SunOutageWindow;
  t.ok(peak, 'a window on 6 March');
  // a recording 12:00–13:00 Beijing on 6 March overlaps; one at 14:00 does not (DOMAIN.md §6 warning)
  const at = (h: number) => Date.UTC(2026, 2, 6, h - 8);
  t.same(windowsOverlapping(year, at(12), at(13)), [peak]);
  t.same(windowsOverlapping(year, at(14), at(15)), []);
  t.same(windowsOverlapping(year, peak.endMs, peak.endMs + MIN), [], 'touching the end is not inside');

  const seasons = groupSeasons(year);
  t.same(
    seasons.map((s) => s.days),
    [
      year.filter((w) => new Date(w.peakMs).getUTCMonth() === 2).length,
      year.filter((w) => new Date(w.peakMs).getUTCMonth() === 9).length,
    ],
  );
  t.same(groupSeasons([]), []);
});

t.test('bad input is a typed error', async (t) => {
  const q = { site: PINGLIANG, satelliteLonDeg: 115.5, dish: { diameterM: 1.8, frequencyMHz: 4000 } };
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof SunOutageError ? err.code : `other: ${String(err)}`;
    }
    return 'no error';
  };
  t.equal(
    codeOf(() => lookAngles({ latDeg: 91, lonDeg: 0 }, 0)),
    'bad-input',
  );
  t.equal(
    codeOf(() => lookAngles({ latDeg: 0, lonDeg: Number.NaN }, 0)),
    'bad-input',
  );
  t.equal(
    codeOf(() => sunOutageWindowsForYear({ ...q, dish: { diameterM: 0, frequencyMHz: 4000 } }, 2026)),
    'bad-input',
  );
  t.equal(
    codeOf(() => sunOutageWindowsForYear({ ...q, dish: { diameterM: 1.8, frequencyMHz: 4 } }, 2026)),
    'bad-input',
  );
  t.equal(
    codeOf(() => sunOutageWindowsForYear(q, 1900)),
    'bad-input',
  );
  t.equal(
    codeOf(() => sunOutageWindows({ ...q, fromMs: 10, toMs: 5 })),
    'bad-input',
  );
  t.equal(
    codeOf(() => sunOutageWindows({ ...q, fromMs: 0, toMs: 20 * 365 * DAY })),
    'bad-input',
  );
  t.equal(
    codeOf(() => sunOutageWindowsForYear({ ...q, satelliteLonDeg: -60 }, 2026)),
    'satellite-below-horizon',
    'a satellite over the Atlantic is not visible from Gansu',
  );
  t.ok(lookAngles(PINGLIANG, -60).elevationDeg < 0);
});
