/**
 * Link arithmetic (protocol/link-budget.ts) against DOMAIN.md §2's tables and margin policy.
 */
import fc from 'fast-check';
import t, { type Test } from 'tap';
import {
  classifyMargin,
  DEFAULT_MARGIN_POLICY,
  DVBS2_REQUIRED_ESN0_DB,
  LinkBudgetError,
  type MarginLevel,
  marginDb,
  nextMarginLevel,
  requiredCnDb,
  tableRequiredCnDb,
} from '../../protocol/link-budget.js';
import { FEC_RATES, MODULATIONS } from '../../protocol/messages/tuning.js';

const close = (t: Test, actual: number, expected: number, tol: number, msg: string) =>
  t.ok(Math.abs(actual - expected) <= tol, `${msg}: ${actual.toFixed(3)} ≈ ${expected} ± ${tol}`);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof LinkBudgetError ? err.code : `other: ${String(err)}`;
  }
  return 'no error';
}

t.test('DVB-S QPSK 3/4 needs ≈ 6.9 dB Es/N0, as DOMAIN.md §2 says', async (t) => {
  const modcod = { system: 'DVB-S', modulation: 'QPSK', fec: '3/4' } as const;
  close(t, tableRequiredCnDb(modcod), 6.9, 0.05, 'table figure');
  close(t, requiredCnDb(modcod), 6.9, 0.05, 'with the default 0.8 dB loss (already inside EN 300 421)');
  close(t, requiredCnDb(modcod, { implementationLossDb: 1.3 }), 7.4, 0.05, 'loss beyond 0.8 dB is added');
  close(t, requiredCnDb(modcod, { implementationLossDb: 0 }), 6.9, 0.05, 'never below the table');
});

t.test('DVB-S Eb/N0 → Es/N0 for every rate: Eb/N0 + 10·log10(2·R·188/204)', async (t) => {
  const expected: Record<string, number> = { '1/2': 4.5, '2/3': 5.0, '3/4': 5.5, '5/6': 6.0, '7/8': 6.4 };
  for (const [fec, ebn0] of Object.entries(expected)) {
    const [n, d] = fec.split('/').map(Number) as [number, number];
    const esn0 = ebn0 + 10 * Math.log10(((2 * n) / d) * (188 / 204));
    close(
      t,
      tableRequiredCnDb({ system: 'DVB-S', modulation: 'QPSK', fec: fec as '1/2' }),
      esn0,
      1e-9,
      `DVB-S ${fec}`,
    );
  }
  close(t, tableRequiredCnDb({ system: 'DVB-S', modulation: 'QPSK', fec: '1/2' }), 4.15, 0.01, 'QPSK 1/2');
  close(t, tableRequiredCnDb({ system: 'DVB-S', modulation: 'QPSK', fec: '7/8' }), 8.47, 0.01, 'QPSK 7/8');
});

t.test('DVB-S2 uses the EN 302 307 figures plus the whole implementation loss', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['QPSK', '1/4', -2.35],
    ['QPSK', '1/2', 1.0],
    ['QPSK', '3/4', 4.03],
    ['QPSK', '9/10', 6.42],
    ['8PSK', '3/5', 5.5],
    ['8PSK', '9/10', 11.03],
  ];
  for (const [modulation, fec, esn0] of cases) {
    const c = { system: 'DVB-S2', modulation, fec } as Parameters<typeof requiredCnDb>[0];
    t.equal(tableRequiredCnDb(c), esn0, `${modulation} ${fec} table`);
    close(t, requiredCnDb(c), esn0 + 0.8, 1e-9, `${modulation} ${fec} with default loss`);
  }
});

t.test('required C/N grows with the code rate within each modulation', async (t) => {
  for (const modulation of MODULATIONS) {
    const rates = FEC_RATES.filter((fec) => DVBS2_REQUIRED_ESN0_DB[modulation][fec] !== undefined);
    const values = rates.map((fec) => requiredCnDb({ system: 'DVB-S2', modulation, fec }));
    t.same(
      values,
      [...values].sort((a, b) => a - b),
      `${modulation} ascending`,
    );
  }
  t.ok(
    requiredCnDb({ system: 'DVB-S2', modulation: '8PSK', fec: '3/4' }) >
      requiredCnDb({ system: 'DVB-S2', modulation: 'QPSK', fec: '3/4' }),
    '8PSK needs more than QPSK at the same rate',
  );
});

t.test('undefined modes and bad inputs are typed errors', async (t) => {
  t.equal(
    codeOf(() => requiredCnDb({ system: 'DVB-S', modulation: '8PSK', fec: '3/4' })),
    'unsupported-modcod',
  );
  t.equal(
    codeOf(() => requiredCnDb({ system: 'DVB-S', modulation: 'QPSK', fec: '4/5' })),
    'unsupported-modcod',
  );
  t.equal(
    codeOf(() => requiredCnDb({ system: 'DVB-S2', modulation: '8PSK', fec: '1/2' })),
    'unsupported-modcod',
  );
  t.equal(
    codeOf(() =>
      requiredCnDb({ system: 'DVB-S2', modulation: 'QPSK', fec: '1/2' }, { implementationLossDb: -1 }),
    ),
    'bad-value',
  );
  t.equal(
    codeOf(() => marginDb(Number.NaN, { system: 'DVB-S2', modulation: 'QPSK', fec: '1/2' })),
    'bad-value',
  );
  t.equal(
    codeOf(() => classifyMargin(Number.NaN)),
    'bad-value',
  );
  t.equal(
    codeOf(() => classifyMargin(2, { warningBelowDb: 1, alarmBelowDb: 3, hysteresisDb: 0 })),
    'bad-policy',
  );
  t.equal(
    codeOf(() => classifyMargin(2, { warningBelowDb: 3, alarmBelowDb: 1, hysteresisDb: -1 })),
    'bad-policy',
  );
});

t.test('margin = measured − required', async (t) => {
  // CCTV multiplex (DVB-S QPSK 3/4) measured at 10.2 dB C/N: 3.3 dB of margin → healthy.
  const cctv = { system: 'DVB-S', modulation: 'QPSK', fec: '3/4' } as const;
  close(t, marginDb(10.2, cctv), 3.29, 0.01, 'margin');
  t.equal(classifyMargin(marginDb(10.2, cctv)), 'healthy');
  t.equal(classifyMargin(marginDb(8.9, cctv)), 'warning');
  t.equal(classifyMargin(marginDb(7.5, cctv)), 'alarm');
});

t.test('policy levels at the thresholds (healthy ≥ 3, warning < 3, alarm < 1)', async (t) => {
  t.equal(classifyMargin(3), 'healthy');
  t.equal(classifyMargin(2.99), 'warning');
  t.equal(classifyMargin(1), 'warning');
  t.equal(classifyMargin(0.99), 'alarm');
  t.equal(classifyMargin(-4), 'alarm');
  t.equal(classifyMargin(null), 'alarm', 'no lock, no measurement: alarm');
  t.equal(
    classifyMargin(4, { warningBelowDb: 5, alarmBelowDb: 2, hysteresisDb: 0 }),
    'warning',
    'configurable',
  );
});

t.test('hysteresis: worse at once, better only past threshold + band', async (t) => {
  const walk = (start: MarginLevel, samples: Array<number | null>) => {
    let level = start;
    return samples.map((m) => {
      level = nextMarginLevel(level, m);
      return level;
    });
  };
  t.same(walk('healthy', [3.2, 2.9, 3.1, 3.4, 3.5, 2.99]), [
    'healthy',
    'warning',
    'warning',
    'warning',
    'healthy',
    'warning',
  ]);
  t.same(walk('healthy', [0.5, 1.2, 1.49, 1.5, 3.6]), ['alarm', 'alarm', 'alarm', 'warning', 'healthy']);
  t.same(
    walk('alarm', [3.2]),
    ['warning'],
    'from alarm, 3.2 dB clears the alarm band but not the warning band',
  );
  t.same(walk('healthy', [null, 5]), ['alarm', 'healthy']);
  t.same(
    walk('healthy', [3.1, 2.9, 3.1, 2.9, 3.1, 2.9]),
    ['healthy', 'warning', 'warning', 'warning', 'warning', 'warning'],
    'a margin hovering at 3 dB does not flap',
  );
  t.equal(
    nextMarginLevel('warning', 3.2, { ...DEFAULT_MARGIN_POLICY, hysteresisDb: 0 }),
    'healthy',
    'no band, no memory',
  );
});

t.test(
  'property: the hysteresis level is never better than the memoryless level, and never flaps',
  async (t) => {
    fc.assert(
      fc.property(
        fc.constantFrom<MarginLevel>('healthy', 'warning', 'alarm'),
        fc.array(fc.oneof(fc.double({ min: -10, max: 20, noNaN: true }), fc.constant(null)), {
          maxLength: 50,
        }),
        (start, samples) => {
          let level = start;
          const rank = { healthy: 0, warning: 1, alarm: 2 };
          for (const m of samples) {
            const next = nextMarginLevel(level, m);
            const raw = classifyMargin(m);
            if (rank[next] < rank[raw]) throw new Error(`level ${next} better than the sample's ${raw}`);
            if (rank[next] < rank[level] && m !== null) {
              // an improvement must be justified by clearing the band
              const bar = next === 'healthy' ? 3.5 : 1.5;
              if (m < bar) throw new Error(`improved to ${next} at ${m} dB`);
            }
            level = next;
          }
        },
      ),
      { seed: 42, numRuns: 2000 },
    );
    t.pass('2000 random margin series');
  },
);
