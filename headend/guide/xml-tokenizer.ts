/**
 * A small streaming XML tokenizer: push chunks of text, get open/close/text callbacks. Written for the
 * XMLTV import (DESIGN.md §7 Guide: streaming parse, memory flat in the file's size), so it keeps only the
 * token that is still incomplete at the end of a chunk, never the document.
 *
 * What it does: well-formedness of the element structure (every close matches its open, one root, no
 * text outside it, nothing truncated), attributes in either quote style (with `>` allowed inside values),
 * the five predefined entities and numeric character references, CDATA sections, comments, processing
 * instructions and a DOCTYPE (with an internal subset) before the root. What it does not do: DTD
 * validation, namespaces (prefixed names are kept as written) or entities declared in a DTD — those are
 * kept literally and reported as a warning, because real feeds write `&nbsp;` or a bare `&` and the rest
 * of the file is still good.
 */
import { decodeEntities } from './xml-entities.js';

/** Why the document is not well-formed; each error also carries the line and column it was found at. */
export type XmlErrorCode =
  | 'MALFORMED'
  | 'MISMATCHED_TAG'
  | 'TRUNCATED'
  | 'TOKEN_TOO_LARGE'
  | 'NO_ROOT'
  | 'ENCODING';

/** A well-formedness error, with where it was found (1-based line and column). */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
  constructor(
    readonly code: XmlErrorCode,
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    // Line 0: the position is not known as a line (encoding errors are found in bytes, before lines).
    super(line > 0 ? `${message} (line ${line}, column ${column})` : message);
  }
}

/** Recoverable oddities counted while parsing (the document is still imported). */
export interface XmlWarning {
  code: 'UNKNOWN_ENTITY' | 'BARE_AMPERSAND';
  count: number;
  /** Line of the first occurrence. */
  firstLine: number;
  /** The first offending text, e.g. `&nbsp;`. */
  example: string;
}

/** Receives the document's structure. Text may arrive in several pieces for one text node. */
export interface XmlHandler {
  /** When false, text inside elements is skipped without being sliced out (a cheap filter). */
  readonly textWanted: boolean;
  open(name: string, attrs: Record<string, string>, selfClosing: boolean): void;
  close(name: string): void;
  text(text: string): void;
}

/** Options of {@link XmlTokenizer}. */
export interface XmlTokenizerOptions {
  /**
   * The largest single token (a tag, a comment, a text node) accepted, in characters. A chunk boundary
   * inside a token makes the tokenizer keep it until the rest arrives; this bound is what keeps memory
   * flat on a hostile or broken file (e.g. a never-closed comment).
   */
  maxTokenChars?: number;
}

/** One complete attribute with leading whitespace: name, then a double- or single-quoted value. */
const ATTR_RE = /[ \t\r\n]+([^\s=<>/"']+)[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')/y;

const CH_LT = 60; // <
const CH_GT = 62; // >
const CH_SLASH = 47; // /
const CH_BANG = 33; // !
const CH_QUESTION = 63; // ?
const CH_EQ = 61; // =
const CH_DQ = 34; // "
const CH_SQ = 39; // '
const CH_NL = 10;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function isNameChar(c: number): boolean {
  // Anything that ends a name in a tag; the rest (letters of any script, digits, - _ . :) is accepted.
  return !(isSpace(c) || c === CH_GT || c === CH_SLASH || c === CH_EQ || c === CH_LT || Number.isNaN(c));
}

function isWhitespaceOnly(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
}

/** Push-based tokenizer. Call {@link write} with decoded text, then {@link end}. Throws {@link XmlSyntaxError}. */
export class XmlTokenizer {
  private buf = '';
  private pos = 0;
  private readonly stack: string[] = [];
  private rootSeen = false;
  private rootClosed = false;
  /** Line number of buffer index `lineCursor`; advanced lazily so each character is counted once. */
  private lineNo = 1;
  private lineCursor = 0;
  private lastNewline = -1;
  private readonly maxTokenChars: number;
  private readonly warningMap = new Map<XmlWarning['code'], XmlWarning>();

  constructor(
    private readonly handler: XmlHandler,
    options: XmlTokenizerOptions = {},
  ) {
    this.maxTokenChars = options.maxTokenChars ?? 1024 * 1024;
  }

  /** Depth of currently open elements (the root counts as 1). */
  get depth(): number {
    return this.stack.length;
  }

  /** Warnings gathered so far (unknown entities, bare ampersands). */
  get warnings(): XmlWarning[] {
    return [...this.warningMap.values()];
  }

  /** Line (1-based) of the token being handled; cheap to call from a handler callback. */
  currentLine(): number {
    return this.lineAt(this.pos);
  }

  write(chunk: string): void {
    if (chunk.length === 0) return;
    if (this.pos > 0) {
      this.advanceLines(this.pos);
      this.buf = this.buf.slice(this.pos);
      this.lineCursor -= this.pos;
      this.lastNewline -= this.pos;
      this.pos = 0;
    }
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk;
    this.run(false);
  }

  end(): void {
    this.run(true);
    if (!this.rootSeen) this.fail('NO_ROOT', 'the document has no root element', this.pos);
    if (this.stack.length > 0) {
      const open = this.stack[this.stack.length - 1];
      this.fail('TRUNCATED', `unexpected end of file inside <${open}>`, this.buf.length);
    }
  }

  private run(final: boolean): void {
    const buf = this.buf;
    const len = buf.length;
    let pos = this.pos;
    while (pos < len) {
      const lt = buf.indexOf('<', pos);
      if (lt === -1) {
        // Text up to the end of the chunk: it may continue (or hold a split entity), so wait for '<'.
        if (final) {
          this.pos = pos;
          this.emitText(pos, len);
          pos = len;
        } else if (len - pos > this.maxTokenChars) {
          this.fail('TOKEN_TOO_LARGE', `a text node is longer than ${this.maxTokenChars} characters`, pos);
        }
        break;
      }
      if (lt > pos) {
        this.pos = pos;
        this.emitText(pos, lt);
      }
      this.pos = lt;
      const end = this.token(lt, final);
      if (end === -1) {
        if (final) this.fail('TRUNCATED', 'unexpected end of file inside a tag', lt);
        if (len - lt > this.maxTokenChars) {
          this.fail('TOKEN_TOO_LARGE', `a markup token is longer than ${this.maxTokenChars} characters`, lt);
        }
        pos = lt;
        break;
      }
      pos = end;
    }
    this.pos = pos;
  }

  /** Handles the markup starting at `lt`; returns the index after it, or -1 when more input is needed. */
  private token(lt: number, final: boolean): number {
    const buf = this.buf;
    const c = buf.charCodeAt(lt + 1);
    if (Number.isNaN(c)) return -1;
    if (c === CH_SLASH) return this.closeTag(lt);
    if (c === CH_QUESTION) {
      const e = buf.indexOf('?>', lt + 2);
      return e === -1 ? -1 : e + 2;
    }
    if (c === CH_BANG) return this.bang(lt, final);
    return this.openTag(lt);
  }

  private bang(lt: number, final: boolean): number {
    const buf = this.buf;
    if (buf.length < lt + 9 && !final) {
      // Not enough characters to tell a comment from CDATA or a DOCTYPE yet.
      const head = buf.slice(lt, lt + 9);
      if ('<!--'.startsWith(head) || '<![CDATA['.startsWith(head) || '<!DOCTYPE'.startsWith(head)) return -1;
    }
    if (buf.startsWith('<!--', lt)) {
      const e = buf.indexOf('-->', lt + 4);
      return e === -1 ? -1 : e + 3;
    }
    if (buf.startsWith('<![CDATA[', lt)) {
      if (this.stack.length === 0) this.fail('MALFORMED', 'CDATA section outside the root element', lt);
      const e = buf.indexOf(']]>', lt + 9);
      if (e === -1) return -1;
      if (e > lt + 9 && this.handler.textWanted) this.handler.text(buf.slice(lt + 9, e));
      return e + 3;
    }
    if (buf.startsWith('<!DOCTYPE', lt)) {
      if (this.rootSeen) this.fail('MALFORMED', 'DOCTYPE after the root element', lt);
      return this.doctypeEnd(lt + 9);
    }
    this.fail('MALFORMED', 'unknown markup declaration after "<!"', lt);
  }

  /** End of a DOCTYPE: skips quoted literals and an internal subset in brackets. */
  private doctypeEnd(from: number): number {
    const buf = this.buf;
    let depth = 0;
    for (let i = from; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c === CH_DQ || c === CH_SQ) {
        const q = buf.indexOf(c === CH_DQ ? '"' : "'", i + 1);
        if (q === -1) return -1;
        i = q;
      } else if (c === 91) depth++;
      else if (c === 93) depth--;
      else if (c === CH_GT && depth <= 0) return i + 1;
    }
    return -1;
  }

  private closeTag(lt: number): number {
    const buf = this.buf;
    const gt = buf.indexOf('>', lt + 2);
    if (gt === -1) return -1;
    let nameEnd = lt + 2;
    while (nameEnd < gt && isNameChar(buf.charCodeAt(nameEnd))) nameEnd++;
    const name = buf.slice(lt + 2, nameEnd);
    if (name.length === 0 || !isWhitespaceOnly(buf, nameEnd, gt)) {
      this.fail('MALFORMED', 'malformed closing tag', lt);
    }
    const open = this.stack.pop();
    if (open === undefined) this.fail('MALFORMED', `closing tag </${name}> without an open element`, lt);
    if (open !== name) this.fail('MISMATCHED_TAG', `</${name}> closes <${open}>`, lt);
    if (this.stack.length === 0) this.rootClosed = true;
    this.handler.close(name);
    return gt + 1;
  }

  private openTag(lt: number): number {
    const buf = this.buf;
    const len = buf.length;
    let i = lt + 1;
    while (i < len && isNameChar(buf.charCodeAt(i))) i++;
    if (i >= len) return -1;
    const name = buf.slice(lt + 1, i);
    if (name.length === 0) this.fail('MALFORMED', 'a "<" that does not start a tag', lt);
    const attrs: Record<string, string> = {};
    const re = ATTR_RE;
    for (;;) {
      re.lastIndex = i;
      const m = re.exec(buf);
      if (m !== null) {
        // Fast path: a complete `name="value"` (or single-quoted) attribute.
        const attrName = m[1] as string;
        const raw = m[2] ?? (m[3] as string);
        const valueAt = re.lastIndex - raw.length - 1;
        if (raw.includes('<'))
          this.fail('MALFORMED', `"<" inside the value of attribute ${attrName}`, valueAt);
        if (Object.hasOwn(attrs, attrName))
          this.fail('MALFORMED', `attribute ${attrName} given twice`, valueAt);
        attrs[attrName] = raw.includes('&') ? this.decode(raw, valueAt) : raw;
        i = re.lastIndex;
        const after = buf.charCodeAt(i);
        if (i < len && !isSpace(after) && after !== CH_GT && after !== CH_SLASH) {
          this.fail('MALFORMED', `no space after attribute ${attrName}`, i);
        }
        continue;
      }
      while (i < len && isSpace(buf.charCodeAt(i))) i++;
      if (i >= len) return -1;
      const c = buf.charCodeAt(i);
      if (c === CH_GT) {
        this.element(name, attrs, false, lt);
        return i + 1;
      }
      if (c === CH_SLASH) {
        if (i + 1 >= len) return -1;
        if (buf.charCodeAt(i + 1) !== CH_GT) this.fail('MALFORMED', `stray "/" in <${name}>`, i);
        this.element(name, attrs, true, lt);
        return i + 2;
      }
      // Not a complete attribute: either the chunk ends inside it, or it is malformed. Find out which.
      const nameStart = i;
      while (i < len && isNameChar(buf.charCodeAt(i))) i++;
      if (i >= len) return -1;
      if (i === nameStart) this.fail('MALFORMED', `unexpected character in <${name}>`, i);
      const attrName = buf.slice(nameStart, i);
      while (i < len && isSpace(buf.charCodeAt(i))) i++;
      if (i >= len) return -1;
      if (buf.charCodeAt(i) !== CH_EQ) this.fail('MALFORMED', `attribute ${attrName} has no value`, i);
      i++;
      while (i < len && isSpace(buf.charCodeAt(i))) i++;
      if (i >= len) return -1;
      const q = buf.charCodeAt(i);
      if (q !== CH_DQ && q !== CH_SQ) this.fail('MALFORMED', `attribute ${attrName} value is not quoted`, i);
      // Wait for the closing quote; if it is already here, the regex refused the attribute for a reason.
      if (buf.indexOf(q === CH_DQ ? '"' : "'", i + 1) === -1) return -1;
      this.fail('MALFORMED', `malformed attribute ${attrName}`, nameStart);
    }
  }

  private element(name: string, attrs: Record<string, string>, selfClosing: boolean, at: number): void {
    if (this.stack.length === 0) {
      if (this.rootClosed) this.fail('MALFORMED', `a second root element <${name}>`, at);
      this.rootSeen = true;
    }
    if (!selfClosing) this.stack.push(name);
    this.handler.open(name, attrs, selfClosing);
    if (selfClosing) {
      if (this.stack.length === 0) this.rootClosed = true;
      this.handler.close(name);
    }
  }

  private emitText(from: number, to: number): void {
    const buf = this.buf;
    if (this.stack.length === 0) {
      if (!isWhitespaceOnly(buf, from, to)) {
        let i = from;
        while (isSpace(buf.charCodeAt(i))) i++;
        this.fail('MALFORMED', 'text outside the root element', i);
      }
      return;
    }
    if (!this.handler.textWanted) return;
    const raw = buf.slice(from, to);
    this.handler.text(raw.includes('&') ? this.decode(raw, from) : raw);
  }

  /** Replaces entity and character references; unknown ones are kept as written and counted. */
  private decode(raw: string, at: number): string {
    return decodeEntities(
      raw,
      (code, example) => this.warn(code, example, at),
      (message) => this.fail('MALFORMED', message, at),
    );
  }

  private warn(code: XmlWarning['code'], example: string, at: number): void {
    const w = this.warningMap.get(code);
    if (w) w.count++;
    else this.warningMap.set(code, { code, count: 1, firstLine: this.lineAt(at), example });
  }

  private advanceLines(to: number): void {
    const buf = this.buf;
    let i = buf.indexOf('\n', this.lineCursor);
    while (i !== -1 && i < to) {
      this.lineNo++;
      this.lastNewline = i;
      i = buf.indexOf('\n', i + 1);
    }
    if (to > this.lineCursor) this.lineCursor = to;
  }

  private lineAt(index: number): number {
    if (index < this.lineCursor) {
      // Rare (errors inside an already counted token): count back from the cursor.
      let n = this.lineNo;
      for (let i = this.lineCursor - 1; i >= index && i >= 0; i--) if (this.buf.charCodeAt(i) === CH_NL) n--;
      return n;
    }
    this.advanceLines(index);
    return this.lineNo;
  }

  private fail(code: XmlErrorCode, message: string, index: number): never {
    const line = this.lineAt(index);
    let lineStart = index - 1;
    while (lineStart >= 0 && this.buf.charCodeAt(lineStart) !== CH_NL) lineStart--;
    const column = lineStart >= 0 ? index - lineStart : index - this.lastNewline;
    throw new XmlSyntaxError(code, message, line, column);
  }
}
