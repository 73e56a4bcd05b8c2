/**
 * The receiver recovery ladder (DOMAIN.md §6): re-apply the desired tuning → receiver reset → escalate
 * (raise an alarm for a relay power-cycle or a site visit), with backoff between rungs and a daily cap on
 * the disruptive rungs, all from the timing profile (recoveryBackoffMs, recoveryDailyCap).
 *
 * Split as "pure core, thin shell" (STYLE.md §4): `decideRecovery` is a pure function of the ladder state,
 * an observation and the time, tested with a fake clock; `RecoveryRunner` carries out its decisions on a
 * driver and logs every decision as `ladder: <rung> — <reason>` (`ladderDecision`), including a reset the
 * ladder chose but could not carry out ("ladder: reset (unsupported by this receiver) → escalate"), so a
 * test or a technician reading `logs.tail` sees what the ladder decided, not only what the driver did.
 * Rules from DOMAIN.md §6:
 * - settings forgotten (read-back ≠ desired) → re-apply the full desired tuning (idempotent);
 * - receiver hangs / TS frozen while locked → re-apply, then soft reset, then escalate; capped per day;
 * - no lock while the receiver answers → a signal problem (snow/ice fade: "no reboot"; dish; carrier):
 *   re-apply (the settings may have been lost), then escalate as a signal problem — never a reset;
 * - LNB or cable fault → LNB power off/on ONCE, then a site-visit alarm; no reboot loops;
 * - sun outage → suppressed inside the predicted window (the caller knows the calendar).
 * After escalating, the ladder keeps re-applying slowly (harmless, and it is how a receiver that comes
 * back on its own, e.g. once snow melts off the dish, is noticed) until the problem clears.
 */
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import { type DesiredTuning, isReceiverError, type ReceiverDriver, type ReceiverStatus } from './driver.js';
import { sleep, type Timers } from './timers.js';

/** What is wrong, as seen by the poller (or the recorder, for a frozen stream). */
export type RecoveryProblem = 'mismatch' | 'no-lock' | 'unresponsive' | 'stream-frozen' | 'lnb-fault';

export interface RecoveryObservation {
  /** null = healthy. */
  problem: RecoveryProblem | null;
  /** Inside a predicted sun-outage window: lock loss is expected, do nothing (DOMAIN.md §6). */
  sunOutage?: boolean;
}

export type RecoveryActionKind = 'none' | 'wait' | 'reapply' | 'reset' | 'lnb-cycle' | 'escalate' | 'clear';

export interface RecoveryAction {
  kind: RecoveryActionKind;
  /** Why, in words for logs and the alarm text. */
  reason: string;
  /** For `wait`: when the next rung is allowed (epoch ms). */
  untilMs?: number;
  /**
   * The ladder reached its reset rung but did not reset: the receiver has no remote reset (`unsupported`)
   * or the day's cap of disruptive actions is spent (`daily-cap`); the action escalates instead.
   */
  declinedReset?: 'unsupported' | 'daily-cap';
}

export interface RecoveryPolicy {
  /** Base backoff between rungs; doubles per rung (timing profile recoveryBackoffMs). */
  backoffMs: number;
  /** Disruptive actions (resets, LNB cycles) allowed in any 24 h (timing profile recoveryDailyCap). */
  dailyCap: number;
  /** Whether the driver can reset the receiver (capability); if not, that rung escalates. */
  canReset: boolean;
}

export function recoveryPolicy(
  timing: Pick<TimingProfile, 'recoveryBackoffMs' | 'recoveryDailyCap'>,
  canReset: boolean,
): RecoveryPolicy {
  return { backoffMs: timing.recoveryBackoffMs, dailyCap: timing.recoveryDailyCap, canReset };
}

/** Ladder rungs, in order. `escalated` = alarm raised, slow re-apply only. */
export type Rung = 'reapply' | 'reset' | 'reapply-after-reset' | 'escalate' | 'escalated';

export interface RecoveryState {
  problem: RecoveryProblem | null;
  rung: Rung;
  /** No action before this instant (epoch ms). */
  nextAllowedAt: number;
  /** Instants of disruptive actions (resets, LNB cycles), for the rolling 24 h cap. */
  disruptive: readonly number[];
  /** The LNB has been power-cycled for the current LNB fault (once only). */
  lnbCycled: boolean;
}

export const initialRecoveryState: RecoveryState = {
  problem: null,
  rung: 'reapply',
  nextAllowedAt: 0,
  disruptive: [],
  lnbCycled: false,
};

const DAY_MS = 24 * 60 * 60 * 1000;
/** After escalation, re-apply every this many base backoffs. */
const ESCALATED_REAPPLY_FACTOR = 10;

/** Decide the next step of the ladder (pure). */
export function decideRecovery(
  state: RecoveryState,
  obs: RecoveryObservation,
  now: number,
  policy: RecoveryPolicy,
): { state: RecoveryState; action: RecoveryAction } {
  const disruptive = state.disruptive.filter((t) => now - t < DAY_MS);
  if (obs.problem === null) {
    const wasEscalated = state.rung === 'escalated';
    const next = { ...initialRecoveryState, disruptive };
    return {
      state: next,
      action: wasEscalated
        ? { kind: 'clear', reason: `receiver healthy again (was: ${state.problem})` }
        : { kind: 'none', reason: 'healthy' },
    };
  }
  if (obs.sunOutage && (obs.problem === 'no-lock' || obs.problem === 'stream-frozen')) {
    return {
      state: { ...state, disruptive },
      action: { kind: 'none', reason: 'inside a sun-outage window' },
    };
  }
  // A different problem starts the ladder again (the reset history and its cap carry over).
  let s: RecoveryState =
    obs.problem === state.problem
      ? { ...state, disruptive }
      : { ...initialRecoveryState, problem: obs.problem, disruptive, nextAllowedAt: state.nextAllowedAt };
  if (now < s.nextAllowedAt) {
    return {
      state: s,
      action: { kind: 'wait', reason: `backing off (${obs.problem})`, untilMs: s.nextAllowedAt },
    };
  }
  const capLeft = policy.dailyCap - s.disruptive.length;
  const after = (rungIndex: number) => now + policy.backoffMs * 2 ** rungIndex;

  if (obs.problem === 'lnb-fault') {
    if (!s.lnbCycled && capLeft > 0 && s.rung !== 'escalated') {
      s = { ...s, lnbCycled: true, disruptive: [...s.disruptive, now], nextAllowedAt: after(1) };
      return {
        state: s,
        action: { kind: 'lnb-cycle', reason: 'LNB supply fault: power-cycling the LNB once' },
      };
    }
    if (s.rung !== 'escalated') {
      s = { ...s, rung: 'escalated', nextAllowedAt: after(2) };
      return {
        state: s,
        action: { kind: 'escalate', reason: 'LNB or cable fault persists: site visit needed' },
      };
    }
    return { state: s, action: { kind: 'none', reason: 'LNB fault escalated; no reboot loops' } };
  }

  if (obs.problem === 'no-lock') {
    // The receiver answers but finds no carrier: snow/ice fade, dish, LNB drift, carrier or satellite — a
    // signal problem (DOMAIN.md §6 "Snow/ice fade … no reboot"). A re-apply covers lost settings; a reset
    // cannot bring a signal back, so the ladder escalates it as a signal problem instead.
    if (s.rung === 'reapply') {
      s = { ...s, rung: 'escalate', nextAllowedAt: after(0) };
      return {
        state: s,
        action: { kind: 'reapply', reason: 'no-lock: re-applying the desired tuning' },
      };
    }
    if (s.rung !== 'escalated') {
      s = { ...s, rung: 'escalated', nextAllowedAt: now + policy.backoffMs * ESCALATED_REAPPLY_FACTOR };
      return {
        state: s,
        action: {
          kind: 'escalate',
          reason:
            'no-lock: no lock after re-applying the tuning while the receiver answers: a signal problem',
        },
      };
    }
    s = { ...s, nextAllowedAt: now + policy.backoffMs * ESCALATED_REAPPLY_FACTOR };
    return { state: s, action: { kind: 'reapply', reason: 'no-lock (escalated): slow re-apply' } };
  }

  switch (s.rung) {
    case 'reapply':
      s = { ...s, rung: 'reset', nextAllowedAt: after(0) };
      return {
        state: s,
        action: { kind: 'reapply', reason: `${obs.problem}: re-applying the desired tuning` },
      };
    case 'reset':
      if (policy.canReset && capLeft > 0) {
        s = {
          ...s,
          rung: 'reapply-after-reset',
          disruptive: [...s.disruptive, now],
          nextAllowedAt: after(1),
        };
        return {
          state: s,
          action: { kind: 'reset', reason: `${obs.problem} after re-apply: resetting the receiver` },
        };
      }
      s = { ...s, rung: 'escalated', nextAllowedAt: now + policy.backoffMs * ESCALATED_REAPPLY_FACTOR };
      return {
        state: s,
        action: {
          kind: 'escalate',
          declinedReset: policy.canReset ? 'daily-cap' : 'unsupported',
          reason: policy.canReset
            ? `${obs.problem}: daily cap of ${policy.dailyCap} resets reached`
            : `${obs.problem}: re-apply did not help and this receiver has no remote reset`,
        },
      };
    case 'reapply-after-reset':
      s = { ...s, rung: 'escalate', nextAllowedAt: after(2) };
      return { state: s, action: { kind: 'reapply', reason: `${obs.problem}: re-applying after the reset` } };
    case 'escalate':
      s = { ...s, rung: 'escalated', nextAllowedAt: now + policy.backoffMs * ESCALATED_REAPPLY_FACTOR };
      return {
        state: s,
        action: { kind: 'escalate', reason: `${obs.problem} persists after re-apply and reset` },
      };
    case 'escalated':
      s = { ...s, nextAllowedAt: now + policy.backoffMs * ESCALATED_REAPPLY_FACTOR };
      return { state: s, action: { kind: 'reapply', reason: `${obs.problem} (escalated): slow re-apply` } };
  }
}

const STEP: Record<RecoveryActionKind, string> = {
  none: 'none',
  wait: 'wait',
  reapply: 're-apply',
  reset: 'reset',
  'lnb-cycle': 'LNB power cycle',
  escalate: 'escalate',
  clear: 'clear',
};

/**
 * The log line of one ladder decision (pure): `ladder: <rung> — <reason>`. A reset the ladder chose but
 * did not carry out is named as such: `ladder: reset (unsupported by this receiver) → escalate — …`.
 */
export function ladderDecision(a: RecoveryAction): string {
  const step = a.declinedReset
    ? `reset (${a.declinedReset === 'unsupported' ? 'unsupported by this receiver' : 'daily cap reached'}) → escalate`
    : STEP[a.kind];
  return `ladder: ${step} — ${a.reason}`;
}

/** Classify a status reading against the desired tuning (pure). null = healthy. */
export function classifyStatus(status: ReceiverStatus, desired: DesiredTuning): RecoveryProblem | null {
  if (status.lnb === 'short' || status.lnb === 'no-load') return 'lnb-fault';
  const t = status.tuned;
  const want = desired.transponder;
  if (t) {
    const pol = want.polarisation === 'L' ? 'H' : want.polarisation === 'R' ? 'V' : want.polarisation;
    const differs =
      Math.abs(t.frequencyMHz - want.frequencyMHz) > 0.0625 ||
      Math.abs(t.lnbLoMHz - want.lnbLoMHz) > 0.0625 ||
      t.polarisation !== pol ||
      Math.abs(t.symbolRateKsps - want.symbolRateKsps) > 0.05 ||
      (t.system !== null && t.system !== want.system) ||
      (t.lnbPower !== null && t.lnbPower !== want.lnbPower);
    if (differs) return 'mismatch';
  }
  if (
    desired.serviceId !== undefined &&
    status.serviceId !== null &&
    status.serviceId !== desired.serviceId
  ) {
    return 'mismatch';
  }
  if (!status.locked) return 'no-lock';
  return null;
}

export interface RecoveryRunnerDeps {
  driver: ReceiverDriver;
  timers: Timers;
  logger: Logger;
  policy: RecoveryPolicy;
  /** Raise the escalation alarm (the agent maps it to an alarm kind and the outbox). */
  onEscalate: (reason: string) => void;
  /** Clear it when the receiver is healthy again. */
  onClear: (reason: string) => void;
  /** How long the LNB stays off in an LNB power cycle. */
  lnbOffMs?: number;
  /**
   * Called before a reset or an LNB power cycle: the ladder itself is changing the receiver, so a read-back
   * that differs afterwards is not the receiver forgetting its settings (device/receiver/settings-check.ts).
   */
  onDisruptive?: (kind: 'reset' | 'lnb-cycle') => void;
  /**
   * Called before the ladder re-applies: the caller reads back first, so a receiver that lost power and
   * came back on factory settings is seen as such before the re-apply hides it (DOMAIN.md §6).
   */
  beforeReapply?: () => Promise<void>;
}

/** Carries out the ladder's decisions on a driver. One observation at a time. */
export class RecoveryRunner {
  private state: RecoveryState = initialRecoveryState;
  private desired: DesiredTuning | null = null;
  private busy = false;

  constructor(private readonly deps: RecoveryRunnerDeps) {}

  /** The tuning to restore (the planner's current choice for this receiver); null = idle receiver. */
  setDesired(desired: DesiredTuning | null): void {
    this.desired = desired;
  }

  get ladder(): Readonly<RecoveryState> {
    return this.state;
  }

  /** Apply the desired tuning now (every start and reconnect, DOMAIN.md §6), outside the ladder. */
  async reapply(): Promise<void> {
    const desired = this.desired;
    if (!desired) return;
    await this.deps.driver.tune(desired.transponder);
    if (desired.serviceId !== undefined) await this.deps.driver.selectService(desired.serviceId);
  }

  /** Feed one observation; runs the decided action (errors are logged, never thrown). */
  async observe(obs: RecoveryObservation): Promise<RecoveryAction> {
    if (this.busy) return { kind: 'wait', reason: 'a recovery action is already running' };
    const { state, action } = decideRecovery(this.state, obs, this.deps.timers.now(), this.deps.policy);
    this.state = state;
    if (action.kind === 'none' || action.kind === 'wait') return action;
    this.busy = true;
    const log = this.deps.logger;
    try {
      const fields = {
        action: action.kind,
        problem: obs.problem,
        rung: state.rung,
        ...(action.declinedReset ? { declinedReset: action.declinedReset } : {}),
      };
      if (action.kind === 'clear') log.info(fields, ladderDecision(action));
      else log.warn(fields, ladderDecision(action));
      switch (action.kind) {
        case 'reapply':
          await this.deps.beforeReapply?.();
          await this.reapply();
          break;
        case 'reset':
          this.deps.onDisruptive?.('reset');
          await this.deps.driver.reset();
          await this.reapply();
          break;
        case 'lnb-cycle':
          this.deps.onDisruptive?.('lnb-cycle');
          await this.deps.driver.setLnbPower(false);
          await sleep(this.deps.timers, this.deps.lnbOffMs ?? 2000);
          await this.deps.driver.setLnbPower(true);
          break;
        case 'escalate':
          this.deps.onEscalate(action.reason);
          break;
        case 'clear':
          this.deps.onClear(action.reason);
          break;
      }
    } catch (err) {
      const code = isReceiverError(err) ? err.code : 'UNKNOWN';
      log.warn({ action: action.kind, code, err: (err as Error).message }, 'recovery action failed');
    } finally {
      this.busy = false;
    }
    return action;
  }

  /** Read the status (or note that the receiver did not answer) and feed the ladder. */
  async check(extra: { streamFrozen?: boolean; sunOutage?: boolean } = {}): Promise<RecoveryAction> {
    const desired = this.desired;
    if (!desired) return { kind: 'none', reason: 'no desired tuning' };
    let problem: RecoveryProblem | null;
    let contentFault = false;
    try {
      const status = await this.deps.driver.status();
      problem = classifyStatus(status, desired);
      // A scrambled or vanished service starves the recorder too, but a reset cannot fix either: the
      // station raises `scrambled` / `service_missing` instead (DOMAIN.md §6; device/detect/).
      contentFault = status.alarms.includes('scrambled') || status.alarms.includes('serviceMissing');
    } catch (err) {
      if (!isReceiverError(err, 'TIMEOUT', 'CHECKSUM', 'PORT_CLOSED', 'PROTOCOL')) throw err;
      problem = 'unresponsive';
    }
    if (problem === null && extra.streamFrozen && !contentFault) problem = 'stream-frozen';
    return this.observe({
      problem,
      ...(extra.sunOutage === undefined ? {} : { sunOutage: extra.sunOutage }),
    });
  }
}
