/**
 * Several detectors may speak for one station alarm: `scrambled` on a receiver is raised from the
 * receiver's CA status (service-watch.ts) and from "no decodable video while locked" (content-check.ts).
 * The alarm (one per kind and receiver, device/link/alarms.ts) is raised when the first source raises and
 * cleared only when every source has cleared, so one source clearing cannot hide the other's evidence.
 */
import type { AlarmKind } from '../../protocol/registry.js';

type Evidence = Record<string, number | string | boolean | null>;

/** The part of StationAlarms the detectors use. */
export interface AlarmSink {
  raise(kind: AlarmKind, message: string, evidence?: Evidence, receiverId?: string): void;
  clear(kind: AlarmKind, evidence?: Evidence, receiverId?: string): void;
}

export class AlarmSlots {
  private readonly sources = new Map<string, Set<string>>();

  constructor(private readonly sink: AlarmSink) {}

  /** `source` raises `kind` on `receiverId`. */
  raise(kind: AlarmKind, receiverId: string, source: string, message: string, evidence: Evidence): void {
    const slot = `${kind}/${receiverId}`;
    const set = this.sources.get(slot) ?? new Set<string>();
    const first = set.size === 0;
    set.add(source);
    this.sources.set(slot, set);
    if (first) this.sink.raise(kind, message, evidence, receiverId);
  }

  /** `source` no longer sees `kind` on `receiverId`; the alarm clears when no source does. */
  clear(kind: AlarmKind, receiverId: string, source: string, evidence: Evidence): void {
    const slot = `${kind}/${receiverId}`;
    const set = this.sources.get(slot);
    if (!set?.delete(source)) return;
    if (set.size > 0) return;
    this.sources.delete(slot);
    this.sink.clear(kind, evidence, receiverId);
  }

  isRaised(kind: AlarmKind, receiverId: string): boolean {
    return (this.sources.get(`${kind}/${receiverId}`)?.size ?? 0) > 0;
  }
}
