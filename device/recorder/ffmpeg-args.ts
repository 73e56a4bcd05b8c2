/**
 * Pure builder of the recorder's ffmpeg command line (STYLE.md §4: pure core, tested table-driven).
 * Every choice here answers a fact in DOMAIN.md §4 or DESIGN.md §3's ffmpeg notes:
 * - `-c copy`: no transcoding (~2 % of a core at 8 Mbit/s).
 * - `-map 0:p:<sid>`: the service by programme number, never by PID (PIDs get reshuffled).
 * - `-analyzeduration 1000000 -probesize 1000000`: first output after ~1.2 s instead of ~5 s.
 * - UDP `timeout=<µs>`: a vanished source makes ffmpeg fail instead of hanging for good; `fifo_size`
 *   (in 188-byte units), `overrun_nonfatal=1` and `buffer_size` ride out bursts.
 * - the segment muxer with `-segment_list` (csv) so every closed segment and its media times are known;
 *   `mpegts_service_id` keeps the recorded programme number = the service id. `flush_packets=1`: without
 *   it the muxer writes in 256–768 KiB blocks — seconds apart on a low-rate service (5 s at 0.4 Mbit/s) —
 *   so the file-growth liveness and the live bitrate in telemetry read "0 bit/s" between blocks and the
 *   headend raised false `stream_frozen` alarms on healthy recordings; a power cut also loses less. Cost
 *   measured at 8 Mbit/s over 4×30 s: 0.345 vs 0.34 CPU-s per 30 s (user+sys), within noise of the DESIGN.md
 *   §8 budget (1.1× a bare copy); an earlier measurement here saw ~5–7 %. The watchdog also reads
 *   liveness from the progress blocks' media time.
 * - `-loglevel level+info`: segment openings, the input's programme/PID table, "Packet corrupt" and
 *   "New … stream" (PMT change) lines, each tagged with its level. Continuity-check lines themselves are
 *   only logged at debug level, where the segment muxer also logs every packet — too much to parse.
 * - `-progress pipe:1 -nostats`: machine-readable progress blocks on stdout.
 */
import { RecorderError } from './errors.js';

/** UDP input options (DOMAIN.md §4). */
export interface UdpInputOptions {
  /** Circular buffer, in 188-byte packets. */
  fifoSize: number;
  /** Read timeout, microseconds: no data for this long ends ffmpeg's input. */
  timeoutUs: number;
  /** Socket receive buffer, bytes. */
  bufferSize: number;
}

export interface RecorderArgsInput {
  /** The receiver's MPEG-TS output: `udp://` / `rtp://` (multicast allowed) or `http(s)://`. */
  url: string;
  /** DVB service id = programme number in the PAT (1–65535). */
  serviceId: number;
  /** Absolute path pattern of segment files, with one `%0Nd` counter, e.g. `/rec/a/seg-%05d.ts`. */
  segmentPattern: string;
  /** Absolute path of this run's csv segment list. */
  segmentListPath: string;
  /** Segment length in ms (cut at the next keyframe after it). */
  segmentMs: number;
  /**
   * Pre-roll (DESIGN.md §6: the recorder starts before the planned start so ffmpeg's ~1.2 s probe is not
   * lost): media times, ms into this run, of cuts placed before the planned start (the recorder uses one).
   * The muxer cuts at the next keyframe; the recorder drops or trims the lead piece, so the recording proper
   * begins at the planned start. Regular cuts follow every `segmentMs` from the last lead cut up to
   * `horizonMs`, after which the last segment simply grows.
   * Omit for a run without a lead (a restart).
   */
  leadCutsMs?: readonly number[];
  /** How far ahead (ms into the run) to list regular cuts when `leadCutsMs` is set. */
  horizonMs?: number;
  /** Number of the first segment of this run (runs after a restart continue the numbering). */
  startNumber: number;
  udp: UdpInputOptions;
}

/** Defaults for the UDP input: ~9.4 MB fifo (≈ 9 s at 8 Mbit/s), 4 MB socket buffer. */
export const DEFAULT_UDP_OPTIONS: Omit<UdpInputOptions, 'timeoutUs'> = {
  fifoSize: 50_000,
  bufferSize: 4 * 1024 * 1024,
};

const UDP_SCHEMES = new Set(['udp:', 'rtp:']);
const HTTP_SCHEMES = new Set(['http:', 'https:']);

/** The input URL with the options that matter for its scheme merged in (existing ones are overridden). */
export function recorderInputUrl(url: string, udp: UdpInputOptions): { url: string; extraArgs: string[] } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RecorderError('BAD_REQUEST', `stream URL is not a URL: ${JSON.stringify(url)}`);
  }
  if (UDP_SCHEMES.has(parsed.protocol)) {
    parsed.searchParams.set('fifo_size', String(udp.fifoSize));
    parsed.searchParams.set('overrun_nonfatal', '1');
    parsed.searchParams.set('timeout', String(udp.timeoutUs));
    parsed.searchParams.set('buffer_size', String(udp.bufferSize));
    return { url: parsed.toString(), extraArgs: [] };
  }
  if (HTTP_SCHEMES.has(parsed.protocol)) {
    // HTTP has no `timeout=` URL option for reads; the generic protocol option does the same job.
    return { url, extraArgs: ['-rw_timeout', String(udp.timeoutUs)] };
  }
  throw new RecorderError(
    'BAD_REQUEST',
    `unsupported stream URL scheme ${parsed.protocol} (udp, rtp, http, https)`,
  );
}

function checkInput(i: RecorderArgsInput): void {
  if (!Number.isInteger(i.serviceId) || i.serviceId < 1 || i.serviceId > 65535) {
    throw new RecorderError('BAD_REQUEST', `service id must be an integer 1–65535, got ${i.serviceId}`);
  }
  if (!/%0?\d*d/.test(i.segmentPattern) || (i.segmentPattern.match(/%/g) ?? []).length !== 1) {
    throw new RecorderError(
      'BAD_REQUEST',
      `segment pattern needs exactly one %d counter: ${i.segmentPattern}`,
    );
  }
  if (!i.segmentPattern.startsWith('/') || !i.segmentListPath.startsWith('/')) {
    throw new RecorderError('BAD_REQUEST', 'segment pattern and list must be absolute paths');
  }
  if (!Number.isFinite(i.segmentMs) || i.segmentMs < 1000) {
    throw new RecorderError('BAD_REQUEST', `segment length must be ≥ 1000 ms, got ${i.segmentMs}`);
  }
  if (!Number.isInteger(i.startNumber) || i.startNumber < 0) {
    throw new RecorderError('BAD_REQUEST', `segment start number must be a non-negative integer`);
  }
  if (!Number.isInteger(i.udp.timeoutUs) || i.udp.timeoutUs <= 0) {
    throw new RecorderError('BAD_REQUEST', 'UDP timeout must be a positive number of microseconds');
  }
}

/** A lead cut earlier than this is not worth making (a quarter of a second of pre-roll). */
export const MIN_LEAD_MS = 250;
/** At most this many listed cuts (a 10-minute segment list then covers about a week). */
const MAX_LISTED_CUTS = 1000;

/**
 * The segment muxer's cut options: regular `-segment_time`, or lead cuts then regular ones, listed. The
 * muxer consumes one listed time per segment, so lead cuts closer together than the stream's GOP would lag
 * and go on cutting past the planned start: keep them at least a GOP (a second) apart.
 */
export function segmentCutArgs(
  input: Pick<RecorderArgsInput, 'segmentMs' | 'leadCutsMs' | 'horizonMs'>,
): string[] {
  const lead = input.leadCutsMs ?? [];
  if (lead.length === 0) return ['-segment_time', (input.segmentMs / 1000).toFixed(3)];
  lead.forEach((c, i) => {
    if (!Number.isFinite(c) || c < MIN_LEAD_MS || (i > 0 && c <= (lead[i - 1] ?? 0))) {
      throw new RecorderError(
        'BAD_REQUEST',
        `lead cuts must be ascending and ≥ ${MIN_LEAD_MS} ms: ${lead.join(',')}`,
      );
    }
  });
  const cuts: number[] = [...lead];
  const last = lead[lead.length - 1] ?? 0;
  const horizon = Math.max(input.horizonMs ?? 0, last);
  for (
    let t = last + input.segmentMs;
    t <= horizon + input.segmentMs && cuts.length < MAX_LISTED_CUTS;
    t += input.segmentMs
  ) {
    cuts.push(t);
  }
  return ['-segment_times', cuts.map((t) => (t / 1000).toFixed(3)).join(',')];
}

/**
 * Lead cuts (media ms into the first run) for a planned start `leadMs` after spawn: 0.8 s and 0.3 s before
 * it. Media time 0 is when ffmpeg read its first packet — a few hundred ms after spawn, more under load —
 * and the muxer cuts at the next keyframe (up to a GOP later, ~0.5 s in broadcast MPEG-2), so a cut may land
 * after the planned start. The segment closer drops every lead piece that ends by the planned start: the
 * recording then begins at the latest cut before it, usually within 0.3 s, else within 0.8 s (+ a GOP), at
 * worst with the whole pre-roll. Half a second apart: closer cuts would lag behind the keyframes.
 */
export function leadCuts(leadMs: number): number[] {
  return LEAD_MARGINS_MS.map((m) => leadMs - m).filter((c) => c >= MIN_LEAD_MS);
}

/** How far before the planned start the lead cuts are placed, earliest first. */
const LEAD_MARGINS_MS = [800, 300];

/** The argv (without the program name) of one recorder run. Throws RecorderError BAD_REQUEST. */
export function buildRecorderArgs(input: RecorderArgsInput): string[] {
  checkInput(input);
  const { url, extraArgs } = recorderInputUrl(input.url, input.udp);
  const sid = String(input.serviceId);
  return [
    '-hide_banner',
    '-loglevel',
    'level+info',
    '-nostats',
    '-progress',
    'pipe:1',
    '-stats_period',
    '0.5',
    '-analyzeduration',
    '1000000',
    '-probesize',
    '1000000',
    ...extraArgs,
    '-i',
    url,
    '-map',
    `0:p:${sid}`,
    // Data streams of unknown type in the programme must not make the whole recording fail.
    '-ignore_unknown',
    '-c',
    'copy',
    '-f',
    'segment',
    ...segmentCutArgs(input),
    '-segment_start_number',
    String(input.startNumber),
    '-reset_timestamps',
    '1',
    '-segment_list',
    input.segmentListPath,
    '-segment_list_type',
    'csv',
    '-segment_format',
    'mpegts',
    '-segment_format_options',
    // flush_packets: see the header (live bitrate and file-growth liveness without multi-second bursts).
    `mpegts_service_id=${sid}:flush_packets=1`,
    '-y',
    input.segmentPattern,
  ];
}

/** The argv of a bare `ffmpeg -c copy` of the same stream to one file: the CPU baseline of the bench. */
export function buildBareCopyArgs(
  url: string,
  serviceId: number,
  outFile: string,
  udp: UdpInputOptions,
): string[] {
  const input = recorderInputUrl(url, udp);
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostats',
    ...input.extraArgs,
    '-i',
    input.url,
    '-map',
    `0:p:${serviceId}`,
    '-c',
    'copy',
    '-f',
    'mpegts',
    '-y',
    outFile,
  ];
}
