/**
 * Alarms the station raises itself (protocol/failures.ts `raisedBy: 'station'`), sent as `alarm.raised` /
 * `alarm.cleared` events through the outbox (exactly once, DESIGN.md §4). One instance per kind and
 * receiver at a time: raising an active alarm again changes nothing, so a flapping condition does not
 * flood the outbox; clearing names the same `alarmId`.
 *
 * The active set outlives the agent: every change is committed with its event (`commit` gets the set after
 * the change), and a new run starts from the stored set. An alarm restored that way is only *remembered*:
 * the detector that raised it may no longer see the condition, and detectors report transitions, not
 * states. So a restored alarm that no detector raises again before {@link StationAlarms.reconcile} runs
 * (the agent calls it once its detectors have had their raise holds) is cleared with the evidence "not
 * seen again after the agent restarted" — instead of staying active at the headend for good.
 */
import { ALARM_KINDS, type AlarmKind } from '../../protocol/registry.js';
import type { ActiveAlarm } from '../store/alarm-state.js';
import type { EventBody } from '../store/outbox.js';

type Evidence = Record<string, number | string | boolean | null>;

/**
 * Kinds that report a fact with no condition to re-check (an outbox row quarantined): a restart does not
 * make them untrue, so reconciliation keeps them.
 */
const FACTS: ReadonlySet<AlarmKind> = new Set<AlarmKind>(['outbox_quarantined']);

interface Slot extends ActiveAlarm {
  /** Raised (or raised again) by this run; false for an alarm restored from the store and not yet seen. */
  confirmed: boolean;
}

export class StationAlarms {
  private readonly active = new Map<string, Slot>();
  private counter = 0;

  /**
   * @param commit appends the event and stores the active set after the change, in one transaction.
   * @param restored the active set the previous run left (the store's `alarmState`).
   */
  constructor(
    private readonly commit: (body: EventBody, active: readonly ActiveAlarm[]) => void,
    private readonly now: () => number,
    restored: readonly ActiveAlarm[] = [],
  ) {
    for (const a of restored) this.active.set(slotOf(a.kind, a.receiverId), { ...a, confirmed: false });
  }

  /** Raises `kind` (for one receiver, or the station) unless it is already raised. */
  raise(kind: AlarmKind, message: string, evidence: Evidence = {}, receiverId?: string): void {
    const slot = slotOf(kind, receiverId);
    const existing = this.active.get(slot);
    if (existing) {
      existing.confirmed = true;
      return;
    }
    const at = this.now();
    const alarmId = `${kind.replace(/_/g, '-')}-${at.toString(36)}-${(this.counter++).toString(36)}`.slice(
      0,
      64,
    );
    const raisedAt = new Date(at).toISOString();
    this.active.set(slot, {
      alarmId,
      kind,
      ...(receiverId ? { receiverId } : {}),
      raisedAt,
      confirmed: true,
    });
    this.commit(
      {
        type: 'alarm.raised',
        at: raisedAt,
        alarmId,
        kind,
        severity: ALARM_KINDS[kind].severity,
        ...(receiverId ? { receiverId } : {}),
        message: message.slice(0, 500) || ALARM_KINDS[kind].summary,
        evidence,
      } as EventBody,
      this.snapshot(),
    );
  }

  /** Clears `kind` if raised. */
  clear(kind: AlarmKind, evidence?: Evidence, receiverId?: string): void {
    const slot = slotOf(kind, receiverId);
    const a = this.active.get(slot);
    if (!a) return;
    this.active.delete(slot);
    this.commit(
      {
        type: 'alarm.cleared',
        at: new Date(this.now()).toISOString(),
        alarmId: a.alarmId,
        kind,
        ...(evidence ? { evidence } : {}),
      } as EventBody,
      this.snapshot(),
    );
  }

  isRaised(kind: AlarmKind, receiverId?: string): boolean {
    return this.active.has(slotOf(kind, receiverId));
  }

  /** Restored alarms no detector has raised again yet. */
  unconfirmed(): ActiveAlarm[] {
    return [...this.active.values()].filter((a) => !a.confirmed).map(strip);
  }

  /**
   * Clears every restored alarm not raised again by this run (facts excepted); returns what it cleared.
   * Call once, after the detectors have had their raise holds.
   */
  reconcile(): ActiveAlarm[] {
    const stale = this.unconfirmed().filter((a) => !FACTS.has(a.kind));
    for (const a of stale) {
      this.clear(
        a.kind,
        {
          reason: 'not seen again after the agent restarted',
          raisedAt: a.raisedAt,
        },
        a.receiverId,
      );
    }
    return stale;
  }

  private snapshot(): ActiveAlarm[] {
    return [...this.active.values()].map(strip);
  }
}

function slotOf(kind: AlarmKind, receiverId: string | undefined): string {
  return `${kind}/${receiverId ?? ''}`;
}

function strip(s: Slot): ActiveAlarm {
  const { confirmed: _, ...a } = s;
  return a;
}
