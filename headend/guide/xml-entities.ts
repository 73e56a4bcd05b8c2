/**
 * Entity and character references in XML text and attribute values (XML 1.0 §4.1, §4.6): the five
 * predefined entities and numeric references are replaced; a reference to an entity no DTD of ours
 * declares (`&nbsp;`) and a bare `&` ("Tom & Jerry") are kept as written and reported, because real
 * feeds contain both and the rest of the file is still good. A numeric reference to a character XML
 * forbids is an error.
 */

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/** What may stand between `&` and `;`: a name or a `#` character reference (else it is a bare `&`). */
const REF_PATTERN = /^(#x?[0-9A-Za-z]+|[A-Za-z_:][\w.:-]*)$/;

/** A recoverable oddity found while decoding. */
export type EntityWarning = 'UNKNOWN_ENTITY' | 'BARE_AMPERSAND';

function charRef(ref: string, fail: (message: string) => never): string {
  const hex = ref.charCodeAt(1) === 120; // x
  const digits = ref.slice(hex ? 2 : 1);
  const ok = hex ? /^[0-9a-fA-F]{1,6}$/.test(digits) : /^[0-9]{1,7}$/.test(digits);
  const cp = ok ? Number.parseInt(digits, hex ? 16 : 10) : Number.NaN;
  // XML 1.0 §2.2 Char: no NUL, no surrogates, nothing beyond U+10FFFF.
  if (!ok || cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    fail(`invalid character reference &${ref};`);
  }
  return String.fromCodePoint(cp);
}

/** Decodes the references in `raw` (which contains at least one `&`). */
export function decodeEntities(
  raw: string,
  warn: (code: EntityWarning, example: string) => void,
  fail: (message: string) => never,
): string {
  let out = '';
  let last = 0;
  let amp = raw.indexOf('&');
  while (amp !== -1) {
    const semi = raw.indexOf(';', amp + 1);
    let ref = semi === -1 || semi - amp > 12 ? null : raw.slice(amp + 1, semi);
    if (ref !== null && !REF_PATTERN.test(ref)) ref = null;
    let value: string | undefined;
    if (ref !== null) value = ref.charCodeAt(0) === 35 ? charRef(ref, fail) : NAMED_ENTITIES[ref];
    if (value === undefined) {
      if (ref === null) warn('BARE_AMPERSAND', raw.slice(amp, amp + 12));
      else warn('UNKNOWN_ENTITY', `&${ref};`);
      amp = raw.indexOf('&', amp + 1);
      continue;
    }
    out += raw.slice(last, amp) + value;
    last = semi + 1;
    amp = raw.indexOf('&', last);
  }
  return out + raw.slice(last);
}
