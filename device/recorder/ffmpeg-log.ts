/**
 * Parser of the recorder's ffmpeg stderr at `-loglevel level+info` (see ffmpeg-args.ts). It turns the lines
 * the recorder acts on into typed events; everything else is ignored. Pure and incremental.
 *
 * What the lines mean (ffmpeg 5.1, checked here against a real UDP source):
 * - `[segment @ 0x…] [info] Opening '/rec/seg-00003.ts' for writing` — a segment opened (the previous one
 *   of the run is then closed). The csv segment list is opened the same way; the caller tells them apart.
 * - The input dump: `  Program 101` followed by `  Stream #0:0[0x100]: Video: …` — which input streams (and
 *   PIDs) belong to which programme, so corruption is counted for the recorded programme only.
 * - `[mpegts @ 0x…] [warning] Packet corrupt (stream = 0, dts = …)` — a PES packet with a continuity-counter
 *   error in it (the per-TS-packet "Continuity check failed" lines exist only at debug level).
 * - `[warning] New video stream 0:2 at pos:…` — a stream that was not in the PMT at start appeared: the
 *   programme's PMT changed (PIDs reshuffled, DOMAIN.md §6). ffmpeg drops such packets, so the recorder
 *   starts a new run — and a new segment — to pick the new PIDs up by programme number.
 * - `[error]`/`[fatal]` lines — kept as the last error, with a reason code for the ones that decide an outcome.
 */

export type FfmpegLogLevel = 'panic' | 'fatal' | 'error' | 'warning' | 'info' | 'verbose' | 'debug' | 'trace';

/** Reason codes derived from ffmpeg's error lines. */
export type FfmpegFailure =
  | 'service_not_found'
  | 'disk_full'
  | 'read_only'
  | 'input_timeout'
  | 'input_unreachable'
  | 'error';

export type FfmpegLogEvent =
  | { type: 'segment_opened'; file: string }
  | { type: 'programme'; programId: number; streams: { index: number; pid: number }[] }
  | { type: 'corrupt_packet'; streamIndex: number }
  | { type: 'new_stream'; kind: string; streamIndex: number }
  | { type: 'error'; level: FfmpegLogLevel; failure: FfmpegFailure; message: string };

const LEVEL = /\[(panic|fatal|error|warning|info|verbose|debug|trace)\] /;
const OPENING = /Opening '(.+)' for writing$/;
const PROGRAM = /^\s+Program (\d+)\s*$/;
const STREAM = /^\s+Stream #0:(\d+)\[0x([0-9a-fA-F]+)\]/;
const CORRUPT = /Packet corrupt \(stream = (\d+),/;
const NEW_STREAM = /New (\w+) stream 0:(\d+) /;
/** Decoder complaints while probing a stream joined mid-GOP; harmless with `-c copy`. */
const PROBE_NOISE = /^\[(mpeg2video|h264|hevc|mpegvideo|mp2|aac|ac3) @ [^\]]+\] \[error\]/;

const MAX_LINE = 8192;

function classify(message: string): FfmpegFailure {
  if (/matches no streams/.test(message)) return 'service_not_found';
  if (/No space left on device/i.test(message)) return 'disk_full';
  if (/Read-only file system/i.test(message)) return 'read_only';
  if (/Input\/output error|Connection timed out|timed out/i.test(message)) return 'input_timeout';
  if (/Connection refused|Name or service not known|Network is unreachable|No route to host/i.test(message)) {
    return 'input_unreachable';
  }
  return 'error';
}

export class FfmpegLogParser {
  private buffer = '';
  /** Inside the `Input #0` dump: the programme whose streams are being listed. */
  private inInput = false;
  private program: { programId: number; streams: { index: number; pid: number }[] } | null = null;

  push(chunk: string): FfmpegLogEvent[] {
    this.buffer += chunk;
    const events: FfmpegLogEvent[] = [];
    let nl = this.buffer.search(/[\r\n]/);
    while (nl !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.length > 0) this.line(line, events);
      nl = this.buffer.search(/[\r\n]/);
    }
    if (this.buffer.length > MAX_LINE) this.buffer = '';
    return events;
  }

  /** Flushes a final unterminated line (at process exit). */
  end(): FfmpegLogEvent[] {
    const events: FfmpegLogEvent[] = [];
    if (this.buffer.length > 0) this.line(this.buffer, events);
    this.buffer = '';
    this.closeProgram(events);
    return events;
  }

  private closeProgram(events: FfmpegLogEvent[]): void {
    if (this.program) events.push({ type: 'programme', ...this.program });
    this.program = null;
  }

  private line(line: string, events: FfmpegLogEvent[]): void {
    const lm = LEVEL.exec(line);
    const level = (lm?.[1] ?? 'info') as FfmpegLogLevel;
    const body = lm ? line.slice((lm.index ?? 0) + lm[0].length) : line;

    if (level === 'info') {
      if (/^Input #0, /.test(body)) {
        this.inInput = true;
        return;
      }
      if (this.inInput) {
        const p = PROGRAM.exec(body);
        if (p) {
          this.closeProgram(events);
          this.program = { programId: Number(p[1]), streams: [] };
          return;
        }
        if (/^\s+No Program\s*$/.test(body)) {
          // Streams listed after this belong to no programme: not ours.
          this.closeProgram(events);
          return;
        }
        const s = STREAM.exec(body);
        if (s) {
          this.program?.streams.push({ index: Number(s[1]), pid: Number.parseInt(s[2] ?? '0', 16) });
          return;
        }
        if (/^(Output #|Stream mapping:)/.test(body)) {
          this.closeProgram(events);
          this.inInput = false;
        }
      }
      const o = OPENING.exec(body);
      if (o?.[1]) events.push({ type: 'segment_opened', file: o[1] });
      return;
    }
    if (level === 'warning') {
      const c = CORRUPT.exec(body);
      if (c) {
        events.push({ type: 'corrupt_packet', streamIndex: Number(c[1]) });
        return;
      }
      const n = NEW_STREAM.exec(body);
      if (n) events.push({ type: 'new_stream', kind: n[1] ?? 'unknown', streamIndex: Number(n[2]) });
      return;
    }
    if (level === 'error' || level === 'fatal' || level === 'panic') {
      if (PROBE_NOISE.test(line)) return;
      events.push({ type: 'error', level, failure: classify(body), message: body.trim().slice(0, 300) });
    }
  }
}
