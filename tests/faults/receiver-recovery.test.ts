/**
 * The recovery ladder (DOMAIN.md §6): a hang climbs re-apply → reset → escalate with backoff and a daily
 * cap; no lock with a receiver that answers is a signal problem (snow/ice fade: "no reboot") — re-apply,
 * then escalate, never a reset; LNB power cycle once; sun outage suppressed. The decision logic under a
 * fake clock; the runner against the simulator after a power cut (settings forgotten → re-applied) and a
 * hang (no remote reset → escalated), with its decision log ("ladder: …").
 */
import t from 'tap';
import { LogRing } from '../../device/diagnostics/log-ring.js';
import { createLogger, silentLogger } from '../../device/log.js';
import {
  decideRecovery,
  initialRecoveryState,
  ladderDecision,
  type RecoveryAction,
  type RecoveryObservation,
  type RecoveryPolicy,
  RecoveryRunner,
  type RecoveryState,
  recoveryPolicy,
} from '../../device/receiver/recovery.js';
import { realTimers } from '../../device/receiver/timers.js';
import { defaultTiming, shortTiming } from '../../protocol/timing.js';
import { startSimRig } from '../contract/receiver-harness.js';

const HOUR = 3_600_000;

/** Drives `decideRecovery` like a poller would: one observation per call, at the fake clock's time. */
class Ladder {
  state: RecoveryState = initialRecoveryState;
  now = 1_000_000;
  constructor(readonly policy: RecoveryPolicy) {}
  step(obs: RecoveryObservation | null, advanceMs = 0): RecoveryAction {
    this.now += advanceMs;
    const r = decideRecovery(this.state, obs ?? { problem: null }, this.now, this.policy);
    this.state = r.state;
    return r.action;
  }
  /** Advance to the next allowed instant and step. */
  next(obs: RecoveryObservation): RecoveryAction {
    this.now = Math.max(this.now, this.state.nextAllowedAt);
    return this.step(obs);
  }
}

const noLock: RecoveryObservation = { problem: 'no-lock' };
const hung: RecoveryObservation = { problem: 'unresponsive' };

t.test('a hung receiver climbs re-apply → reset → re-apply → escalate, with growing backoff', async (t) => {
  const l = new Ladder({ backoffMs: 30_000, dailyCap: 6, canReset: true });
  t.equal(l.step(hung).kind, 'reapply');
  const w = l.step(hung, 1000);
  t.equal(w.kind, 'wait', 'backs off before the next rung');
  t.equal(w.untilMs, 1_000_000 + 30_000, 'first backoff = recoveryBackoffMs');
  t.equal(l.next(hung).kind, 'reset');
  t.equal(l.state.nextAllowedAt - l.now, 60_000, 'backoff doubles');
  t.equal(l.next(hung).kind, 'reapply', 're-apply after the reset');
  t.equal(l.next(hung).kind, 'escalate');
  t.equal(l.step(hung, 1000).kind, 'wait', 'no action right after escalating');
  t.equal(l.next(hung).kind, 'reapply', 'then only slow re-applies, never another reset loop');
  t.equal(l.step(null, 1).kind, 'clear', 'healthy again clears the escalation');
  t.equal(l.step(hung, 1).kind, 'reapply', 'a new problem starts at the bottom rung');
});

t.test('no lock with the receiver answering: re-apply, then a signal problem — never a reset', async (t) => {
  // DOMAIN.md §6 "Snow/ice fade … no reboot": even a receiver that CAN reset, with its cap untouched.
  const l = new Ladder({ backoffMs: 30_000, dailyCap: 6, canReset: true });
  const first = l.next(noLock);
  t.equal(first.kind, 'reapply', 'the settings may have been lost: re-apply first');
  t.equal(l.step(noLock, 1000).kind, 'wait', 'backs off before giving up');
  const e = l.next(noLock);
  t.equal(e.kind, 'escalate', 'then escalates');
  t.match(e.reason, /^no-lock: .*signal problem/, `as a signal problem: ${e.reason}`);
  t.equal(e.declinedReset, undefined, 'no reset was even considered');
  const later: string[] = [];
  for (let i = 0; i < 20; i++) later.push(l.next(noLock).kind);
  t.same([...new Set(later)], ['reapply'], 'a long fade gets slow re-applies only');
  t.same(l.state.disruptive, [], 'nothing disruptive spent against the daily cap');
  t.equal(l.step(null, 1).kind, 'clear', 'the lock returning clears the escalation');
});

t.test('a receiver without remote reset (RX8200): the reset rung is declined and escalates', async (t) => {
  const l = new Ladder(recoveryPolicy(defaultTiming, false));
  t.equal(l.next(hung).kind, 'reapply');
  const e = l.next(hung);
  t.equal(e.kind, 'escalate');
  t.equal(e.declinedReset, 'unsupported');
  t.match(e.reason, /no remote reset/);
  t.match(ladderDecision(e), /^ladder: reset \(unsupported by this receiver\) → escalate — unresponsive/);
});

t.test('resets are capped per rolling 24 h', async (t) => {
  const l = new Ladder({ backoffMs: 1000, dailyCap: 2, canReset: true });
  const resetsIn = (n: number) => {
    const kinds: string[] = [];
    for (let i = 0; i < n; i++) {
      l.step(null, HOUR); // healthy for an hour, then the receiver hangs again
      kinds.push(l.next(hung).kind, l.next(hung).kind);
    }
    return kinds;
  };
  t.same(
    resetsIn(3),
    ['reapply', 'reset', 'reapply', 'reset', 'reapply', 'escalate'],
    'third hang of the day escalates',
  );
  t.match(ladderDecision({ kind: 'escalate', reason: 'x', declinedReset: 'daily-cap' }), /daily cap reached/);
  l.step(null, 24 * HOUR);
  t.same(resetsIn(1), ['reapply', 'reset'], 'the cap frees up after 24 h');
});

t.test('LNB fault: one power cycle, then a site-visit alarm, then no loops', async (t) => {
  const l = new Ladder({ backoffMs: 1000, dailyCap: 6, canReset: true });
  const lnb: RecoveryObservation = { problem: 'lnb-fault' };
  t.equal(l.next(lnb).kind, 'lnb-cycle');
  const e = l.next(lnb);
  t.equal(e.kind, 'escalate');
  t.match(e.reason, /site visit/);
  for (let i = 0; i < 5; i++) t.equal(l.next(lnb).kind, 'none', `no action ${i + 1}`);
});

t.test('inside a sun-outage window lock loss is left alone', async (t) => {
  const l = new Ladder({ backoffMs: 1000, dailyCap: 6, canReset: true });
  for (let i = 0; i < 3; i++) t.equal(l.step({ problem: 'no-lock', sunOutage: true }, 60_000).kind, 'none');
  t.equal(
    l.step({ problem: 'mismatch', sunOutage: true }).kind,
    'reapply',
    'forgotten settings are still re-applied',
  );
});

t.test(
  'runner: after a power cut the forgotten tuning is re-applied and the stream service selected',
  async (t) => {
    const rig = await startSimRig(t, { via: 'tcp' });
    const cctv1 = rig.service('cctv1');
    const alarms: string[] = [];
    const runner = new RecoveryRunner({
      driver: rig.driver,
      timers: realTimers,
      logger: silentLogger(),
      policy: recoveryPolicy(shortTiming, rig.driver.capabilities.reset),
      onEscalate: (r) => alarms.push(`raise: ${r}`),
      onClear: (r) => alarms.push(`clear: ${r}`),
    });
    runner.setDesired({ transponder: cctv1.transponder, serviceId: cctv1.serviceId });
    await runner.reapply();
    t.equal((await runner.check()).kind, 'none', 'healthy after the first apply');

    rig.sim.faults.inject({ kind: 'power-cut', durationMs: 500 });
    await new Promise((r) => setTimeout(r, 700));
    const action = await runner.check();
    t.equal(action.kind, 'reapply', 'read-back ≠ desired → re-apply');
    const s = await rig.driver.status();
    t.equal(s.locked, true, 'locked again');
    t.equal(s.serviceId, cctv1.serviceId, 'service selected again');
    t.same(alarms, [], 'no alarm for a power cut that re-applying fixed');
  },
);

t.test('runner: a receiver that stays hung is escalated once (RX8200 has no remote reset)', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  const cctv1 = rig.service('cctv1');
  const alarms: string[] = [];
  const logs = new LogRing(200);
  const runner = new RecoveryRunner({
    driver: rig.driver,
    timers: realTimers,
    logger: createLogger({ level: 'info', name: 'test', destination: logs }),
    policy: recoveryPolicy(shortTiming, rig.driver.capabilities.reset),
    onEscalate: (r) => alarms.push(`raise: ${r}`),
    onClear: (r) => alarms.push(`clear: ${r}`),
  });
  runner.setDesired({ transponder: cctv1.transponder, serviceId: cctv1.serviceId });
  await runner.reapply();
  rig.sim.faults.inject({ kind: 'hang' });
  const kinds: string[] = [];
  for (let i = 0; i < 3; i++) {
    kinds.push((await runner.check()).kind);
    await new Promise((r) => setTimeout(r, shortTiming.recoveryBackoffMs + 50));
  }
  t.same(kinds.slice(0, 2), ['reapply', 'escalate'], `ladder ${kinds.join(' → ')}`);
  t.equal(alarms.length, 1, 'one escalation alarm');
  t.match(alarms[0] ?? '', /unresponsive/);
  const ladder = logs
    .all()
    .map((l) => l.msg)
    .filter((m) => m.startsWith('ladder: '));
  t.match(ladder[0], /^ladder: re-apply — unresponsive/, 'the decision log names each rung');
  t.match(
    ladder[1],
    /^ladder: reset \(unsupported by this receiver\) → escalate/,
    'the reset the RX8200 cannot do is logged as decided and declined',
  );
  rig.sim.faults.clear('hang');
  const after: string[] = [];
  for (let i = 0; i < 2; i++) after.push((await runner.check()).kind);
  t.ok(after.includes('clear'), `cleared once the receiver answers (${after.join(', ')})`);
});
