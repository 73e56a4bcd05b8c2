/**
 * Scripted faults of the simulated receiver: the failures of DOMAIN.md §6 that a station's receiver
 * shows, on a timeline. A script is given at start (a JSON file) and can be replaced, extended or cleared
 * at run time. Each step starts `atMs` after it was loaded and lasts `durationMs` (omitted: until cleared).
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Cancel, Timers } from '../receiver/timers.js';

/**
 * - `fade`        snow/ice on the dish: C/N and level drop by `depthDb` (DOMAIN.md §2, §6).
 * - `sun-outage`  the sun behind the satellite: C/N collapses, level rises (DOMAIN.md §2).
 * - `lnb-short`   LNB or cable short: the supply trips, no signal, LNB status "short" (DOMAIN.md §6).
 * - `hang`        the receiver stops answering on the serial port (DOMAIN.md §6: receiver hangs).
 * - `garbage`     line noise: `bytes` random bytes before every reply while active.
 * - `corrupt`     replies go out with a wrong checksum (a noisy RS-232 run).
 * - `deaf`        set commands are ACKed but not carried out (DOMAIN.md §3: ACK is not success).
 * - `power-cut`   no answers and no stream while active; afterwards the receiver has forgotten its
 *                 settings (DOMAIN.md §6: receiver forgets settings after power loss).
 * - `freeze`      the transport stream stops while the receiver still reports lock (DOMAIN.md §6).
 * - `scrambled`   the service is scrambled (DOMAIN.md §6): the alarm bitmap shows `scrambled` and this
 *                 receiver's output carries its elementary streams with the scrambling bits set and random
 *                 payload (PAT/PMT/SDT clear) — what a recorder gets from a service it cannot descramble.
 * - `service-missing` the service left the multiplex (DOMAIN.md §6, service reshuffle): the bitmap shows
 *                 `serviceMissing`, the output's PAT no longer lists the programme (valid CRC) and its PMT
 *                 and elementary-stream packets are gone.
 * - `black`       black picture and silence with good RF (DOMAIN.md §6): lock and C/N stay normal, the
 *                 output switches to a black/silent variant of the same service (same service id and PIDs).
 *                 With `service` set it only affects receivers on that line-up key — injected at every
 *                 receiver of a simulator process (the control line), that is an upstream black on one
 *                 service, and they all share one black source through the stream hub.
 */
export const FAULT_KINDS = [
  'fade',
  'sun-outage',
  'lnb-short',
  'hang',
  'garbage',
  'corrupt',
  'deaf',
  'power-cut',
  'freeze',
  'scrambled',
  'service-missing',
  'black',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const ms = z.number().int().nonnegative();

export const FaultStep = z
  .object({
    kind: z.enum(FAULT_KINDS),
    /** Start, ms after the step was loaded (default: at once). */
    atMs: ms.default(0),
    /** Length in ms; omitted = until cleared. */
    durationMs: ms.optional(),
    /** `fade` only: depth in dB. */
    depthDb: z.number().min(0).max(60).optional(),
    /** `garbage` only: bytes of noise before each reply. */
    bytes: z.number().int().min(1).max(1024).optional(),
    /** `black` only: the line-up key of the service that goes black (omitted: whatever is tuned). */
    service: z.string().min(1).max(64).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.kind === 'fade' && s.depthDb === undefined) {
      ctx.addIssue({ code: 'custom', path: ['depthDb'], message: 'a fade needs depthDb' });
    }
    if (s.kind !== 'black' && s.service !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['service'], message: 'only a black fault names a service' });
    }
  });
export type FaultStep = z.infer<typeof FaultStep>;
export type FaultStepInput = z.input<typeof FaultStep>;

export const FaultScript = z.array(FaultStep);

/** What is active right now, as the receiver and the signal model read it. */
export interface ActiveFaults {
  fadeDb: number;
  sunOutage: boolean;
  lnbShort: boolean;
  hang: boolean;
  /** Bytes of noise to send before each reply (0 = none). */
  garbageBytes: number;
  corrupt: boolean;
  deaf: boolean;
  powerCut: boolean;
  freeze: boolean;
  scrambled: boolean;
  serviceMissing: boolean;
  /** Black/silent: every service (`all`) or only these line-up keys. */
  black: { all: boolean; services: string[] };
}

/** Whether the black fault covers the service `key`. */
export function blackCovers(active: ActiveFaults, key: string): boolean {
  return active.black.all || active.black.services.includes(key);
}

export interface FaultEvents {
  /** Something started or ended; `ended` lists kinds that just ended (a power cut's end = reboot). */
  change: [active: ActiveFaults, ended: FaultKind[]];
}

interface Running {
  step: FaultStep;
  active: boolean;
  cancels: Cancel[];
}

/** Parse a script from JSON text with every problem listed (bad input → typed zod error, never a crash). */
export function parseFaultScript(json: unknown): FaultStep[] {
  return FaultScript.parse(json);
}

export class FaultSchedule extends EventEmitter<FaultEvents> {
  private running: Running[] = [];

  constructor(private readonly timers: Timers) {
    super();
  }

  /** Replace the whole script (what reloading a fault file does). Active faults not in it end now. */
  load(script: readonly FaultStepInput[]): void {
    const steps = FaultScript.parse(script);
    const ended = this.stopAll();
    for (const step of steps) this.add(step);
    this.changed(ended);
  }

  /** Add one step to the running script. */
  inject(input: FaultStepInput): void {
    this.add(FaultStep.parse(input));
    this.changed([]);
  }

  /** End active faults of `kind`, or every fault when omitted. */
  clear(kind?: FaultKind): void {
    const ended: FaultKind[] = [];
    this.running = this.running.filter((r) => {
      if (kind !== undefined && r.step.kind !== kind) return true;
      for (const c of r.cancels) c();
      if (r.active) ended.push(r.step.kind);
      return false;
    });
    this.changed(ended);
  }

  /** The steps still pending or active (for the simulator's status output). */
  steps(): { step: FaultStep; active: boolean }[] {
    return this.running.map((r) => ({ step: r.step, active: r.active }));
  }

  get active(): ActiveFaults {
    const a: ActiveFaults = {
      fadeDb: 0,
      sunOutage: false,
      lnbShort: false,
      hang: false,
      garbageBytes: 0,
      corrupt: false,
      deaf: false,
      powerCut: false,
      freeze: false,
      scrambled: false,
      serviceMissing: false,
      black: { all: false, services: [] },
    };
    for (const { step, active } of this.running) {
      if (!active) continue;
      switch (step.kind) {
        case 'fade':
          a.fadeDb += step.depthDb ?? 0;
          break;
        case 'sun-outage':
          a.sunOutage = true;
          break;
        case 'lnb-short':
          a.lnbShort = true;
          break;
        case 'hang':
          a.hang = true;
          break;
        case 'garbage':
          a.garbageBytes = Math.max(a.garbageBytes, step.bytes ?? 16);
          break;
        case 'corrupt':
          a.corrupt = true;
          break;
        case 'deaf':
          a.deaf = true;
          break;
        case 'power-cut':
          a.powerCut = true;
          break;
        case 'freeze':
          a.freeze = true;
          break;
        case 'scrambled':
          a.scrambled = true;
          break;
        case 'service-missing':
          a.serviceMissing = true;
          break;
        case 'black':
          if (step.service === undefined) a.black.all = true;
          else if (!a.black.services.includes(step.service)) a.black.services.push(step.service);
          break;
      }
    }
    return a;
  }

  /** Cancel every timer (simulator shutdown). */
  dispose(): void {
    this.stopAll();
  }

  private add(step: FaultStep): void {
    const r: Running = { step, active: false, cancels: [] };
    this.running.push(r);
    const start = (): void => {
      r.active = true;
      if (step.durationMs !== undefined) {
        r.cancels.push(this.timers.schedule(step.durationMs, () => this.end(r)));
      }
    };
    if (step.atMs === 0) start();
    else
      r.cancels.push(
        this.timers.schedule(step.atMs, () => {
          start();
          this.changed([]);
        }),
      );
  }

  private end(r: Running): void {
    this.running = this.running.filter((x) => x !== r);
    this.changed(r.active ? [r.step.kind] : []);
  }

  private stopAll(): FaultKind[] {
    const ended = this.running.filter((r) => r.active).map((r) => r.step.kind);
    for (const r of this.running) for (const c of r.cancels) c();
    this.running = [];
    return ended;
  }

  private changed(ended: FaultKind[]): void {
    this.emit('change', this.active, ended);
  }
}
