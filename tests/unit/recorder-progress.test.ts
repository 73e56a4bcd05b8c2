import fc from 'fast-check';
import t from 'tap';
import { type FfmpegLogEvent, FfmpegLogParser } from '../../device/recorder/ffmpeg-log.js';
import { ProgressParser } from '../../device/recorder/progress.js';
import { parseSegmentList } from '../../device/recorder/segments.js';

/** Two blocks as ffmpeg 5.1 printed them with the segment muxer (captured here). */
const CAPTURED = [
  'frame=0',
  'fps=0.00',
  'stream_0_0_q=-1.0',
  'bitrate=N/A',
  'total_size=N/A',
  'out_time_us=0',
  'out_time_ms=0',
  'out_time=00:00:00.000000',
  'dup_frames=0',
  'drop_frames=0',
  'speed=N/A',
  'progress=continue',
  'frame=29',
  'fps=0.00',
  'stream_0_0_q=-1.0',
  'bitrate=N/A',
  'total_size=N/A',
  'out_time_us=1570033',
  'out_time_ms=1570033',
  'out_time=00:00:01.570033',
  'dup_frames=0',
  'drop_frames=0',
  'speed=3.02x',
  'progress=continue',
  'frame=111',
  'bitrate= 412.3kbits/s',
  'total_size=251904',
  'out_time_us=4896000',
  'speed=0.365x',
  'progress=end',
  '',
].join('\n');

t.test('progress blocks: media time, speed, N/A as null, the end marker', async (t) => {
  const blocks = new ProgressParser().push(CAPTURED);
  t.equal(blocks.length, 3);
  t.match(blocks[0], {
    frame: 0,
    totalSize: null,
    outTimeUs: 0,
    speed: null,
    bitrateKbps: null,
    progress: 'continue',
  });
  t.match(blocks[1], { frame: 29, outTimeUs: 1_570_033, speed: 3.02, progress: 'continue' });
  t.match(blocks[2], {
    frame: 111,
    totalSize: 251_904,
    outTimeUs: 4_896_000,
    speed: 0.365,
    bitrateKbps: 412.3,
  });
  t.equal(blocks[2]?.progress, 'end');
  t.equal(blocks[1]?.raw.out_time, '00:00:01.570033', 'every key kept');
});

t.test('any chunking of the pipe gives the same blocks', async (t) => {
  const whole = new ProgressParser().push(CAPTURED);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: CAPTURED.length }), { maxLength: 40 }), (cuts) => {
      const p = new ProgressParser();
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const got = [];
      let from = 0;
      for (const at of [...points, CAPTURED.length]) {
        got.push(...p.push(CAPTURED.slice(from, at)));
        from = at;
      }
      return JSON.stringify(got) === JSON.stringify(whole);
    }),
  );
  t.pass('chunk boundaries do not matter');
});

t.test('CRLF, garbage lines, an unset negative time and an overlong line are survived', async (t) => {
  const p = new ProgressParser();
  const blocks = p.push(
    'garbage without equals\r\nout_time_us=-9223372036854775807\r\nspeed=   0x\r\nprogress=continue\r\n',
  );
  t.equal(blocks.length, 1);
  t.equal(blocks[0]?.outTimeUs, null, 'negative = unset');
  t.equal(blocks[0]?.speed, 0);
  t.equal(p.malformedLines, 1);
  t.same(p.push('x'.repeat(10_000)), []);
  t.equal(p.malformedLines, 2, 'an endless line is dropped, memory stays bounded');
  t.equal(p.push('\nout_time_us=5\nprogress=continue\n')[0]?.outTimeUs, 5, 'and parsing resumes');
});

const STDERR = [
  "[info] Input #0, mpegts, from 'udp://127.0.0.1:5000?fifo_size=50000':",
  '[info]   Duration: N/A, start: 1.429089, bitrate: N/A',
  '[info]   Program 101 ',
  '[info]     Metadata:',
  '[info]       service_name    : A',
  '[info]   Stream #0:0[0x100]: Video: mpeg2video (Main) ([2][0][0][0] / 0x0002), yuv420p(tv, progressive), 160x120',
  '[info]   Stream #0:1[0x101]: Audio: mp2 ([3][0][0][0] / 0x0003), 44100 Hz, mono, fltp, 384 kb/s',
  '[info]   Program 102 ',
  '[info]   Stream #0:2[0x102]: Video: mpeg2video (Main), 160x120',
  '[info]   Stream #0:3[0x103]: Audio: mp2, 44100 Hz, mono, s16p, 384 kb/s',
  '[info]   No Program',
  '[info]   Stream #0:4[0x1ff]: Data: bin_data',
  "[info] Output #0, segment, to '/rec/a/seg-%05d.ts':",
  '[info]   Stream #0:0: Video: mpeg2video (Main), 160x120',
  '[info] Stream mapping:',
  "[segment @ 0x5582054814c0] [info] Opening '/rec/a/.segments-00000.csv' for writing",
  "[segment @ 0x5582054814c0] [info] Opening '/rec/a/seg-00000.ts' for writing",
  '[mpeg2video @ 0x557a95ece4c0] [error] Invalid frame dimensions 0x0.',
  '[mpegts @ 0x557a95ea5a40] [warning] Packet corrupt (stream = 2, dts = 766800).',
  '[warning] udp://127.0.0.1:5602?fifo_size=50000: corrupt input packet in stream 2',
  '[mpegts @ 0x558205431300] [warning] New video stream 0:5 at pos:289896 and DTS:1.4s',
  "[segment @ 0x5582054814c0] [info] Opening '/rec/a/seg-00001.ts' for writing",
  '[error] udp://127.0.0.1:5604?fifo_size=50000&timeout=2000000: Input/output error',
  '',
].join('\n');

t.test(
  'stderr: programmes and their streams, segment openings, corruption, PMT change, errors',
  async (t) => {
    const events = new FfmpegLogParser().push(STDERR);
    t.same(events, [
      {
        type: 'programme',
        programId: 101,
        streams: [
          { index: 0, pid: 0x100 },
          { index: 1, pid: 0x101 },
        ],
      },
      {
        type: 'programme',
        programId: 102,
        streams: [
          { index: 2, pid: 0x102 },
          { index: 3, pid: 0x103 },
        ],
      },
      { type: 'segment_opened', file: '/rec/a/.segments-00000.csv' },
      { type: 'segment_opened', file: '/rec/a/seg-00000.ts' },
      { type: 'corrupt_packet', streamIndex: 2 },
      { type: 'new_stream', kind: 'video', streamIndex: 5 },
      { type: 'segment_opened', file: '/rec/a/seg-00001.ts' },
      {
        type: 'error',
        level: 'error',
        failure: 'input_timeout',
        message: 'udp://127.0.0.1:5604?fifo_size=50000&timeout=2000000: Input/output error',
      },
    ] satisfies FfmpegLogEvent[]);
  },
);

t.test('stderr split anywhere parses the same', async (t) => {
  const whole = new FfmpegLogParser().push(STDERR);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: STDERR.length - 1 }),
      fc.integer({ min: 1, max: 7 }),
      (cut, step) => {
        const p = new FfmpegLogParser();
        const got = [...p.push(STDERR.slice(0, cut))];
        for (let i = cut; i < STDERR.length; i += step) got.push(...p.push(STDERR.slice(i, i + step)));
        got.push(...p.end());
        return JSON.stringify(got) === JSON.stringify(whole);
      },
    ),
    { numRuns: 60 },
  );
  t.pass();
});

t.test('error lines get the reason code the outcome needs', async (t) => {
  const cases: [string, string][] = [
    ["[fatal] Stream map '0:p:999' matches no streams.", 'service_not_found'],
    ['[error] /rec/a/seg-00003.ts: No space left on device', 'disk_full'],
    ['[error] /rec/a/seg-00000.ts: Read-only file system', 'read_only'],
    ['[error] udp://239.1.1.1:5000: Connection refused', 'input_unreachable'],
    ['[error] Error while filtering: Invalid data found', 'error'],
  ];
  for (const [line, failure] of cases) {
    t.match(new FfmpegLogParser().push(`${line}\n`), [{ type: 'error', failure }], line);
  }
  const p = new FfmpegLogParser();
  t.same(p.push('[error] no newline yet'), []);
  t.match(
    p.end(),
    [{ type: 'error', message: 'no newline yet' }],
    'a last unterminated line is flushed at exit',
  );
});

t.test('the csv segment list', async (t) => {
  t.same(
    parseSegmentList('seg-00007.ts,0.000000,2.410022\nseg-00008.ts,2.410022,4.330022\n\nbroken\nx.ts,5,4\n'),
    [
      { file: 'seg-00007.ts', startS: 0, endS: 2.410022 },
      { file: 'seg-00008.ts', startS: 2.410022, endS: 4.330022 },
    ],
  );
  t.same(
    parseSegmentList('"a,b.ts",1,2'),
    [{ file: 'a,b.ts', startS: 1, endS: 2 }],
    'quoted names with commas',
  );
});
