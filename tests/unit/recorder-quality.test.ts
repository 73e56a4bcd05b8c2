import fc from 'fast-check';
import t from 'tap';
import { judge } from '../../device/recorder/probe.js';
import { DAMAGED_BELOW, findGaps, qualityScore, recordingOutcome } from '../../device/recorder/quality.js';
import { manifestEvent, type SegmentRecord, summarise } from '../../device/recorder/segments.js';
import { StationEvent } from '../../protocol/messages/events.js';

const T0 = Date.parse('2026-03-01T11:00:00Z');
const S = 1000;
const W = { from: T0, to: T0 + 3600 * S }; // a one-hour programme
const tol = { edgeToleranceMs: 1500, joinToleranceMs: 250 };

t.test('gaps: late start, interruptions, early end, holes; tolerances at the edges only', async (t) => {
  t.same(
    findGaps({ window: W, covered: [{ from: T0 - 2 * S, to: W.to + S }], holes: [], ...tol }),
    [],
    'covered whole',
  );
  t.same(
    findGaps({ window: W, covered: [{ from: T0 + S, to: W.to - S }], holes: [], ...tol }),
    [],
    'within tolerance',
  );
  t.same(findGaps({ window: W, covered: [{ from: T0 + 30 * S, to: W.to }], holes: [], ...tol }), [
    { from: T0, to: T0 + 30 * S, ms: 30 * S, cause: 'late_start' },
  ]);
  t.same(
    findGaps({
      window: W,
      covered: [
        { from: T0, to: T0 + 600 * S },
        { from: T0 + 600 * S + 100, to: T0 + 1200 * S }, // contiguous (timestamp rounding)
        { from: T0 + 1205 * S, to: T0 + 3000 * S },
      ],
      holes: [{ from: T0 + 100 * S, to: T0 + 102 * S }],
      ...tol,
    }),
    [
      { from: T0 + 100 * S, to: T0 + 102 * S, ms: 2 * S, cause: 'stall' },
      { from: T0 + 1200 * S, to: T0 + 1205 * S, ms: 5 * S, cause: 'interruption' },
      { from: T0 + 3000 * S, to: W.to, ms: 600 * S, cause: 'early_end' },
    ],
  );
  t.same(findGaps({ window: W, covered: [], holes: [], ...tol }), [{ ...W, ms: 3600 * S, cause: 'no_data' }]);
  t.same(
    findGaps({
      window: W,
      covered: [
        { from: T0, to: T0 + 10 * S },
        { from: T0 + 20 * S, to: W.to },
      ],
      holes: [{ from: T0 + 5 * S, to: T0 + 15 * S }],
      ...tol,
    }),
    [{ from: T0 + 5 * S, to: T0 + 20 * S, ms: 15 * S, cause: 'stall' }],
    'overlapping gaps are merged',
  );
});

t.test('quality: 100 when whole, lower for gaps, endings weigh more, CC error rate scales it', async (t) => {
  t.equal(qualityScore({ window: W, gaps: [], ccErrors: 0, packets: 1e6 }), 100);
  const middle = qualityScore({
    window: W,
    gaps: [{ from: T0 + 1800 * S, to: T0 + 1836 * S }],
    ccErrors: 0,
    packets: 1e6,
  });
  const ending = qualityScore({
    window: W,
    gaps: [{ from: W.to - 36 * S, to: W.to }],
    ccErrors: 0,
    packets: 1e6,
  });
  const opening = qualityScore({
    window: W,
    gaps: [{ from: T0, to: T0 + 36 * S }],
    ccErrors: 0,
    packets: 1e6,
  });
  t.equal(middle, 99, '36 s (1 %) in the middle, longer than 5 s');
  t.ok(ending < opening && opening < middle, `end ${ending} < start ${opening} < middle ${middle}`);
  t.ok(
    qualityScore({
      window: W,
      gaps: [{ from: T0 + 1000 * S, to: T0 + 1180 * S }],
      ccErrors: 0,
      packets: 1e6,
    }) < DAMAGED_BELOW,
    'a 3-minute hole is damage',
  );
  t.equal(
    qualityScore({ window: W, gaps: [], ccErrors: 5, packets: 1e6 }),
    100,
    'a few CC errors: still whole',
  );
  t.equal(
    qualityScore({ window: W, gaps: [], ccErrors: 2000, packets: 1e6 }),
    80,
    '≥ 0.1 % of packets: ×0.8',
  );
  t.equal(qualityScore({ window: W, gaps: [], ccErrors: 20_000, packets: 1e6 }), 50, '≥ 1 %: capped at 50');
  t.equal(qualityScore({ window: W, gaps: [W], ccErrors: 0, packets: 0 }), 0, 'nothing recorded');
  t.equal(
    qualityScore({ window: { from: T0, to: T0 }, gaps: [], ccErrors: 0, packets: 0 }),
    100,
    'empty window',
  );
});

t.test('quality never rises when a gap grows', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3500 }),
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 100 }),
      (at, a, b) => {
        const gap = (len: number) => [{ from: T0 + at * S, to: Math.min(W.to, T0 + (at + len) * S) }];
        const small = qualityScore({ window: W, gaps: gap(Math.min(a, b)), ccErrors: 0, packets: 1 });
        const big = qualityScore({ window: W, gaps: gap(Math.max(a, b)), ccErrors: 0, packets: 1 });
        return big <= small && big >= 0 && small <= 100;
      },
    ),
    // A gap whose centre crossed the first tenth used to lose its ×2 and score better as it grew (found by
    // this property in CI: seed -1225682404).
    { examples: [[311, 55, 98]], numRuns: 500 },
  );
  t.pass();
});

t.test(
  'outcome: completed only when whole; completed_with_errors names what is wrong; failed when unusable',
  async (t) => {
    const ok = {
      bytes: 1e6,
      recordedMs: 3600 * S,
      verifiedSegments: 6,
      damagedSegments: 0,
      quality: 100,
      gaps: [],
      ccErrors: 0,
    };
    t.same(recordingOutcome(ok), { outcome: 'completed' });
    const gap = [{ from: T0, to: T0 + 5 * S, ms: 5 * S, cause: 'interruption' as const }];
    t.same(recordingOutcome({ ...ok, gaps: gap, quality: 99 }), {
      outcome: 'completed_with_errors',
      reason: '5.0 s missing in 1 gap (interruption)',
    });
    t.match(recordingOutcome({ ...ok, ccErrors: 3 }), {
      outcome: 'completed_with_errors',
      reason: /3 corrupt packets/,
    });
    t.match(recordingOutcome({ ...ok, damagedSegments: 1 }), {
      outcome: 'completed_with_errors',
      reason: /failed verification/,
    });
    t.match(recordingOutcome({ ...ok, failure: 'disk_full' }), {
      outcome: 'completed_with_errors',
      reason: /^disk_full/,
    });
    t.same(recordingOutcome({ ...ok, verifiedSegments: 0, failure: 'service_not_found' }), {
      outcome: 'failed',
      reason: 'service_not_found: no usable recording',
    });
    t.match(recordingOutcome({ ...ok, recordedMs: 400 }), { outcome: 'failed', reason: /^no_data/ });
  },
);

function seg(i: number, from: number, to: number, extra: Partial<SegmentRecord> = {}): SegmentRecord {
  return {
    file: `news/2026-03-01T1100/seg-${String(i).padStart(5, '0')}.ts`,
    index: i,
    start: from,
    end: to,
    bytes: Math.round(((to - from) / 1000) * 1_000_000),
    durationMs: to - from,
    ccErrors: 0,
    holes: [],
    gapBeforeMs: 0,
    probe: { ok: true, durationMs: to - from, programmeFound: true, streams: [] },
    ...extra,
  };
}

t.test(
  'summary and manifest: a resumed recording after a crash, with the manifest valid per protocol',
  async (t) => {
    const summary = summarise({
      window: W,
      segments: [
        seg(0, T0 - 300, T0 + 1200 * S),
        seg(1, T0 + 1240 * S, W.to + 200, { gapBeforeMs: 40 * S, ccErrors: 2 }),
      ],
      clockTrusted: false,
    });
    t.equal(summary.outcome, 'completed_with_errors');
    t.equal(summary.gapsMs, 40 * S);
    t.equal(summary.segments.length, 2);
    t.equal(summary.clockTrusted, false);
    const body = manifestEvent(summary, {
      entryId: 'news',
      nominalStart: '2026-03-01T11:00:00.000Z',
      recordingId: '17',
      service: 'cctv1',
      receiverId: 'rx1',
      at: '2026-03-01T12:00:01.000Z',
    });
    const event = StationEvent.parse({ storeId: 'a'.repeat(32), seq: 5, ...body });
    t.match(event, {
      type: 'recording.manifest',
      recordingId: '17',
      gapsMs: 40_000,
      outcome: 'completed_with_errors',
      clockTrusted: false,
      segments: [{ file: 'news/2026-03-01T1100/seg-00000.ts', ccErrors: 0 }, { ccErrors: 2 }],
    });
  },
);

t.test('a segment ffprobe rejects does not count as covered', async (t) => {
  const bad = seg(1, T0 + 1800 * S, W.to, {
    probe: { ok: false, durationMs: 0, programmeFound: false, streams: [], error: 'x' },
  });
  const s = summarise({ window: W, segments: [seg(0, T0, T0 + 1800 * S), bad], clockTrusted: true });
  t.equal(s.outcome, 'completed_with_errors');
  t.equal(s.gaps[0]?.cause, 'early_end');
  t.match(s.reason ?? '', /1 segment\(s\) failed verification/);
});

t.test('ffprobe verdict: duration, streams, programme', async (t) => {
  const good = {
    format: { duration: '600.040000', size: '1000' },
    streams: [
      { index: 0, codec_type: 'video', codec_name: 'h264' },
      { index: 1, codec_type: 'audio', codec_name: 'mp2' },
    ],
    programs: [{ program_id: 101, streams: [] }],
  };
  t.match(judge(good, 101), { ok: true, durationMs: 600_040, programmeFound: true });
  t.match(judge(good, 102), { ok: false, error: /programme 102 not in the file/ });
  t.match(judge({ ...good, streams: [{ index: 0, codec_type: 'data' }] }, 101), {
    ok: false,
    error: /no audio or video/,
  });
  t.match(judge({ ...good, format: { duration: 'N/A' } }, 101), { ok: false, error: /no duration/ });
  t.match(judge('garbage', 101), { ok: false, error: /unexpected ffprobe output/ });
});
