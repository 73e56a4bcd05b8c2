/**
 * RX8200 remote-control framing (Ericsson "Alteia" protocol, also Tandberg System 3000) — the pure
 * bottom layer of the serial stack (STYLE.md guideline 2: codec → parser → link → driver).
 *
 * Wire format, both directions (DOMAIN.md §3; RX8 Remote Control Protocol ST.TS.EXXXXX.1 §3.1, §4.1):
 *
 *     \ddd:<body>_[$hh]<CR>
 *
 * - `\` start character (0x5C); `ddd` the 3-digit decimal IRD address 000–999 (factory default 002);
 * - `<body>_` the message text, which always ends with `_` (requests `CMD;SUB…_`, replies `ACK_`,
 *   `NAK_`, `NA2_`…`NA8_` or `CMD;F1=v1_F2=v2_`; see messages.ts);
 * - `$hh` optional checksum: the sum of every byte from `\` up to and including the last `_`, modulo
 *   256, as two upper-case hex digits (manual §4.1.2; `\000:SYS;SRQ_$B5`);
 * - `<CR>` (0x0D) terminator.
 *
 * Body characters are printable ASCII 0x20–0x7E except `\` (it always starts a new frame, which is how
 * the parser resynchronises) and `$` (it always introduces the checksum). The manual lets `_` appear
 * inside a request's parameters; replies use it as the field separator.
 *
 * The IRD ignores (does not answer) a frame with a wrong checksum or another address (manual §3.1
 * rule 1); the link must therefore time out every request (DOMAIN.md §3).
 */

/** `\` — starts every frame, in both directions. */
export const START_BYTE = 0x5c;
/** Carriage return — ends every frame. */
export const END_BYTE = 0x0d;
/** `$` — introduces the optional two-hex-digit checksum. */
export const CHECKSUM_MARK = 0x24;
/** `_` — ends the body (the checksum covers the bytes up to and including the last one). */
export const BODY_END = 0x5f;

/**
 * Longest frame accepted, start byte to CR inclusive. The longest documented message (a grouped tune,
 * ~90 bytes, or a 30-character service name reply) is well below this; a longer line is line noise.
 */
export const MAX_FRAME_BYTES = 256;
/** Highest IRD address (manual §3.1: "range 0-999"). */
export const MAX_ADDRESS = 999;
/** The RX8200's factory address (DOMAIN.md §3). */
export const DEFAULT_ADDRESS = 2;

/** Why a frame, request or reply was rejected. Stable strings: logs and counters key on them. */
export type Rx8200ErrorCode =
  | 'bad-frame' // start, address, colon or body terminator missing or malformed
  | 'bad-character' // a byte outside printable ASCII, or `\`/`$` inside the body
  | 'bad-checksum' // `$hh` present but wrong
  | 'missing-checksum' // the parser was told to require checksums and there was none
  | 'overlong' // no CR within MAX_FRAME_BYTES
  | 'truncated' // a new `\` arrived before the CR of the previous frame
  | 'bad-request' // framing fine, but not `CMD;SUB[=params|-K=V…]_`
  | 'bad-reply' // framing fine, but not ACK/NAK/NAx or `CMD;F=v_…`
  | 'bad-value' // a field is missing or its value does not parse
  | 'out-of-range'; // a value to encode is outside what the protocol can carry

/** The one error type of the codec layer (STYLE.md guideline 12). */
export class Rx8200CodecError extends Error {
  override readonly name = 'Rx8200CodecError';
  constructor(
    readonly code: Rx8200ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What goes into a frame. */
export interface Rx8200FrameInit {
  /** IRD address 0–999. */
  address: number;
  /** Message text after `ddd:`, ending with `_` (e.g. `SYS;SRQ_`). */
  body: string;
}

/** A frame read off the wire. */
export interface Rx8200Frame extends Rx8200FrameInit {
  /** Whether the frame carried a `$hh` checksum (it was verified if so). */
  checksummed: boolean;
  /** The frame as received, start byte to checksum, without CR (for debug-level logs). */
  raw: string;
}

/** Options for encoding. */
export interface EncodeOptions {
  /** Append the `$hh` checksum (default true: the IRD then drops corrupted requests instead of acting). */
  checksum?: boolean;
}

/** Sum of the bytes modulo 256 (manual §4.1.2). Strings are taken as Latin-1, one byte per char. */
export function checksum(data: string | Uint8Array): number {
  let sum = 0;
  if (typeof data === 'string') {
    for (let i = 0; i < data.length; i++) sum = (sum + (data.charCodeAt(i) & 0xff)) & 0xff;
  } else {
    for (const b of data) sum = (sum + b) & 0xff;
  }
  return sum;
}

/** Two upper-case hex digits, as the checksum is written. */
export function checksumHex(sum: number): string {
  return (sum & 0xff).toString(16).toUpperCase().padStart(2, '0');
}

function isBodyChar(code: number): boolean {
  return code >= 0x20 && code <= 0x7e && code !== START_BYTE && code !== CHECKSUM_MARK;
}

/** Throws unless `body` is a valid frame body (non-empty text ending with `_`, allowed characters only). */
export function assertBody(body: string): void {
  if (body.length < 2 || body.charCodeAt(body.length - 1) !== BODY_END) {
    throw new Rx8200CodecError(
      'bad-frame',
      `body must be non-empty and end with "_": ${JSON.stringify(body)}`,
    );
  }
  for (let i = 0; i < body.length; i++) {
    if (!isBodyChar(body.charCodeAt(i))) {
      throw new Rx8200CodecError(
        'bad-character',
        `body character 0x${body.charCodeAt(i).toString(16)} at ${i} is not allowed (printable ASCII except "\\" and "$")`,
      );
    }
  }
}

/** Throws unless `address` is an integer 0–999. */
export function assertAddress(address: number): void {
  if (!Number.isInteger(address) || address < 0 || address > MAX_ADDRESS) {
    throw new Rx8200CodecError('out-of-range', `address must be an integer 0–${MAX_ADDRESS}, got ${address}`);
  }
}

/** Frame text without CR, with or without checksum. */
export function frameText(frame: Rx8200FrameInit, options: EncodeOptions = {}): string {
  assertAddress(frame.address);
  assertBody(frame.body);
  const text = `\\${String(frame.address).padStart(3, '0')}:${frame.body}`;
  const full = options.checksum === false ? text : `${text}$${checksumHex(checksum(text))}`;
  if (full.length + 1 > MAX_FRAME_BYTES) {
    throw new Rx8200CodecError('overlong', `frame of ${full.length + 1} bytes exceeds ${MAX_FRAME_BYTES}`);
  }
  return full;
}

/** Encodes one frame, CR included, ready to write to the port. */
export function encodeFrame(frame: Rx8200FrameInit, options: EncodeOptions = {}): Buffer {
  return Buffer.from(`${frameText(frame, options)}\r`, 'latin1');
}

const HEX_UPPER = /^[0-9A-F]{2}$/;

/**
 * Decodes one frame: `\ddd:<body>_[$hh]`, optionally followed by CR. Throws `Rx8200CodecError`
 * (`bad-frame`, `bad-character`, `bad-checksum`) — never anything else.
 */
export function decodeFrame(line: string | Uint8Array): Rx8200Frame {
  let text = typeof line === 'string' ? line : Buffer.from(line).toString('latin1');
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.length + 1 > MAX_FRAME_BYTES) {
    throw new Rx8200CodecError('overlong', `frame of ${text.length + 1} bytes exceeds ${MAX_FRAME_BYTES}`);
  }
  if (text.charCodeAt(0) !== START_BYTE)
    throw new Rx8200CodecError('bad-frame', 'frame must start with "\\"');
  const digits = text.slice(1, 4);
  if (!/^[0-9]{3}$/.test(digits) || text[4] !== ':') {
    throw new Rx8200CodecError('bad-frame', 'frame must start with "\\ddd:" (3-digit address)');
  }
  let content = text;
  let checksummed = false;
  const mark = text.lastIndexOf('$');
  if (mark !== -1) {
    const hex = text.slice(mark + 1);
    if (mark !== text.length - 3 || !HEX_UPPER.test(hex)) {
      throw new Rx8200CodecError(
        'bad-frame',
        'a "$" must be followed by exactly two upper-case hex digits at the end',
      );
    }
    content = text.slice(0, mark);
    const expected = checksum(content);
    if (Number.parseInt(hex, 16) !== expected) {
      throw new Rx8200CodecError('bad-checksum', `checksum ${hex} does not match ${checksumHex(expected)}`);
    }
    checksummed = true;
  }
  const body = content.slice(5);
  assertBody(body);
  return { address: Number.parseInt(digits, 10), body, checksummed, raw: text };
}
