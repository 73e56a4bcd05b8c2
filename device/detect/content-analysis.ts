/**
 * The content check's pure core (DOMAIN.md §4: "black/silence detection (`blackdetect`, `silencedetect`)
 * as a separate analysis"): the ffmpeg arguments that decode a short window of the newest recorded media
 * with bounded CPU, and the parser that turns ffmpeg's output into a verdict.
 *
 * ffmpeg (5.x) reports through its log: `[blackdetect @ …] black_start:0.01 black_end:2.09
 * black_duration:2.08` (also for a black span still open at the end of the input), `[silencedetect @ …]
 * silence_start: 0` and `silence_end: 2.04 | silence_duration: 2.04` (an open span is closed at the end),
 * and its input streams as `Stream #0:0[0x100]: Video: …`. `-progress pipe:1` writes `frame=` and
 * `out_time_us=` to stdout: how many pictures were decoded and how much media was.
 */

/** Thresholds of the analysis (ffmpeg filter options). */
export interface ContentThresholds {
  /** blackdetect `pix_th`: a pixel darker than this share of the range is black (ffmpeg default 0.10). */
  pixelBlack: number;
  /** blackdetect `pic_th`: share of black pixels that makes a picture black (ffmpeg default 0.98). */
  pictureBlack: number;
  /** silencedetect `n`: audio below this level (dBFS) is silence. */
  silenceDb: number;
  /** Share of the decoded window that must be black / silent for "throughout" (gaps at the edges). */
  coverage: number;
}

export const DEFAULT_CONTENT_THRESHOLDS: Readonly<ContentThresholds> = {
  pixelBlack: 0.1,
  pictureBlack: 0.98,
  silenceDb: -60,
  coverage: 0.8,
};

/**
 * ffmpeg arguments to analyse a window of MPEG-TS read from stdin. One thread, `-t` bounding the media
 * decoded, no output file (`-f null`). The detector needs neither every picture nor full resolution, and
 * decoding was most of the check's CPU (scripts/bench/content-check.ts, 8 Mbit/s SD MPEG-2 IBBP, one 10 s
 * window every 60 s: 0.47 CPU s per check = 1.2× the recorder's own ffmpeg when every picture was decoded
 * at full size; 0.16 CPU s = 0.39× like this, of which ~0.05 s is ffmpeg's start-up):
 * - `-skip_frame:v bidir`: B-pictures are not decoded (2 of 3 in a broadcast IBBP GOP); I and P still
 *   come every few frames, so "black throughout" keeps its resolution even in a 2 s window;
 * - `-lowres:v 3`: MPEG-2 is decoded at 1/8 size (720×576 → 90×72) by a reduced IDCT, i.e. block
 *   averages: a black picture stays black. Decoders without lowres (H.264) ignore it, and the scale to at
 *   most 160 pixels wide bounds the detector's work for them.
 */
export function contentCheckArgs(
  windowMs: number,
  t: ContentThresholds = DEFAULT_CONTENT_THRESHOLDS,
): string[] {
  const seconds = (Math.max(100, windowMs) / 1000).toFixed(3);
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    '-threads',
    '1',
    '-skip_frame:v',
    'bidir',
    '-lowres:v',
    '3',
    '-f',
    'mpegts',
    '-i',
    'pipe:0',
    '-t',
    seconds,
    '-filter_threads',
    '1',
    '-vf',
    `scale=w='min(160,iw)':h=-2,blackdetect=d=0.1:pix_th=${t.pixelBlack}:pic_th=${t.pictureBlack}`,
    '-af',
    `silencedetect=n=${t.silenceDb}dB:d=0.1`,
    '-progress',
    'pipe:1',
    '-f',
    'null',
    '-',
  ];
}

/** What one analysed window showed. */
export interface ContentReport {
  /** The input had a video / audio elementary stream (PMT). */
  hasVideo: boolean;
  hasAudio: boolean;
  /** Pictures decoded. */
  frames: number;
  /** Media decoded, ms. */
  mediaMs: number;
  /** Total black / silent time reported, ms. */
  blackMs: number;
  silentMs: number;
}

const num = (s: string | undefined) => (s === undefined ? Number.NaN : Number(s));

/** Parses ffmpeg's log (stderr) and progress output (stdout) of one check. Never throws. */
export function parseContentOutput(stderr: string, progress: string): ContentReport {
  const r: ContentReport = {
    hasVideo: false,
    hasAudio: false,
    frames: 0,
    mediaMs: 0,
    blackMs: 0,
    silentMs: 0,
  };
  for (const line of stderr.split(/\r?\n/)) {
    const stream = /^\s*Stream #0:\d+.*?: (Video|Audio):/.exec(line);
    if (stream) {
      if (stream[1] === 'Video') r.hasVideo = true;
      else r.hasAudio = true;
      continue;
    }
    const black = /black_duration:\s*([0-9.]+)/.exec(line);
    if (black) {
      const d = num(black[1]);
      if (Number.isFinite(d)) r.blackMs += d * 1000;
      continue;
    }
    const silence = /silence_duration:\s*([0-9.]+)/.exec(line);
    if (silence) {
      const d = num(silence[1]);
      if (Number.isFinite(d)) r.silentMs += d * 1000;
    }
  }
  for (const line of progress.split(/\r?\n/)) {
    const [key, value] = line.split('=', 2);
    if (key === 'frame') {
      const n = num(value);
      if (Number.isFinite(n)) r.frames = Math.max(r.frames, n);
    } else if (key === 'out_time_us') {
      const n = num(value);
      if (Number.isFinite(n)) r.mediaMs = Math.max(r.mediaMs, n / 1000);
    }
  }
  r.blackMs = Math.round(r.blackMs);
  r.silentMs = Math.round(r.silentMs);
  r.mediaMs = Math.round(r.mediaMs);
  return r;
}

/** The verdict on one window. */
export interface ContentVerdict {
  /** Picture black throughout the decoded window. */
  black: boolean;
  /** Sound silent throughout. */
  silent: boolean;
  /** The window carries a video stream but not one picture could be decoded (scrambled, or garbage). */
  undecodable: boolean;
}

/** Judges a report (pure). A window shorter than a few frames says nothing. */
export function judgeContent(
  r: ContentReport,
  t: ContentThresholds = DEFAULT_CONTENT_THRESHOLDS,
): ContentVerdict {
  const enough = r.mediaMs >= 200;
  return {
    black: enough && r.hasVideo && r.frames > 0 && r.blackMs >= r.mediaMs * t.coverage,
    silent: enough && r.hasAudio && r.silentMs >= r.mediaMs * t.coverage,
    undecodable: r.hasVideo && r.frames === 0,
  };
}
