/**
 * Streaming XMLTV reader (DOMAIN.md §5: `<tv>` holds `<channel id>` then `<programme start stop channel>`
 * with `<title lang>`, `<sub-title>`, `<desc>`, `<category>`, `<episode-num system>`). Bytes go in chunk by
 * chunk, channels and programmes come out as they complete, so memory stays flat in the file's size
 * (DESIGN.md §7). No DOM and no XML library: {@link XmlTokenizer} does the XML.
 *
 * The reader only reports what the file says; times, ids, mapping and validation are the import's job
 * (xmltv-time.ts, xmltv-programme.ts, guide-import.ts). Markup that a feed escaped inside a title
 * (`&lt;b&gt;`) or wrapped in CDATA is kept as text; stray child elements inside a title contribute their
 * text, like a DOM's textContent.
 */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { type XmlHandler, XmlSyntaxError, XmlTokenizer, type XmlWarning } from './xml-tokenizer.js';

export type { XmlErrorCode, XmlWarning } from './xml-tokenizer.js';
export { XmlSyntaxError } from './xml-tokenizer.js';

/** A text with its optional `lang` attribute, e.g. `{text: '新闻联播', lang: 'zh'}`. */
export interface LangText {
  text: string;
  lang?: string;
}

/** `<channel id>` with its display names. */
export interface XmltvChannel {
  kind: 'channel';
  id: string;
  displayNames: LangText[];
  line: number;
}

/** `<programme>` as written in the file (times unparsed). */
export interface XmltvProgramme {
  kind: 'programme';
  channel: string;
  start: string;
  stop?: string;
  titles: LangText[];
  subTitles: LangText[];
  descs: LangText[];
  categories: LangText[];
  episodeNums: { system?: string; value: string }[];
  /** Line of the `<programme>` tag, for reports. */
  line: number;
}

export type XmltvItem = XmltvChannel | XmltvProgramme;

/** The file is not XMLTV even though it may be XML (e.g. the root is not `<tv>`). */
export class XmltvFormatError extends Error {
  override readonly name = 'XmltvFormatError';
  readonly code = 'NOT_XMLTV';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} (line ${line})`);
  }
}

/** Options of {@link XmltvStreamParser}. */
export interface XmltvParserOptions {
  /** Largest single XML token in characters (see XmlTokenizerOptions). Default 1 MiB. */
  maxTokenChars?: number;
  /** Longest kept text of one field (a long `<desc>` is cut here), characters. Default 4096. */
  maxFieldChars?: number;
}

type Field =
  | { list: LangText[]; text: string; lang?: string }
  | { episode: true; system?: string; text: string };

const PROGRAMME_FIELDS: Readonly<Record<string, keyof XmltvProgramme>> = {
  title: 'titles',
  'sub-title': 'subTitles',
  desc: 'descs',
  category: 'categories',
};

class XmltvHandler implements XmlHandler {
  readonly out: XmltvItem[] = [];
  tokenizer!: XmlTokenizer;
  private depth = 0;
  private channel: XmltvChannel | null = null;
  private programme: XmltvProgramme | null = null;
  private field: Field | null = null;
  private fieldDepth = 0;
  textWanted = false;

  constructor(private readonly maxFieldChars: number) {}

  open(name: string, attrs: Record<string, string>): void {
    this.depth++;
    const d = this.depth;
    if (d === 1) {
      if (name !== 'tv') {
        throw new XmltvFormatError(`the root element is <${name}>, not <tv>`, this.tokenizer.currentLine());
      }
    } else if (d === 2) {
      if (name === 'programme') {
        const p: XmltvProgramme = {
          kind: 'programme',
          channel: attrs.channel ?? '',
          start: attrs.start ?? '',
          titles: [],
          subTitles: [],
          descs: [],
          categories: [],
          episodeNums: [],
          line: this.tokenizer.currentLine(),
        };
        if (attrs.stop !== undefined) p.stop = attrs.stop;
        this.programme = p;
      } else if (name === 'channel') {
        this.channel = {
          kind: 'channel',
          id: attrs.id ?? '',
          displayNames: [],
          line: this.tokenizer.currentLine(),
        };
      }
    } else if (d === 3 && this.field === null) {
      if (this.programme) {
        const key = PROGRAMME_FIELDS[name];
        if (key !== undefined) {
          this.startField({ list: this.programme[key] as LangText[], text: '' }, attrs.lang);
        } else if (name === 'episode-num') {
          const f: Field = { episode: true, text: '' };
          if (attrs.system !== undefined) f.system = attrs.system;
          this.field = f;
          this.fieldDepth = d;
          this.textWanted = true;
        }
      } else if (this.channel && name === 'display-name') {
        this.startField({ list: this.channel.displayNames, text: '' }, attrs.lang);
      }
    }
  }

  private startField(f: { list: LangText[]; text: string; lang?: string }, lang: string | undefined): void {
    if (lang !== undefined && lang !== '') f.lang = lang;
    this.field = f;
    this.fieldDepth = this.depth;
    this.textWanted = true;
  }

  text(text: string): void {
    const f = this.field;
    if (f !== null && f.text.length < this.maxFieldChars) f.text += text;
  }

  close(): void {
    const d = this.depth;
    this.depth--;
    if (this.field !== null && d === this.fieldDepth) {
      const f = this.field;
      this.field = null;
      this.textWanted = false;
      const text = collapse(f.text).slice(0, this.maxFieldChars);
      if (text.length === 0) return;
      if ('episode' in f) {
        const e: { system?: string; value: string } = { value: text };
        if (f.system !== undefined) e.system = f.system;
        this.programme?.episodeNums.push(e);
      } else {
        const item: LangText = { text };
        if (f.lang !== undefined) item.lang = f.lang;
        f.list.push(item);
      }
    } else if (d === 2) {
      if (this.programme) this.out.push(this.programme);
      else if (this.channel) this.out.push(this.channel);
      this.programme = null;
      this.channel = null;
    }
  }
}

/** Trims and folds runs of whitespace (line breaks inside a title are layout, not content). */
function collapse(s: string): string {
  const t = s.trim();
  return /\s{2,}|[\n\r\t]/.test(t) ? t.replace(/\s+/g, ' ') : t;
}

/**
 * Turns byte chunks into text: honours a BOM or the XML declaration's `encoding` (Chinese feeds are
 * sometimes GB18030/GBK) and keeps a multi-byte character split across chunks intact.
 */
class ChunkDecoder {
  private decoder: TextDecoder | null = null;
  private utf8 = false;
  /** UTF-8: the bytes of a character split by the chunk boundary, kept for the next chunk. */
  private carry: Uint8Array | null = null;
  private head: Uint8Array[] = [];
  private headLen = 0;
  private bytesSeen = 0;

  /** Returns the text decodable so far ('' while the encoding is still being sniffed). */
  write(chunk: Uint8Array, final = false): string {
    if (this.decoder === null && !this.utf8) {
      this.head.push(chunk);
      this.headLen += chunk.length;
      const all = Buffer.concat(this.head, this.headLen);
      const label = sniffEncoding(all, final);
      if (label === null) return '';
      this.head = [];
      if (/^utf-?8$/i.test(label)) {
        this.utf8 = true;
        // Skip a UTF-8 BOM: it is not content.
        const body = all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf ? all.subarray(3) : all;
        return this.decodeUtf8(body, final);
      }
      this.decoder = makeDecoder(label);
      return this.decode(all, final);
    }
    return this.utf8 ? this.decodeUtf8(chunk, final) : this.decode(chunk, final);
  }

  end(): string {
    return this.write(new Uint8Array(0), true);
  }

  /**
   * UTF-8 without TextDecoder's per-call overhead: cut the chunk at the last complete character,
   * validate with the native `isUtf8`, decode natively.
   */
  private decodeUtf8(chunk: Uint8Array, final: boolean): string {
    let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.carry !== null) {
      bytes = Buffer.concat([this.carry, bytes]);
      this.carry = null;
    }
    let cut = bytes.length;
    if (!final) {
      // Walk back over at most 3 continuation bytes to the lead byte of the last character.
      let i = bytes.length - 1;
      while (i >= 0 && i >= bytes.length - 4 && ((bytes[i] as number) & 0xc0) === 0x80) i--;
      if (i >= 0) {
        const lead = bytes[i] as number;
        const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (bytes.length - i < need) cut = i;
      }
      if (cut < bytes.length) this.carry = Uint8Array.prototype.slice.call(bytes, cut);
    }
    const whole = bytes.subarray(0, cut);
    if (!isUtf8(whole)) {
      throw new XmlSyntaxError(
        'ENCODING',
        `bytes that are not valid UTF-8 near byte ${this.bytesSeen + firstBadUtf8(whole)}`,
        0,
        0,
      );
    }
    this.bytesSeen += whole.length;
    return whole.toString('utf8');
  }

  private decode(bytes: Uint8Array, final: boolean): string {
    try {
      return (this.decoder as TextDecoder).decode(bytes, { stream: !final });
    } catch {
      throw new XmlSyntaxError(
        'ENCODING',
        `bytes that are not valid ${(this.decoder as TextDecoder).encoding}`,
        0,
        0,
      );
    }
  }
}

/** Offset of the first invalid UTF-8 sequence (for the error message; only called on failure). */
function firstBadUtf8(b: Buffer): number {
  const d = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = b.length;
  // Binary search on the longest valid prefix (validity of a prefix is monotone up to a cut character).
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    try {
      d.decode(b.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

function makeDecoder(label: string): TextDecoder {
  try {
    return new TextDecoder(label, { fatal: true });
  } catch {
    throw new XmlSyntaxError('ENCODING', `unsupported encoding "${label}"`, 1, 1);
  }
}

/** The encoding label, or null if more bytes are needed to see the XML declaration. */
function sniffEncoding(b: Uint8Array, final: boolean): string | null {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  const ascii = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 512)).toString('latin1');
  if (!ascii.startsWith('<?xml')) return b.length >= 5 || final ? 'utf-8' : null;
  const declEnd = ascii.indexOf('?>');
  if (declEnd === -1) return b.length >= 512 || final ? 'utf-8' : null;
  const m = /encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(ascii.slice(0, declEnd));
  return m?.[1] ?? 'utf-8';
}

/**
 * Push-based XMLTV parser: `write(chunk)` returns the channels and programmes completed by that chunk,
 * `end()` the rest, and checks the document was complete. Throws {@link XmlSyntaxError} (broken XML, with
 * line and column) or {@link XmltvFormatError} (XML, but not XMLTV).
 */
export class XmltvStreamParser {
  private readonly handler: XmltvHandler;
  private readonly tokenizer: XmlTokenizer;
  private readonly decoder = new ChunkDecoder();

  constructor(options: XmltvParserOptions = {}) {
    this.handler = new XmltvHandler(options.maxFieldChars ?? 4096);
    const tokOpts = options.maxTokenChars === undefined ? {} : { maxTokenChars: options.maxTokenChars };
    this.tokenizer = new XmlTokenizer(this.handler, tokOpts);
    this.handler.tokenizer = this.tokenizer;
  }

  write(chunk: Uint8Array | string): XmltvItem[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    this.tokenizer.write(text);
    return this.drain();
  }

  end(): XmltvItem[] {
    this.tokenizer.write(this.decoder.end());
    this.tokenizer.end();
    return this.drain();
  }

  /** Recoverable oddities seen so far (unknown entities, bare `&`). */
  get warnings(): XmlWarning[] {
    return this.tokenizer.warnings;
  }

  private drain(): XmltvItem[] {
    const out = this.handler.out;
    if (out.length === 0) return out;
    const items = out.slice();
    out.length = 0;
    return items;
  }
}

/** Any chunk source: a Node Readable, a web stream, an array of Buffers. */
export type ChunkSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** Parses a whole source lazily, yielding each channel and programme as soon as it is complete. */
export async function* parseXmltv(source: ChunkSource, options: XmltvParserOptions = {}) {
  const parser = new XmltvStreamParser(options);
  for await (const chunk of source) {
    yield* parser.write(chunk);
  }
  yield* parser.end();
}
