/**
 * The content check's pure core (device/detect/content-analysis.ts): ffmpeg's blackdetect / silencedetect
 * log and `-progress` output → a report → a verdict, table-driven on output captured from ffmpeg 5.1 on
 * black/silent, normal and garbled windows.
 */
import t from 'tap';
import { contentCheckArgs, judgeContent, parseContentOutput } from '../../device/detect/content-analysis.js';

const STREAMS = `Input #0, mpegts, from 'pipe:0':
  Duration: N/A, start: 2.300000, bitrate: N/A
  Program 101
  Stream #0:0[0x100]: Video: mpeg2video (Main) ([2][0][0][0] / 0x0002), yuv420p(tv, progressive), 320x240 [SAR 1:1 DAR 4:3], 25 fps, 25 tbr, 90k tbn
  Stream #0:1[0x101]: Audio: mp2 ([3][0][0][0] / 0x0003), 48000 Hz, mono, fltp, 64 kb/s
Stream mapping:
  Stream #0:0 -> #0:0 (mpeg2video (native) -> wrapped_avframe (native))
`;
const BLACK_SILENT = `${STREAMS}[silencedetect @ 0x5587] silence_start: 0
[blackdetect @ 0x5586] black_start:0.290022 black_end:2.09002 black_duration:1.8
[silencedetect @ 0x5587] silence_end: 2.04 | silence_duration: 2.04
`;
const PROGRESS_2S =
  'frame=7\nout_time_us=280000\nprogress=continue\nframe=43\nout_time_us=2000000\nprogress=end\n';
const GARBLED = `Input #0, mpegts, from 'pipe:0':
  Stream #0:0[0x100]: Video: mpeg2video ([2][0][0][0] / 0x0002), none(tv), 90k tbr, 90k tbn
  Stream #0:1[0x101]: Audio: mp3 ([3][0][0][0] / 0x0003), 0 channels, fltp
Output #0, null, to 'pipe:':
Output file #0 does not contain any stream
`;
const RADIO = `Input #0, mpegts, from 'pipe:0':
  Stream #0:0[0x101]: Audio: mp2 ([3][0][0][0] / 0x0003), 48000 Hz, mono, fltp, 64 kb/s
`;

t.test('parse: black and silence spans, streams, frames and media time', async (t) => {
  t.same(parseContentOutput(BLACK_SILENT, PROGRESS_2S), {
    hasVideo: true,
    hasAudio: true,
    frames: 43,
    mediaMs: 2000,
    blackMs: 1800,
    silentMs: 2040,
  });
  t.same(parseContentOutput(`${STREAMS}`, 'frame=25\nout_time_us=1488000\n'), {
    hasVideo: true,
    hasAudio: true,
    frames: 25,
    mediaMs: 1488,
    blackMs: 0,
    silentMs: 0,
  });
  t.same(
    parseContentOutput('', ''),
    {
      hasVideo: false,
      hasAudio: false,
      frames: 0,
      mediaMs: 0,
      blackMs: 0,
      silentMs: 0,
    },
    'nothing at all (ffmpeg died) parses to an empty report, never a throw',
  );
  const several = `${STREAMS}[blackdetect @ 0x1] black_start:0 black_end:1 black_duration:1\n[blackdetect @ 0x1] black_start:1.2 black_end:2 black_duration:0.8\n`;
  t.equal(parseContentOutput(several, PROGRESS_2S).blackMs, 1800, 'spans add up');
  t.equal(parseContentOutput('black_duration:nonsense\n', 'frame=x\n').blackMs, 0, 'junk is ignored');
});

const cases: [string, string, string, { black: boolean; silent: boolean; undecodable: boolean }][] = [
  [
    'black and silent throughout',
    BLACK_SILENT,
    PROGRESS_2S,
    { black: true, silent: true, undecodable: false },
  ],
  [
    'normal picture and tone',
    STREAMS,
    'frame=25\nout_time_us=1488000\n',
    { black: false, silent: false, undecodable: false },
  ],
  [
    'black only half of the window',
    `${STREAMS}[blackdetect @ 0x1] black_start:0 black_end:1 black_duration:1\n`,
    PROGRESS_2S,
    { black: false, silent: false, undecodable: false },
  ],
  [
    'silent, picture fine',
    `${STREAMS}[silencedetect @ 0x1] silence_end: 2 | silence_duration: 2\n`,
    PROGRESS_2S,
    { black: false, silent: true, undecodable: false },
  ],
  [
    'garbled (scrambled) video: not one picture',
    GARBLED,
    '',
    { black: false, silent: false, undecodable: true },
  ],
  [
    'a radio service has no video: never undecodable',
    RADIO,
    'frame=0\nout_time_us=2000000\n',
    { black: false, silent: false, undecodable: false },
  ],
  [
    'too short a window says nothing about black',
    `${STREAMS}[blackdetect @ 0x1] black_start:0 black_end:0.1 black_duration:0.1\n`,
    'frame=2\nout_time_us=80000\n',
    { black: false, silent: false, undecodable: false },
  ],
];
for (const [name, stderr, progress, want] of cases) {
  t.test(`judge: ${name}`, async (t) => {
    t.same(judgeContent(parseContentOutput(stderr, progress)), want);
  });
}

t.test('args: one thread, bounded media, stdin in, no output file', async (t) => {
  const a = contentCheckArgs(2000);
  t.equal(a[a.indexOf('-threads') + 1], '1');
  t.equal(a[a.indexOf('-t') + 1], '2.000');
  t.equal(a[a.indexOf('-i') + 1], 'pipe:0');
  t.match(a[a.indexOf('-vf') + 1], /blackdetect=/);
  t.match(a[a.indexOf('-af') + 1], /silencedetect=n=-60dB/);
  t.same(a.slice(-3), ['-f', 'null', '-'], 'decodes to nowhere');
});
