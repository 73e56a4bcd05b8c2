/**
 * Every planner golden vector (tests/golden/planner/*.json, see the README there) plans exactly as written.
 * The vectors' expected plans were worked out by hand from DESIGN.md §5; a difference here is either a
 * planner change that must bump PLANNER_VERSION, or a bug.
 */
import t from 'tap';
import { PLAN_REASON_CODES, plan } from '../../protocol/planner/index.js';
import { PLAN_OUTCOMES } from '../../protocol/registry.js';
import { goldenView, loadPlannerVectors } from '../helpers/golden.js';

const vectors = loadPlannerVectors();

for (const { name, vector } of vectors) {
  t.test(name, async (t) => {
    const result = plan(vector.document, vector.window);
    t.same(goldenView(result), vector.expected, vector.description);
  });
}

t.test('the vectors cover every outcome, reason, sharing mode, and the cases issue 2 asks for', async (t) => {
  t.ok(vectors.length >= 8, `${vectors.length} vectors`);
  const expected = vectors.flatMap((v) => v.vector.expected);
  for (const outcome of PLAN_OUTCOMES)
    t.ok(
      expected.some((o) => o.outcome === outcome),
      `outcome ${outcome}`,
    );
  for (const code of PLAN_REASON_CODES)
    t.ok(
      expected.some((o) => o.reason?.code === code),
      `reason ${code}`,
    );
  const docs = vectors.map((v) => v.vector.document);
  t.ok(
    docs.some((d) => d.receivers.some((r) => r.sharing === 'transponder')),
    'transponder sharing',
  );
  t.ok(
    docs.some((d) => d.receivers.length > 1),
    'several receivers',
  );
  t.ok(
    docs.some((d) => d.timeZone === 'Europe/Berlin'),
    'a DST zone',
  );
  t.ok(
    expected.some((o) => o.parts.length >= 2),
    'an occurrence cut into two parts',
  );
  t.ok(
    expected.some((o) => o.cuts.some((c) => c.padding) && o.outcome === 'planned'),
    'padding cut, still planned',
  );
});
