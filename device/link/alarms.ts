/**
 * Alarms the station raises itself (protocol/failures.ts `raisedBy: 'station'`), sent as `alarm.raised` /
 * `alarm.cleared` events through the outbox (exactly once, DESIGN.md §4). One instance per kind and
 * receiver at a time: raising an active alarm again changes nothing, so a flapping condition does not
 * flood the outbox; clearing names the same `alarmId`.
 */
import { ALARM_KINDS, type AlarmKind } from '../../protocol/registry.js';
import type { EventBody } from '../store/outbox.js';

type Evidence = Record<string, number | string | boolean | null>;

export class StationAlarms {
  private readonly active = new Map<string, string>();
  private counter = 0;

  constructor(
    private readonly emit: (body: EventBody) => void,
    private readonly now: () => number,
  ) {}

  /** Raises `kind` (for one receiver, or the station) unless it is already raised. */
  raise(kind: AlarmKind, message: string, evidence: Evidence = {}, receiverId?: string): void {
    const slot = `${kind}/${receiverId ?? ''}`;
    if (this.active.has(slot)) return;
    const at = this.now();
    const alarmId = `${kind.replace(/_/g, '-')}-${at.toString(36)}-${(this.counter++).toString(36)}`.slice(
      0,
      64,
    );
    this.active.set(slot, alarmId);
    this.emit({
      type: 'alarm.raised',
      at: new Date(at).toISOString(),
      alarmId,
      kind,
      severity: ALARM_KINDS[kind].severity,
      ...(receiverId ? { receiverId } : {}),
      message: message.slice(0, 500) || ALARM_KINDS[kind].summary,
      evidence,
    } as EventBody);
  }

  /** Clears `kind` if raised. */
  clear(kind: AlarmKind, evidence?: Evidence, receiverId?: string): void {
    const slot = `${kind}/${receiverId ?? ''}`;
    const alarmId = this.active.get(slot);
    if (!alarmId) return;
    this.active.delete(slot);
    this.emit({
      type: 'alarm.cleared',
      at: new Date(this.now()).toISOString(),
      alarmId,
      kind,
      ...(evidence ? { evidence } : {}),
    } as EventBody);
  }

  isRaised(kind: AlarmKind, receiverId?: string): boolean {
    return this.active.has(`${kind}/${receiverId ?? ''}`);
  }
}
