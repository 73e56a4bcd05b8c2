/**
 * Incremental RX8200 frame parser: bytes in (any chunking), valid frames out. Used in both directions —
 * the driver parses the IRD's replies, the simulator parses requests — because both share the framing
 * of frame.ts. Pure: no streams, no timers; the link feeds it from whatever transport it owns
 * (STYLE.md guideline 2; modelled on the unpi parser of zigbee-herdsman, which resyncs on its start byte).
 *
 * Rules:
 * - `\` always starts a frame. A `\` before the previous frame's CR abandons that frame (`truncated`):
 *   this is the resync — after line noise the next request/reply is still read.
 * - Bytes outside a frame are dropped and counted, except CR and LF (line endings some device servers
 *   and terminal programs add between frames; they carry no data).
 * - No CR within `maxFrameBytes` → the line is dropped (`overlong`) and everything up to the next `\`
 *   is discarded and counted.
 * - A complete line that fails `decodeFrame` (bad checksum, bad address, bad characters) is dropped and
 *   counted, never emitted: the IRD would ignore such a request too (manual §3.1 rule 1).
 */
import {
  decodeFrame,
  END_BYTE,
  MAX_FRAME_BYTES,
  Rx8200CodecError,
  type Rx8200ErrorCode,
  type Rx8200Frame,
  START_BYTE,
} from './frame.js';

const LF = 0x0a;

/** One dropped line or run of bytes, reported to `onError` (log it at debug with a hex dump). */
export interface Rx8200ParseError {
  code: Rx8200ErrorCode;
  message: string;
  /** The bytes that were dropped (for an overlong line: the first `maxFrameBytes` of it). */
  raw: Uint8Array;
}

/** Counters since construction; they only grow. */
export interface Rx8200ParserStats {
  /** Valid frames emitted. */
  frames: number;
  /** Bytes that did not end up in a valid frame (garbage, bad frames, overlong and truncated lines). */
  droppedBytes: number;
  badChecksums: number;
  /** Complete lines rejected for another reason (bad framing, characters, missing checksum). */
  malformedFrames: number;
  overlongLines: number;
  truncatedFrames: number;
}

/** Parser options. */
export interface Rx8200ParserOptions {
  /** Longest accepted frame, start byte to CR inclusive (default MAX_FRAME_BYTES = 256). */
  maxFrameBytes?: number;
  /** Drop frames without a `$hh` checksum (default false: the checksum is optional in the protocol). */
  requireChecksum?: boolean;
  /** Called for every dropped line (not for single garbage bytes between frames, which are only counted). */
  onError?: (error: Rx8200ParseError) => void;
}

type State = 'idle' | 'frame' | 'discard';

/** Incremental parser; one instance per port/connection. */
export class Rx8200Parser {
  readonly #max: number;
  readonly #requireChecksum: boolean;
  readonly #onError: ((error: Rx8200ParseError) => void) | undefined;
  readonly #buf: Uint8Array;
  #len = 0;
  #state: State = 'idle';
  readonly #stats: Rx8200ParserStats = {
    frames: 0,
    droppedBytes: 0,
    badChecksums: 0,
    malformedFrames: 0,
    overlongLines: 0,
    truncatedFrames: 0,
  };

  constructor(options: Rx8200ParserOptions = {}) {
    const max = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 8 || max > 65536) {
      throw new RangeError(`maxFrameBytes must be an integer 8–65536, got ${max}`);
    }
    this.#max = max;
    this.#requireChecksum = options.requireChecksum ?? false;
    this.#onError = options.onError;
    // Holds a line without its CR, so at most max − 1 bytes.
    this.#buf = new Uint8Array(max - 1);
  }

  /** Bytes not part of any valid frame so far. */
  get droppedBytes(): number {
    return this.#stats.droppedBytes;
  }

  /** A snapshot of the counters. */
  get stats(): Readonly<Rx8200ParserStats> {
    return { ...this.#stats };
  }

  /** Bytes of an unfinished frame held back, waiting for more input. */
  get pendingBytes(): number {
    return this.#state === 'frame' ? this.#len : 0;
  }

  /** Feeds a chunk; returns the frames it completed, in order. Never throws on any input. */
  push(chunk: Uint8Array | string): Rx8200Frame[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    const frames: Rx8200Frame[] = [];
    for (const b of bytes) {
      if (b === START_BYTE) {
        if (this.#state === 'frame') {
          this.#drop('truncated', 'a new frame started before the previous one ended', this.#len);
          this.#stats.truncatedFrames++;
        }
        this.#state = 'frame';
        this.#buf[0] = b;
        this.#len = 1;
        continue;
      }
      if (this.#state === 'idle') {
        if (b !== END_BYTE && b !== LF) this.#stats.droppedBytes++;
        continue;
      }
      if (this.#state === 'discard') {
        this.#stats.droppedBytes++;
        if (b === END_BYTE) this.#state = 'idle';
        continue;
      }
      if (b === END_BYTE) {
        const frame = this.#complete();
        if (frame) frames.push(frame);
        this.#state = 'idle';
        this.#len = 0;
        continue;
      }
      if (this.#len >= this.#buf.length) {
        this.#drop('overlong', `no CR within ${this.#max} bytes`, this.#len);
        this.#stats.overlongLines++;
        this.#stats.droppedBytes++; // this byte
        this.#state = 'discard';
        this.#len = 0;
        continue;
      }
      this.#buf[this.#len++] = b;
    }
    return frames;
  }

  /**
   * Forgets an unfinished frame (its bytes count as dropped). The link calls this after a timeout so
   * a half-received reply cannot be glued to the next one.
   */
  reset(): void {
    if (this.#state === 'frame' && this.#len > 0) {
      this.#drop('truncated', 'reset with an unfinished frame', this.#len);
      this.#stats.truncatedFrames++;
    }
    this.#state = 'idle';
    this.#len = 0;
  }

  #complete(): Rx8200Frame | null {
    const line = this.#buf.subarray(0, this.#len);
    try {
      const frame = decodeFrame(line);
      if (this.#requireChecksum && !frame.checksummed) {
        throw new Rx8200CodecError('missing-checksum', 'frame has no checksum and checksums are required');
      }
      this.#stats.frames++;
      return frame;
    } catch (err) {
      const code: Rx8200ErrorCode = err instanceof Rx8200CodecError ? err.code : 'bad-frame';
      if (code === 'bad-checksum') this.#stats.badChecksums++;
      else this.#stats.malformedFrames++;
      // +1: the CR that ended the line is dropped with it.
      this.#drop(code, err instanceof Error ? err.message : String(err), this.#len, 1);
      return null;
    }
  }

  #drop(code: Rx8200ErrorCode, message: string, length: number, extra = 0): void {
    this.#stats.droppedBytes += length + extra;
    this.#onError?.({ code, message, raw: this.#buf.slice(0, length) });
  }
}
