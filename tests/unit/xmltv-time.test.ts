/**
 * XMLTV times (DOMAIN.md §5): `YYYYMMDDhhmmss ±hhmm`, no offset = UTC, impossible offsets refused,
 * unexpected or missing ones flagged as suspicious.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  formatOffset,
  formatXmltvTime,
  offsetSuspicion,
  parseOffset,
  parseXmltvTime,
} from '../../headend/guide/xmltv-time.js';

const GOOD: [string, string, number | null][] = [
  ['20261127190000 +0800', '2026-11-27T11:00:00.000Z', 480],
  ['20261127190000 +08:00', '2026-11-27T11:00:00.000Z', 480],
  ['20261127190000+0800', '2026-11-27T11:00:00.000Z', 480],
  ['20261127190000', '2026-11-27T19:00:00.000Z', null],
  ['202611271900', '2026-11-27T19:00:00.000Z', null],
  ['20261127190000 Z', '2026-11-27T19:00:00.000Z', 0],
  ['20261127190000 UTC', '2026-11-27T19:00:00.000Z', 0],
  ['20261127013000 +0800', '2026-11-26T17:30:00.000Z', 480],
  ['20261231233000 -0330', '2027-01-01T03:00:00.000Z', -210],
  ['20261127190000 +1400', '2026-11-27T05:00:00.000Z', 840],
  ['20261127190000 -1200', '2026-11-28T07:00:00.000Z', -720],
  ['20240229120000 +0000', '2024-02-29T12:00:00.000Z', 0],
  ['  20261127190000 +0545  ', '2026-11-27T13:15:00.000Z', 345],
];

for (const [input, utc, offset] of GOOD) {
  t.test(`"${input}" → ${utc}`, async (t) => {
    const r = parseXmltvTime(input);
    t.ok(r.ok);
    if (!r.ok) return;
    t.equal(new Date(r.utcMs).toISOString(), utc);
    t.equal(r.offsetMinutes, offset);
  });
}

const BAD: [string, string][] = [
  ['', 'BAD_FORMAT'],
  ['2026-11-27 19:00', 'BAD_FORMAT'],
  ['20261127', 'BAD_FORMAT'],
  ['20261127190000 BST', 'BAD_FORMAT'],
  ['20261127190000 +08', 'BAD_FORMAT'],
  ['20260230120000 +0800', 'BAD_DATE'],
  ['20261327120000 +0800', 'BAD_DATE'],
  ['20261127246000 +0800', 'BAD_DATE'],
  ['20261127190060 +0800', 'BAD_DATE'],
  ['20230229120000 +0000', 'BAD_DATE'],
  ['20261127190000 +1500', 'OFFSET_OUT_OF_RANGE'],
  ['20261127190000 -1300', 'OFFSET_OUT_OF_RANGE'],
  ['20261127190000 +0875', 'OFFSET_OUT_OF_RANGE'],
];

for (const [input, code] of BAD) {
  t.test(`"${input}" is refused: ${code}`, async (t) => {
    const r = parseXmltvTime(input);
    t.notOk(r.ok);
    if (r.ok) return;
    t.equal(r.code, code);
    t.ok(r.message.length > 10, 'with a message a user can act on');
  });
}

t.test('suspicious offsets', async (t) => {
  t.equal(offsetSuspicion(480, 480), null, 'the expected +0800');
  t.equal(offsetSuspicion(540, 480), 'unexpected', '+0900 in a Chinese feed');
  t.equal(offsetSuspicion(null, 480), 'missing', 'no offset: taken as UTC, probably 8 h off');
  t.equal(offsetSuspicion(540, null), null, 'nothing expected, nothing flagged');
});

t.test('offsets format and parse', async (t) => {
  t.equal(formatOffset(480), '+0800');
  t.equal(formatOffset(-210), '-0330');
  t.equal(formatOffset(0), '+0000');
  t.equal(parseOffset('+08:00'), 480);
  t.equal(parseOffset('-0330'), -210);
  t.equal(parseOffset('+1500'), null);
  t.equal(parseOffset('8'), null);
});

t.test('formatXmltvTime and parseXmltvTime agree for every instant and offset', async (t) => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) })
        .map((ms) => Math.floor(ms / 1000) * 1000),
      fc.integer({ min: -48, max: 56 }).map((q) => q * 15),
      (ms, offset) => {
        const r = parseXmltvTime(formatXmltvTime(ms, offset));
        return r.ok && r.utcMs === ms && r.offsetMinutes === offset;
      },
    ),
    { numRuns: 2000 },
  );
  t.pass('round trip holds');
});
