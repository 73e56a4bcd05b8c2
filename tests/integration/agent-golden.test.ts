/**
 * The planner's golden vectors (tests/golden/planner, DESIGN.md §5: "checked by the test suite on both
 * sides") through the agent's own path: each vector's document is taken in by the station's schedule
 * intake exactly as if it arrived on `st/{id}/schedule` (bytes, validation, version rules), loaded into
 * the executor, and then
 * - the executor's own rolling 14-day horizon (planned from the start of the vector's window, as the
 *   station would on that day) must contain exactly the expected occurrences for the window, and
 * - `plan.explain` (the executor's answer to the headend) must equal the expected plan.
 * A station and the headend preview therefore cannot disagree on any vector.
 */
import t from 'tap';
import { Executor } from '../../device/executor/executor.js';
import { decideSchedule } from '../../device/link/schedule-intake.js';
import { silentLogger } from '../../device/log.js';
import { PLAN_HORIZON_DAYS } from '../../protocol/limits.js';
import type { PlannedOccurrence } from '../../protocol/planner/types.js';
import { shortTiming } from '../../protocol/timing.js';
import { FakeClock } from '../helpers/agent-fake-clock.js';
import { goldenView, loadPlannerVectors } from '../helpers/golden.js';

const vectors = loadPlannerVectors();

function view(occ: readonly PlannedOccurrence[]) {
  return goldenView({
    plannerVersion: 1,
    documentVersion: { epoch: 0, n: 0 },
    timeZone: 'UTC',
    window: { from: '', to: '' },
    considered: { from: '', to: '' },
    occurrences: [...occ],
  });
}

t.ok(vectors.length >= 8, `${vectors.length} golden vectors`);

for (const { name, vector } of vectors) {
  t.test(name, async (t) => {
    const bytes = Buffer.from(JSON.stringify(vector.document));
    const decision = decideSchedule(bytes, {
      applied: null,
      lastRejectedHash: null,
      receiverIds: vector.document.receivers.map((r) => r.id),
    });
    if (decision.action !== 'apply')
      throw new Error(`intake did not apply the vector: ${JSON.stringify(decision)}`);
    const from = Date.parse(vector.window.from);
    const to = Date.parse(vector.window.to);
    const clock = new FakeClock(vector.window.from);
    const log = silentLogger();
    const executor = new Executor({
      clock,
      now: () => clock.now() + 60_000,
      timing: shortTiming,
      store: {
        transaction: (fn) => fn({} as never),
        journal: () => undefined,
        event: () => undefined,
        latest: () => undefined,
        openRecording: () => {
          throw new Error('not recording in this test');
        },
        setPlannedEnd: () => undefined,
        finishRecording: () => undefined,
        committed: () => undefined,
      },
      recorder: {
        start: () => {
          throw new Error('not recording in this test');
        },
        finalize: () => Promise.reject(new Error('not recording in this test')),
      },
      disk: { ensureSpace: async () => ({ ok: true }) },
      receiver: () => undefined,
      receivers: new Map(),
      streamUrl: () => 'udp://127.0.0.1:1',
      held: () => false,
      clockTrusted: () => true,
      alarm: () => undefined,
      log,
    });
    executor.load(decision.doc, from);

    // The executor's own horizon (14 days from the station's now), restricted to the vector's window; a
    // window longer than the horizon is compared over the part the horizon covers.
    const horizonEnd = from + 60_000 + PLAN_HORIZON_DAYS * 86_400_000;
    const within = (o: { paddedStart: string; paddedEnd: string }) =>
      Date.parse(o.paddedStart) < Math.min(to, horizonEnd) && Date.parse(o.paddedEnd) > from;
    const horizon = executor.plannedOccurrences().filter(within);
    t.same(view(horizon), vector.expected.filter(within), 'the executor plans what the vector expects');

    const explained = executor.explain(from, to);
    t.same(view(explained.plan?.occurrences ?? []), vector.expected, 'plan.explain gives the vector');
  });
}
