/**
 * The attendance report (issue 7): per station the share of the conference received with lock and stream,
 * the recording made or not with its quality, totals per county, and the CSV export a spreadsheet opens
 * correctly (Chinese names, commas and quotes in names, no formula injection).
 */
import t from 'tap';
import type { AttendanceChange } from '../../headend/conferences/conferences-repo.js';
import { reportCsv } from '../../headend/conferences/index.js';
import { buildReport, type ReportInput, receivingMs, recordedMs } from '../../headend/conferences/report.js';
import { startConferenceRig } from '../helpers/conference-rig.js';

const S = Date.parse('2026-03-05T02:00:00Z');
const at = (ms: number) => new Date(ms).toISOString();
const ch = (
  stationId: string,
  ms: number,
  status: string,
  streaming: boolean | null = null,
): AttendanceChange => ({
  stationId,
  at: at(ms),
  status,
  reason: null,
  marginDb: null,
  streaming,
});

t.test('time received with lock, from the observed changes', async (t) => {
  const end = S + 100_000;
  t.equal(
    receivingMs([ch('a', S - 10_000, 'ready'), ch('a', S + 900, 'receiving')], S, end),
    100_000,
    'ready through the start counts from the start',
  );
  t.equal(
    receivingMs(
      [
        ch('a', S - 10_000, 'ready'),
        ch('a', S + 1000, 'receiving'),
        ch('a', S + 40_000, 'failed'),
        ch('a', S + 50_000, 'receiving'),
      ],
      S,
      end,
    ),
    90_000,
    'a 10 s lock loss is not counted',
  );
  t.equal(receivingMs([ch('a', S + 20_000, 'receiving')], S, end), 80_000, 'late arrival');
  t.equal(receivingMs([ch('a', S - 5000, 'tuning'), ch('a', S + 5000, 'failed')], S, end), 0, 'never locked');
  t.equal(
    receivingMs([ch('a', S, 'receiving', true), ch('a', S + 30_000, 'receiving', false)], S, end),
    30_000,
    'no stream reaching the recorder is not received',
  );
  t.equal(
    receivingMs([ch('a', S + 10_000, 'ready')], S, end),
    0,
    'ready first seen after the start is not evidence',
  );
});

t.test('time recorded inside the window', async (t) => {
  const rec = {
    stationId: 'a',
    recordingId: '1',
    status: 'completed',
    quality: 100,
    bytes: 1,
    segments: [
      { start: at(S - 7000), end: at(S + 10_000), durationMs: 17_000 },
      { start: at(S + 12_000), end: at(S + 200_000), durationMs: 188_000 },
    ],
  };
  t.equal(
    recordedMs(rec, S, S + 100_000),
    98_000,
    'pre-roll and overrun are not counted; the 2 s gap is missing',
  );
  t.equal(recordedMs(undefined, S, S + 1), 0);
});

function input(over: Partial<ReportInput> = {}): ReportInput {
  return {
    conference: { id: 'c1', title: 'T', startMs: S, endMs: S + 100_000, record: true, cancelledAtMs: null },
    nowMs: S + 200_000,
    stations: [
      { id: 'a', name: '安国镇', county: 'kongtong' },
      { id: 'b', name: '白水镇', county: 'kongtong' },
      { id: 'c', name: '威戎镇', county: 'jingning' },
    ],
    attendance: [ch('a', S - 5000, 'ready'), ch('b', S - 5000, 'offline'), ch('c', S + 50_000, 'receiving')],
    recordings: [
      {
        stationId: 'b',
        recordingId: '7',
        status: 'completed-with-errors',
        quality: 91.5,
        bytes: 5_000_000,
        segments: [{ start: at(S - 3000), end: at(S + 100_500), durationMs: 103_500 }],
      },
    ],
    finalStates: new Map([['a', { state: 'completed' as const, reason: null }]]),
    current: new Map(),
    ...over,
  };
}

t.test('per station, per county and over all', async (t) => {
  const r = buildReport(input());
  t.equal(r.final, true);
  const a = r.stations.find((s) => s.stationId === 'a');
  const b = r.stations.find((s) => s.stationId === 'b');
  const c = r.stations.find((s) => s.stationId === 'c');
  t.equal(a?.share, 1, 'a: locked from before the start to the end');
  t.match(a?.recording, { made: false, status: null }, 'a: no recording arrived');
  t.equal(b?.share, 1, 'b: offline for the headend, but its recording proves reception');
  t.match(b?.recording, { made: true, quality: 91.5, damaged: true, status: 'completed-with-errors' });
  t.equal(c?.share, 0.5, 'c: the second half');
  t.same(
    r.counties.map((x) => [
      x.county,
      x.stations,
      x.full,
      x.partial,
      x.none,
      x.recordingsMade,
      x.recordingsDamaged,
    ]),
    [
      ['jingning', 1, 0, 1, 0, 0, 0],
      ['kongtong', 2, 2, 0, 0, 1, 1],
    ],
  );
  t.equal(r.totals.meanShare, 2.5 / 3);

  const shown = buildReport(input({ conference: { ...input().conference, record: false } }));
  t.equal(shown.stations[0]?.recording, null, 'show-only conference: no recording column');
  const early = buildReport(input({ conference: { ...input().conference, cancelledAtMs: S + 20_000 } }));
  t.equal(early.durationMs, 20_000, 'cancelled while running: the report covers until the cancellation');
  t.equal(early.stations.find((s) => s.stationId === 'c')?.share, 0);
  const running = buildReport(input({ nowMs: S + 25_000 }));
  t.equal(running.final, false, 'provisional while it runs');
  t.equal(running.stations.find((s) => s.stationId === 'a')?.share, 1, 'share of the part that ran');
});

t.test('CSV: BOM, CRLF, quoting, no formulas', async (t) => {
  const r = buildReport(
    input({
      stations: [
        { id: 'a', name: '=HYPERLINK("http://x")', county: 'kongtong' },
        { id: 'b', name: 'Baishui, "east"', county: 'kongtong' },
        { id: 'c', name: '威戎镇\n二站', county: 'jingning' },
      ],
    }),
  );
  const csv = reportCsv(r);
  t.ok(csv.startsWith('\uFEFFstation_id,station_name,county,'), 'UTF-8 BOM, then the header');
  t.ok(csv.includes('\r\n'), 'CRLF');
  t.ok(csv.includes(`"'=HYPERLINK(""http://x"")"`), 'a formula is neutralised and quoted');
  t.ok(csv.includes('"Baishui, ""east"""'), 'commas and quotes quoted');
  t.ok(csv.includes('"威戎镇\n二站"'), 'newline quoted');
  const lines = csv.slice(1).split('\r\n');
  t.match(lines[1], /^a,.*,kongtong,ready,,,100,100,no,,,0,$/, 'station a');
  t.match(lines[2], /^b,.*,100,0,yes,completed-with-errors,91\.5,100,5000000$/, 'station b: the recording');
  t.equal(lines[5], 'county,stations,full,partial,none,mean_received_pct,recordings,damaged');
  t.equal(lines[6], 'jingning,1,0,1,0,50,0,0');
  t.equal(lines[7], 'kongtong,2,2,0,0,100,1,1');
  t.equal(lines[8], 'all,3,2,1,0,83.3,1,1');
});

t.test('the report reads the catalogue and the stations’ final states', async (t) => {
  const rig = startConferenceRig();
  t.teardown(() => rig.close());
  const start = rig.now() + 60_000;
  const { conference: c } = rig.service.create(
    {
      title: '培训会',
      organiser: '市农技中心',
      service: 'cctv1',
      start: at(start),
      end: at(start + 60_000),
      target: { type: 'stations', stationIds: ['kongtong-anguo'] },
      record: true,
    },
    'x',
  );
  rig.birth('kongtong-anguo', { epoch: 1, n: 2 });
  rig.setNow(start + 61_000);
  rig.occurrence('kongtong-anguo', c.id, c.start, 'completed');
  // The manifest as the agent sends it (protocol/messages/events.ts) lands in the catalogue by ingest.
  rig.event('kongtong-anguo', {
    type: 'recording.manifest',
    entryId: c.id,
    nominalStart: c.start,
    recordingId: '42',
    service: 'cctv1',
    receiverId: 'rx1',
    segments: [
      {
        file: '42/seg-00001.ts',
        start: at(start - 7000),
        end: at(start + 60_000),
        bytes: 3_000_000,
        durationMs: 67_000,
        ccErrors: 0,
        gaps: 0,
      },
    ],
    bytes: 3_000_000,
    durationMs: 67_000,
    gapsMs: 0,
    quality: 100,
    outcome: 'completed',
    clockTrusted: true,
  });
  const r = rig.service.report(c.id);
  const s = r.stations[0];
  t.equal(s?.state, 'completed');
  t.equal(s?.status, 'ended');
  t.match(s?.recording, { made: true, recordingId: '42', quality: 100, damaged: false, bytes: 3_000_000 });
  t.equal(s?.recordedMs, 60_000);
  t.equal(s?.share, 1);
});
