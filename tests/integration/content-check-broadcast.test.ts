/**
 * The content check's ffmpeg arguments (device/detect/content-analysis.ts) on broadcast-like streams, with
 * real ffmpeg: SD MPEG-2 720×576 with B-pictures (IBBP, GOP 12, as satellite SD is sent) and HD H.264.
 * The check skips B-pictures and decodes MPEG-2 at 1/8 size to stay cheap (scripts/bench/content-check.ts);
 * these cases prove it still sees what a viewer sees (DOMAIN.md §6 "Black/silent programme with good RF"):
 * black and silence throughout, a black picture carrying a channel logo, and a window that is only half
 * black (not "throughout"). The simulator's stream has no B-pictures, so the fault tests alone would not
 * show this.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import {
  type ContentReport,
  contentCheckArgs,
  judgeContent,
  parseContentOutput,
} from '../../device/detect/content-analysis.js';

/** Windows checked: the short test profile's 2 s, and 6 s (production is 10 s). */
const WINDOWS_MS = [2000, 6000];
/** Length of every clip, s. */
const CLIP_S = 7;

function ffmpeg(args: string[], input?: Buffer): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
    p.stdin.on('error', () => undefined);
    p.stdin.end(input ?? Buffer.alloc(0));
  });
}

const SD = [
  '-c:v',
  'mpeg2video',
  '-b:v',
  '4M',
  '-maxrate',
  '4M',
  '-bufsize',
  '1835k',
  '-g',
  '12',
  '-bf',
  '2',
];
const HD = ['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', '-g', '25', '-bf', '2'];

/** Encodes `seconds` of `video` (lavfi) and `audio` (lavfi) to MPEG-TS with service id 101. */
async function clip(
  dir: string,
  name: string,
  video: string,
  audio: string,
  codec: string[],
  seconds = CLIP_S,
): Promise<Buffer> {
  const file = path.join(dir, `${name}.ts`);
  const r = await ffmpeg([
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', video, '-f', 'lavfi', '-i', audio],
    ...['-t', String(seconds), ...codec, '-c:a', 'mp2', '-b:a', '192k'],
    ...['-f', 'mpegts', '-mpegts_service_id', '101', '-y', file],
  ]);
  if (r.code !== 0) throw new Error(`encoding ${name} failed: ${r.err}`);
  return readFile(file);
}

/** The same check decoding every picture at full size (what it did before it was made cheaper). */
function fullDecodeArgs(windowMs: number): string[] {
  const a = contentCheckArgs(windowMs);
  for (const opt of ['-skip_frame:v', '-lowres:v']) {
    const i = a.indexOf(opt);
    if (i < 0) throw new Error(`the check no longer passes ${opt}: update this test`);
    a.splice(i, 2);
  }
  return a;
}

/**
 * The check as the station runs it: the newest `windowMs`×1.25 of the stream, sized at the bitrate the
 * recorder measures (here: the clip's own average), piped to ffmpeg.
 */
async function check(ts: Buffer, windowMs: number, full = false): Promise<ContentReport> {
  const bitrateBps = (ts.length * 8) / CLIP_S;
  const want = Math.ceil(((bitrateBps / 8) * windowMs * 1.25) / 1000);
  const from = Math.max(0, ts.length - want - ((ts.length - want) % 188));
  const args = full ? fullDecodeArgs(windowMs * 2) : contentCheckArgs(windowMs * 2);
  const r = await ffmpeg(args, ts.subarray(from));
  return parseContentOutput(r.err, r.out);
}

t.test('broadcast-like streams: the cheap decode still sees black and silence', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'content-bc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const sd = (v: string) => `${v},format=yuv420p`;
  const picture = sd('testsrc2=size=720x576:rate=25');
  const black = sd('color=c=black:size=720x576:rate=25');
  const tone = 'sine=frequency=1000:sample_rate=48000';
  const silence = 'anullsrc=channel_layout=stereo:sample_rate=48000';
  const clips = {
    normal: await clip(dir, 'normal', picture, tone, SD),
    blackSilent: await clip(dir, 'black-silent', black, silence, SD),
    // A broadcaster's black with its channel logo still on (≈ 0.5 % of the picture): black to a viewer.
    blackLogo: await clip(
      dir,
      'black-logo',
      sd('color=c=black:size=720x576:rate=25,drawbox=x=620:y=40:w=60:h=40:color=white:t=fill'),
      tone,
      SD,
    ),
    // The picture comes back for the newest part of the window: not black "throughout".
    halfBlack: await clip(
      dir,
      'half-black',
      sd('testsrc2=size=720x576:rate=25,drawbox=c=black:t=fill:enable=lt(t\\,5.5)'),
      tone,
      SD,
    ),
    hdBlackSilent: await clip(dir, 'hd-black', sd('color=c=black:size=1280x720:rate=25'), silence, HD),
    hdNormal: await clip(dir, 'hd-normal', sd('testsrc2=size=1280x720:rate=25'), tone, HD),
  };
  const cases: [keyof typeof clips, { black: boolean; silent: boolean }][] = [
    ['normal', { black: false, silent: false }],
    ['blackSilent', { black: true, silent: true }],
    ['blackLogo', { black: true, silent: false }],
    ['halfBlack', { black: false, silent: false }],
    ['hdBlackSilent', { black: true, silent: true }],
    ['hdNormal', { black: false, silent: false }],
  ];
  for (const windowMs of WINDOWS_MS) {
    for (const [name, want] of cases) {
      const r = await check(clips[name], windowMs);
      const full = await check(clips[name], windowMs, true);
      const v = judgeContent(r);
      t.ok(
        r.frames > 0 && r.hasVideo && r.hasAudio,
        `${name} (${windowMs} ms): pictures decoded (${r.frames})`,
      );
      t.same(v, judgeContent(full), `${name} (${windowMs} ms): same verdict as decoding every picture`);
      // A 2 s window of a stream whose GOP is 1 s loses up to a GOP before its first picture either way
      // (the short test profile only); the production-sized window must be right on every stream.
      if (windowMs >= 6000)
        t.same(v, { ...want, undecodable: false }, `${name} (${windowMs} ms window): ${JSON.stringify(r)}`);
    }
  }
});
