/**
 * Parser of ffmpeg's `-progress` output (DESIGN.md §3: spawn ffmpeg directly and parse `-progress pipe:1`).
 * ffmpeg writes `key=value` lines and ends each block with `progress=continue` or `progress=end`. Chunks
 * from a pipe split lines anywhere, so the parser is incremental; unknown keys are kept in `raw`, and
 * values ffmpeg prints as `N/A` (e.g. `total_size` with the segment muxer, which has no single output
 * file) become null. Pure: no I/O, no timers.
 */

export interface ProgressBlock {
  /** Video frames (packets, with `-c copy`) written so far; null when absent. */
  frame: number | null;
  /** Bytes of the output file; null with the segment muxer (N/A). */
  totalSize: number | null;
  /** Media time written so far, µs; null when unknown (N/A or ffmpeg's negative "unset" value). */
  outTimeUs: number | null;
  /** Processing speed relative to real time (1 = real time); null when N/A. */
  speed: number | null;
  /** Output bitrate in kbit/s; null when N/A. */
  bitrateKbps: number | null;
  /** `end` on the last block of a run. */
  progress: 'continue' | 'end';
  /** Every key of the block as printed. */
  raw: Record<string, string>;
}

/** Lines longer than this are garbage (ffmpeg's are < 100 chars); dropped so memory stays bounded. */
const MAX_LINE = 4096;

function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const t = v.trim();
  if (t === '' || t === 'N/A') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function toBlock(raw: Record<string, string>, progress: 'continue' | 'end'): ProgressBlock {
  const outTime = num(raw.out_time_us) ?? num(raw.out_time_ms); // out_time_ms is µs too (an ffmpeg misnomer)
  const speed = raw.speed === undefined ? null : num(raw.speed.trim().replace(/x$/, ''));
  const bitrate = raw.bitrate === undefined ? null : num(raw.bitrate.trim().replace(/kbits\/s$/, ''));
  return {
    frame: num(raw.frame),
    totalSize: num(raw.total_size),
    outTimeUs: outTime !== null && outTime >= 0 ? outTime : null,
    speed,
    bitrateKbps: bitrate,
    progress,
    raw,
  };
}

export class ProgressParser {
  private buffer = '';
  private current: Record<string, string> = {};
  /** Lines that were not `key=value` (counted, not fatal). */
  malformedLines = 0;

  /** Feeds a chunk; returns the blocks it completed, in order. */
  push(chunk: string): ProgressBlock[] {
    this.buffer += chunk;
    const blocks: ProgressBlock[] = [];
    let nl = this.buffer.indexOf('\n');
    while (nl !== -1) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const block = this.line(line);
      if (block) blocks.push(block);
      nl = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > MAX_LINE) {
      this.buffer = '';
      this.malformedLines++;
    }
    return blocks;
  }

  private line(line: string): ProgressBlock | null {
    if (line.length === 0) return null;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      this.malformedLines++;
      return null;
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1);
    if (key === 'progress') {
      const state = value.trim() === 'end' ? 'end' : 'continue';
      const block = toBlock(this.current, state);
      this.current = {};
      return block;
    }
    this.current[key] = value;
    return null;
  }
}
