/**
 * Service watch (DOMAIN.md §6 "Scrambled service: scrambling bits / receiver CA status", "Service/PID
 * reshuffle: PAT/PMT change"): on every receiver status poll, while the receiver holds a service the plan
 * needs and is locked, the receiver's own alarms say whether it can descramble the service (`scrambled`)
 * and whether the service is still in the multiplex (`serviceMissing`, RX8200 alarm bitmap,
 * protocol/rx8200/alarms.ts). Each raises the station alarm of the same name after `alarmRaiseHoldMs` and
 * clears it after `alarmClearHoldMs` of absence. An idle receiver is never judged, and a receiver that goes
 * idle drops what it had raised.
 */
import type { Logger } from 'pino';
import type { AlarmKind } from '../../protocol/registry.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Clock } from '../link/clock.js';
import type { ReceiverStatus } from '../receiver/driver.js';
import type { AlarmSlots } from './alarm-slots.js';
import { HeldCondition } from './held-condition.js';

/** What the watch reads of a receiver (ReceiverControl fits). */
export interface WatchedReceiver {
  readonly id: string;
  /** The line-up key of the service the executor holds the receiver for; null = idle. */
  readonly service: string | null;
  readonly lastStatus: ReceiverStatus | null;
}

/** The service findings of one status reading (pure). Unlocked says nothing about the service. */
export function serviceFindings(status: ReceiverStatus | null): {
  scrambled: boolean;
  serviceMissing: boolean;
} {
  if (!status?.locked) return { scrambled: false, serviceMissing: false };
  const missing = status.alarms.includes('serviceMissing');
  return { scrambled: !missing && status.alarms.includes('scrambled'), serviceMissing: missing };
}

export interface ServiceWatchDeps {
  receivers: () => Iterable<WatchedReceiver>;
  /** DVB service id of a line-up key (evidence), null when unknown. */
  serviceIdOf: (service: string) => number | null;
  slots: AlarmSlots;
  clock: Clock;
  /** Headend time (evidence timestamps). */
  now: () => number;
  timing: Pick<TimingProfile, 'receiverPollMs' | 'alarmRaiseHoldMs' | 'alarmClearHoldMs'>;
  logger: Logger;
  /** Called on every check while a kind is raised on a receiver (recording notes, content-check.ts). */
  onActive?: (kind: 'scrambled' | 'service_missing', receiverId: string, message: string) => void;
}

const KINDS = [
  { kind: 'scrambled', finding: 'scrambled' },
  { kind: 'service_missing', finding: 'serviceMissing' },
] as const satisfies readonly { kind: AlarmKind; finding: 'scrambled' | 'serviceMissing' }[];

const SOURCE = 'receiver-status';
const utc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Watched {
  conditions: Record<'scrambled' | 'service_missing', HeldCondition>;
  service: string | null;
  messages: Partial<Record<'scrambled' | 'service_missing', string>>;
}

export class ServiceWatch {
  private readonly state = new Map<string, Watched>();
  private cancel: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly deps: ServiceWatchDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
  }

  /** One pass over the receivers (the timer calls it every `receiverPollMs`; tests may call it). */
  check(): void {
    const d = this.deps;
    const mono = d.clock.monotonic();
    for (const rx of d.receivers()) {
      const w = this.watched(rx.id);
      if (rx.service === null || (w.service !== null && w.service !== rx.service)) {
        // Idle, or moved to another service: what was raised for the old one no longer holds.
        for (const { kind } of KINDS) {
          if (w.conditions[kind].reset() === 'clear')
            d.slots.clear(kind, rx.id, SOURCE, {
              reason: 'receiver released or retuned',
              service: w.service,
            });
        }
      }
      w.service = rx.service;
      if (rx.service === null) continue;
      const f = serviceFindings(rx.lastStatus);
      for (const { kind, finding } of KINDS) {
        const c = w.conditions[kind];
        const tr = c.observe(f[finding], mono);
        if (tr === 'raise') {
          const message = this.message(kind, rx.id, rx.service, mono);
          w.messages[kind] = message;
          d.slots.raise(kind, rx.id, SOURCE, message, this.evidence(kind, rx.id, rx.service, mono));
          d.logger.warn({ receiverId: rx.id, service: rx.service, kind }, message);
        } else if (tr === 'clear') {
          d.slots.clear(kind, rx.id, SOURCE, {
            service: rx.service,
            reason: 'the receiver no longer reports it',
          });
          d.logger.info({ receiverId: rx.id, service: rx.service, kind }, `${kind} cleared`);
        }
        const m = w.messages[kind];
        if (c.raised && m) d.onActive?.(kind, rx.id, m);
      }
    }
  }

  private watched(id: string): Watched {
    let w = this.state.get(id);
    if (!w) {
      const { alarmRaiseHoldMs: r, alarmClearHoldMs: c } = this.deps.timing;
      w = {
        conditions: { scrambled: new HeldCondition(r, c), service_missing: new HeldCondition(r, c) },
        service: null,
        messages: {},
      };
      this.state.set(id, w);
    }
    return w;
  }

  /** Headend time at which the condition began (monotonic start converted). */
  private sinceOf(kind: 'scrambled' | 'service_missing', rx: string, mono: number): number {
    const since = this.state.get(rx)?.conditions[kind].since ?? mono;
    return this.deps.now() - (mono - since);
  }

  private message(kind: 'scrambled' | 'service_missing', rx: string, service: string, mono: number): string {
    const sid = this.deps.serviceIdOf(service);
    const what = `${service}${sid === null ? '' : ` (service id ${sid})`}`;
    const since = utc(this.sinceOf(kind, rx, mono));
    return kind === 'scrambled'
      ? `${rx} reports ${what} scrambled since ${since}: the receiver cannot descramble it (CA status)`
      : `${rx} reports ${what} missing from the multiplex (PAT) since ${since}: the service moved or ended`;
  }

  private evidence(kind: 'scrambled' | 'service_missing', rx: string, service: string, mono: number) {
    return {
      receiver: rx,
      service,
      serviceId: this.deps.serviceIdOf(service),
      since: new Date(this.sinceOf(kind, rx, mono)).toISOString(),
      source: SOURCE,
    };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.deps.clock.schedule(this.deps.timing.receiverPollMs, () => {
      this.cancel = null;
      try {
        this.check();
      } catch (err) {
        this.deps.logger.error({ err }, 'service watch failed');
      }
      this.schedule();
    });
  }
}
