import t from 'tap';
import {
  buildBareCopyArgs,
  buildRecorderArgs,
  leadCuts,
  MIN_LEAD_MS,
  type RecorderArgsInput,
  recorderInputUrl,
  segmentCutArgs,
} from '../../device/recorder/ffmpeg-args.js';

const base: RecorderArgsInput = {
  url: 'udp://127.0.0.1:5000',
  serviceId: 101,
  segmentPattern: '/rec/news/a/seg-%05d.ts',
  segmentListPath: '/rec/news/a/.segments-00000.csv',
  segmentMs: 600_000,
  startNumber: 0,
  udp: { fifoSize: 50_000, timeoutUs: 8_000_000, bufferSize: 4_194_304 },
};

/** The value following `flag` in argv. */
function after(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

t.test('stream copy of the service by programme number, probing bounded, progress on stdout', async (t) => {
  const argv = buildRecorderArgs(base);
  t.equal(after(argv, '-c'), 'copy', 'no transcoding');
  t.equal(after(argv, '-map'), '0:p:101', 'service selected by programme number');
  t.notOk(
    argv.some((a) => /^0:#?0x|^0:i:/.test(a)),
    'never mapped by PID',
  );
  t.equal(after(argv, '-analyzeduration'), '1000000');
  t.equal(after(argv, '-probesize'), '1000000');
  t.equal(after(argv, '-progress'), 'pipe:1');
  t.ok(argv.includes('-nostats'));
  t.notOk(argv.includes('-nostdin'), 'stdin stays open for the q that stops it cleanly');
  t.equal(after(argv, '-loglevel'), 'level+info');
  t.ok(argv.indexOf('-analyzeduration') < argv.indexOf('-i'), 'probe options apply to the input');
  t.ok(argv.indexOf('-map') > argv.indexOf('-i'), 'mapping is an output option');
});

t.test('segmented MPEG-TS output with a csv segment list and the service id kept', async (t) => {
  const argv = buildRecorderArgs({ ...base, startNumber: 7 });
  t.equal(after(argv, '-f'), 'segment');
  t.equal(after(argv, '-segment_time'), '600.000');
  t.equal(after(argv, '-segment_start_number'), '7');
  t.equal(after(argv, '-reset_timestamps'), '1');
  t.equal(after(argv, '-segment_list'), '/rec/news/a/.segments-00000.csv');
  t.equal(after(argv, '-segment_list_type'), 'csv');
  t.equal(after(argv, '-segment_format'), 'mpegts');
  t.equal(after(argv, '-segment_format_options'), 'mpegts_service_id=101:flush_packets=1');
  t.equal(argv[argv.length - 1], '/rec/news/a/seg-%05d.ts', 'output pattern last');
  t.equal(argv[argv.length - 2], '-y');
});

t.test('UDP input options are merged into the URL (DOMAIN.md §4)', async (t) => {
  const cases: [string, RegExp[]][] = [
    ['udp://127.0.0.1:5000', [/^udp:\/\/127\.0\.0\.1:5000\?/]],
    ['udp://239.1.1.1:5000', [/^udp:\/\/239\.1\.1\.1:5000\?/]],
    ['udp://127.0.0.1:5000?pkt_size=1316', [/pkt_size=1316/]],
    ['udp://127.0.0.1:5000?timeout=1', [/timeout=8000000/]],
    ['rtp://239.1.1.1:5004', [/^rtp:/]],
  ];
  for (const [url, patterns] of cases) {
    const { url: out, extraArgs } = recorderInputUrl(url, base.udp);
    const q = new URL(out).searchParams;
    t.equal(q.get('fifo_size'), '50000', `${url}: fifo_size in 188-byte packets`);
    t.equal(q.get('overrun_nonfatal'), '1');
    t.equal(q.get('timeout'), '8000000', `${url}: a dead input fails instead of hanging`);
    t.equal(q.get('buffer_size'), '4194304');
    t.same(extraArgs, []);
    for (const p of patterns) t.match(out, p);
  }
  const http = recorderInputUrl('http://192.168.1.20:8001/stream.ts', base.udp);
  t.equal(http.url, 'http://192.168.1.20:8001/stream.ts', 'HTTP URL untouched');
  t.same(http.extraArgs, ['-rw_timeout', '8000000'], 'HTTP reads time out too');
  const argv = buildRecorderArgs({ ...base, url: 'http://192.168.1.20:8001/stream.ts' });
  t.ok(argv.indexOf('-rw_timeout') < argv.indexOf('-i'));
});

t.test('bad requests are typed errors, never a command line', async (t) => {
  const bad: [Partial<RecorderArgsInput>, RegExp][] = [
    [{ url: 'not a url' }, /not a URL/],
    [{ url: 'file:///etc/passwd' }, /unsupported stream URL scheme/],
    [{ serviceId: 0 }, /1–65535/],
    [{ serviceId: 70_000 }, /1–65535/],
    [{ serviceId: 1.5 }, /1–65535/],
    [{ segmentPattern: '/rec/seg.ts' }, /%d counter/],
    [{ segmentPattern: '/rec/%d-%d.ts' }, /%d counter/],
    [{ segmentPattern: 'seg-%05d.ts' }, /absolute/],
    [{ segmentMs: 10 }, /≥ 1000 ms/],
    [{ startNumber: -1 }, /start number/],
    [{ udp: { ...base.udp, timeoutUs: 0 } }, /timeout/],
  ];
  for (const [patch, message] of bad) {
    t.throws(() => buildRecorderArgs({ ...base, ...patch }), {
      name: 'RecorderError',
      code: 'BAD_REQUEST',
      message,
    });
  }
});

t.test('pre-roll lead cuts, then regular segments from the last of them', async (t) => {
  const args = segmentCutArgs({ segmentMs: 10_000, leadCutsMs: [700, 1_700], horizonMs: 25_000 });
  t.equal(args[0], '-segment_times');
  const cuts = (args[1] ?? '').split(',').map(Number);
  t.same(cuts, [0.7, 1.7, 11.7, 21.7, 31.7], 'lead cuts, then every segment length past the horizon');
  const long = segmentCutArgs({ segmentMs: 1_000, leadCutsMs: [3_000], horizonMs: 100 * 86_400_000 });
  t.equal((long[1] ?? '').split(',').length, 1000, 'the listed cuts are capped');
  t.throws(() => segmentCutArgs({ segmentMs: 10_000, leadCutsMs: [MIN_LEAD_MS - 1] }), {
    code: 'BAD_REQUEST',
  });
  t.throws(() => segmentCutArgs({ segmentMs: 10_000, leadCutsMs: [900, 800] }), { code: 'BAD_REQUEST' });
  t.same(segmentCutArgs({ segmentMs: 10_000 }), ['-segment_time', '10.000'], 'no lead: plain segment_time');
  const argv = buildRecorderArgs({ ...base, leadCutsMs: [1_700], horizonMs: 60_000 });
  t.notOk(argv.includes('-segment_time'));
  t.ok(argv.includes('-segment_times'));
  t.same(leadCuts(3_000), [2_200, 2_700], 'cuts 0.8 s and 0.3 s before the planned start');
  t.same(leadCuts(800), [500], 'only the one that fits');
  t.same(leadCuts(500), [], 'too short a lead: no cut');
});

t.test('the bench baseline is a bare copy of the same programme to one file', async (t) => {
  const argv = buildBareCopyArgs('udp://127.0.0.1:5000', 101, '/tmp/bare.ts', base.udp);
  t.equal(after(argv, '-map'), '0:p:101');
  t.equal(after(argv, '-c'), 'copy');
  t.equal(after(argv, '-f'), 'mpegts');
  t.notOk(argv.includes('-progress'));
  t.equal(argv[argv.length - 1], '/tmp/bare.ts');
});
