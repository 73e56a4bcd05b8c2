/**
 * The station-state decode fast path (protocol/messages/state.ts `fastStationState`) is an optimisation,
 * never a second contract: whenever it answers, the zod schema accepts the same input and outputs the same
 * value with the same key order; when the input is unusual it declines and the schema decides.
 */
import fc from 'fast-check';
import t from 'tap';
import { fastStationState, StationState } from '../../protocol/messages/state.js';

const HASH = 'a'.repeat(64);
const STORE = '0123456789abcdef';

function birth(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    online: true,
    boot: { n: 3, conn: 9 },
    storeId: STORE,
    agentVersion: '0.1.0',
    protocolRevision: 0,
    plannerVersion: 1,
    at: '2026-03-06T00:00:00Z',
    schedule: { version: { epoch: 1, n: 5 }, hash: HASH, appliedAt: '2026-03-05T23:59:00.123Z' },
    receivers: [
      {
        id: 'rx1',
        family: 'rx8200',
        sharing: 'service',
        link: 'up',
        locked: true,
        service: 'cctv1',
        marginDb: 4.5,
        lnb: 'ok',
      },
    ],
    clock: { offsetMs: 12, rttMs: 80, trusted: true },
    ...over,
  };
}

/** The fast path's answer agrees with the schema's (or it declined). */
function agrees(input: unknown): { fast: boolean; agree: boolean } {
  const fast = fastStationState(JSON.parse(JSON.stringify(input)));
  if (fast === undefined) return { fast: false, agree: true };
  const slow = StationState.safeParse(JSON.parse(JSON.stringify(input)));
  return { fast: true, agree: slow.success && JSON.stringify(slow.data) === JSON.stringify(fast) };
}

t.test(
  'the states agents send every time take the fast path, with the output the schema gives',
  async (t) => {
    for (const s of [
      birth(),
      birth({ schedule: null, receivers: [] }),
      birth({ clock: { offsetMs: null, rttMs: null, trusted: false } }),
      { online: false, boot: { n: 3, conn: 9 } },
    ]) {
      const r = agrees(s);
      t.ok(r.fast, `fast path taken for ${JSON.stringify(s).slice(0, 60)}`);
      t.ok(r.agree, 'same value as the schema, same key order');
    }
    // Key order of the output is the schema's, whatever order the station wrote.
    const out = fastStationState({ ...birth(), boot: { conn: 9, n: 3 } });
    t.same(Object.keys(out?.boot ?? {}), ['n', 'conn']);
  },
);

t.test('unusual states are left to the schema, which still decides', async (t) => {
  const hold = birth({ maintenance: { holder: 'li', until: '2026-03-06T02:00:00Z' } });
  t.equal(fastStationState(hold), undefined, 'a maintenance hold');
  t.ok(StationState.safeParse(hold).success, 'and the schema accepts it');
  const rejected = birth({
    schedule: { rejected: { code: 'INVALID', reason: 'bad', at: '2026-03-06T00:00:00Z' } },
  });
  t.equal(fastStationState(rejected), undefined, 'a rejection');
  // Boot is a plain (stripping) object in the schema: the fast path declines rather than strip.
  const extraBoot = birth({ boot: { n: 3, conn: 9, x: 1 } });
  t.equal(fastStationState(extraBoot), undefined, 'an unknown key inside boot');
  t.ok(StationState.safeParse(extraBoot).success);
});

t.test('each invalid field is refused by the fast path exactly as the schema refuses it', async (t) => {
  const bad: Record<string, Record<string, unknown>> = {
    'margin above 60 dB': birth({ receivers: [{ ...(birth().receivers as object[])[0], marginDb: 61 }] }),
    'upper-case store id': birth({ storeId: 'ABCDEF0123456789' }),
    'timestamp with an offset': birth({ at: '2026-03-06T00:00:00+08:00' }),
    'impossible hour': birth({ at: '2026-03-06T24:00:00Z' }),
    'negative rtt': birth({ clock: { offsetMs: 1, rttMs: -1, trusted: true } }),
    'nine receivers': birth({
      receivers: Array.from({ length: 9 }, () => (birth().receivers as object[])[0]),
    }),
    'planner version 0': birth({ plannerVersion: 0 }),
    'fractional boot': birth({ boot: { n: 1.5, conn: 1 } }),
    'unknown top-level key': birth({ extra: true }),
    'short hash': birth({
      schedule: { version: { epoch: 1, n: 1 }, hash: 'ab', appliedAt: '2026-03-06T00:00:00Z' },
    }),
    'Will with a key too many': { online: false, boot: { n: 1, conn: 1 }, at: '2026-03-06T00:00:00Z' },
  };
  for (const [why, s] of Object.entries(bad)) {
    t.equal(fastStationState(s), undefined, `fast path declines: ${why}`);
    t.notOk(StationState.safeParse(s).success, `schema refuses: ${why}`);
  }
});

t.test('on generated near-valid states the fast path never accepts what the schema would not', async (t) => {
  const pick = (...xs: unknown[]) => fc.constantFrom(...xs);
  // Mostly valid, sometimes not: so that whole states are often valid and often off by one field.
  const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) =>
    fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: invalid, weight: 1 });
  /** A record with, rarely, one unknown key more. */
  const rec = <T extends Record<string, fc.Arbitrary<unknown>>>(shape: T) =>
    fc
      .tuple(fc.record(shape), mostly(fc.constant(null), fc.constantFrom('x', 'extra', '__proto__')))
      .map(([o, k]) => (k === null ? o : { ...o, [k]: 1 }));
  const num = mostly(
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -100, max: 100 }),
    pick(null, '1', true, 1e300),
  );
  const count = mostly(fc.integer({ min: 0, max: 1e6 }), pick(-1, 0.5, '3', null, 2 ** 60));
  const str = (...valid: string[]) =>
    mostly(pick(...valid), fc.oneof(fc.string({ maxLength: 70 }), pick(null, 7)));
  const time = mostly(
    pick('2026-03-06T00:00:00Z', '2026-03-06T00:00:00.5Z', '2026-12-31T23:59:59.999999Z'),
    pick(
      '2026-02-30T00:00:00Z',
      '2026-03-06T00:00Z',
      '2026-03-06 00:00:00Z',
      '2026-03-06T00:00:00+00:00',
      '',
    ),
  );
  const receiver = rec({
    id: str('rx1', 'RX_2', 'a'.repeat(64)),
    link: str('up', 'down'),
    locked: mostly(fc.boolean(), pick('true')),
    service: mostly(pick('cctv1', null, 'a.b_c-1'), pick('Cctv1', '-x', 3)),
    marginDb: mostly(fc.oneof(num, pick(null, 60, -60)), pick(60.0001, -61)),
    lnb: str('ok', 'short', 'no_load', 'off', 'unknown'),
    family: str('rx8200', 'x-1'),
    sharing: str('service', 'transponder'),
  });
  const applied = rec({
    version: rec({ epoch: count, n: count }),
    hash: str(HASH, 'f'.repeat(64)),
    appliedAt: time,
  });
  const state = rec({
    online: mostly(pick(true), pick(false, 'true', 1)),
    boot: rec({ n: count, conn: count }),
    storeId: str(STORE, 'f'.repeat(64), 'f'.repeat(65), 'F'.repeat(16)),
    agentVersion: str('0.1.0', 'x'.repeat(64), ''),
    protocolRevision: count,
    plannerVersion: mostly(fc.integer({ min: 1, max: 9 }), pick(0, -1, 1.5)),
    at: time,
    schedule: mostly(fc.oneof(applied, pick(null)), pick({}, 'x')),
    receivers: mostly(
      fc.array(receiver, { maxLength: 3 }),
      fc.oneof(fc.array(receiver, { minLength: 9, maxLength: 9 }), pick(null, {})),
    ),
    clock: rec({
      offsetMs: fc.oneof(num, pick(null)),
      rttMs: mostly(
        fc.oneof(
          num.map((x) => (typeof x === 'number' ? Math.abs(x) : x)),
          pick(null),
        ),
        pick(-1),
      ),
      trusted: mostly(fc.boolean(), pick(null)),
    }),
  });
  let fastSeen = 0;
  fc.assert(
    fc.property(state, (s) => {
      const r = agrees(s);
      if (r.fast) fastSeen++;
      return r.agree;
    }),
    { numRuns: 20_000, seed: 42 },
  );
  // Without this the property could hold only because the fast path never answers.
  t.ok(fastSeen > 0, `the fast path answered on ${fastSeen} generated states`);
  // And valid states with fields perturbed one at a time agree too.
  fc.assert(
    fc.property(
      fc.constantFrom(...Object.keys(birth())),
      fc.jsonValue(),
      (k, v) => agrees(birth({ [k]: v })).agree,
    ),
    { numRuns: 5_000, seed: 7 },
  );
});
