/**
 * The executor (DESIGN.md §5–6): runs the planner from protocol/planner on the applied schedule document
 * over a rolling 14-day horizon (PLAN_HORIZON_DAYS) and drives one `OccurrenceRun` per occurrence that is
 * due. It re-plans when the document changes, when the clock jumps, and as the horizon rolls.
 *
 * Offline first (DESIGN.md §6): it needs nothing but the store, the receiver and ffmpeg; the network only
 * updates the document. Time is the headend's as best known (the local clock corrected by the measured
 * offset, device/link/clock.ts), so a station whose clock is off still records at the right moment.
 */
import { PLAN_HORIZON_DAYS } from '../../protocol/limits.js';
import type { RpcResult } from '../../protocol/messages/rpc-methods.js';
import type { ScheduleDocument } from '../../protocol/messages/schedule.js';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import { plan as runPlanner } from '../../protocol/planner/plan.js';
import { occurrenceKey, type Plan, type PlannedOccurrence } from '../../protocol/planner/types.js';
import { TERMINAL_EXECUTION_STATES } from '../../protocol/registry.js';
import type { Clock } from '../link/clock.js';
import { OccurrenceRun, type RunContext } from './occurrence-machine.js';
import type { ReceiverControl } from './receiver-control.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Longest pause between ticks: a safety net under the precise wake-ups. */
const MAX_TICK_MS = 1000;
/** The horizon is re-planned when it has rolled this far. */
const REPLAN_EVERY_MS = 60 * 60 * 1000;
/** Runs are created this long before their tune time so the first step is not late. */
const LOOKAHEAD_MS = 2000;

export interface ExecutorOptions extends Omit<RunContext, 'receiverFree' | 'wakeAt' | 'tuning'> {
  clock: Clock;
  receivers: ReadonlyMap<string, ReceiverControl>;
}

export class Executor {
  private doc: ScheduleDocument | null = null;
  private docAppliedAtMs = 0;
  private planned: Plan | null = null;
  private plannedAt = 0;
  private byKey = new Map<string, PlannedOccurrence>();
  private readonly runs = new Map<string, OccurrenceRun>();
  /** Occurrences known terminal (journal), so they are never run twice. */
  private readonly finished = new Set<string>();
  private cancelWake: (() => void) | null = null;
  private wakeAtMs = Number.POSITIVE_INFINITY;
  private running = false;
  /** Occurrences ending before this were not ours to run (catch-up reports them separately). */
  private executionStartMs = 0;
  private readonly ctx: RunContext;
  /** Plan errors (a document the planner refuses), for logs and plan.explain. */
  lastPlanError: string | null = null;

  constructor(private readonly opts: ExecutorOptions) {
    this.ctx = {
      ...opts,
      tuning: (service) => this.tuningOf(service),
      receiverFree: (o, from, to) => this.receiverFree(o, from, to),
      wakeAt: (t) => this.wakeAt(t),
    };
  }

  /** The document in force changed (or the stored one was loaded at start). */
  load(doc: ScheduleDocument | null, appliedAtMs: number): void {
    this.doc = doc;
    this.docAppliedAtMs = appliedAtMs;
    this.replan('document');
  }

  /** Starts executing; occurrences ending before now are not started (see `catchUp`). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.executionStartMs = this.opts.now();
    this.replan('start');
    this.wakeAt(this.opts.now());
  }

  /** Re-plans now (clock jump, horizon roll, document change) and steps every run. */
  replan(why: string): void {
    if (!this.doc) {
      this.planned = null;
      this.byKey = new Map();
    } else {
      const now = this.opts.now();
      try {
        this.planned = runPlanner(this.doc, {
          from: new Date(now - 60_000).toISOString(),
          to: new Date(now + PLAN_HORIZON_DAYS * DAY_MS).toISOString(),
        });
        this.lastPlanError = null;
      } catch (err) {
        // The document was validated before it was applied, so this is a planner refusal (a typed error).
        this.lastPlanError = (err as Error).message;
        this.opts.log.error({ err: this.lastPlanError }, 'planner refused the applied document');
        this.planned = null;
      }
      this.plannedAt = now;
      this.byKey = new Map((this.planned?.occurrences ?? []).map((o) => [occurrenceKey(o), o]));
    }
    const windowFrom = this.plannedAt - 60_000;
    for (const [key, run] of this.runs) {
      const now = this.byKey.get(key);
      // An occurrence that ended before the window is not in the plan but was not removed either.
      if (now || !run.occ || Date.parse(run.occ.paddedEnd) > windowFrom || !this.doc) run.occ = now ?? null;
    }
    this.opts.log.info({ why, occurrences: this.byKey.size }, 'planned');
    if (this.running) this.wakeAt(this.opts.now());
  }

  /**
   * Takes over an occurrence the journal shows in progress when the agent stopped (recovery.ts): it resumes
   * as a new segment if its window is still open, or is finalised from what exists.
   */
  adopt(
    ident: { entryId: string; nominalStart: string },
    resumed: ConstructorParameters<typeof OccurrenceRun>[3] & object,
  ): OccurrenceRun {
    const key = occurrenceKey(ident);
    const t = Date.parse(ident.nominalStart);
    const occ =
      this.byKey.get(key) ??
      (Number.isFinite(t)
        ? this.planWindow(t - 60_000, t + 60_000).find((o) => occurrenceKey(o) === key)
        : undefined) ??
      null;
    const run = new OccurrenceRun(ident, occ, this.ctx, resumed);
    this.runs.set(run.key, run);
    return run;
  }

  /** Plans `[from, to)` of the applied document (recovery's catch-up and plan.explain). */
  planWindow(fromMs: number, toMs: number): PlannedOccurrence[] {
    if (!this.doc) return [];
    return runPlanner(this.doc, { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() })
      .occurrences;
  }

  /** The rolling-horizon plan in force (what the executor will do), in plan order. */
  plannedOccurrences(): readonly PlannedOccurrence[] {
    return this.planned?.occurrences ?? [];
  }

  /** Runs in progress (telemetry, state, control socket). */
  active(): OccurrenceRun[] {
    return [...this.runs.values()].filter((r) => r.activeNow);
  }

  get hasDocument(): boolean {
    return this.doc !== null;
  }

  get appliedVersion(): ScheduleDocument['version'] | null {
    return this.doc?.version ?? null;
  }

  /** `plan.explain` (DESIGN.md §6): the station's own plan of a window and what it has done so far. */
  explain(fromMs: number, toMs: number, entryId?: string): RpcResult<'plan.explain'> {
    if (!this.doc) return { plan: null, execution: [] };
    const p = runPlanner(this.doc, {
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
    });
    const occurrences = p.occurrences
      .filter((o) => entryId === undefined || o.entryId === entryId)
      .slice(0, 2000);
    const execution: RpcResult<'plan.explain'>['execution'] = [];
    for (const o of occurrences) {
      const latest = this.opts.store.latest(o.entryId, o.nominalStart);
      if (latest) {
        execution.push({
          entryId: o.entryId,
          nominalStart: o.nominalStart,
          state: latest.state,
          reason: latest.reason?.slice(0, 500) ?? null,
        });
      }
    }
    return { plan: { ...p, occurrences }, execution };
  }

  /** Stops ticking and stops running recorders (the journal keeps them `recording` for recovery). */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelWake?.();
    this.cancelWake = null;
    await Promise.all([...this.runs.values()].map((r) => r.shutdown()));
  }

  /** Schedules a step of every due run at `t` (earliest request wins). */
  wakeAt(t: number): void {
    if (!this.running || t >= this.wakeAtMs) return;
    this.cancelWake?.();
    this.wakeAtMs = t;
    this.cancelWake = this.opts.clock.schedule(Math.max(0, t - this.opts.now()), () => {
      this.cancelWake = null;
      this.wakeAtMs = Number.POSITIVE_INFINITY;
      this.tick();
    });
  }

  private tick(): void {
    if (!this.running) return;
    const now = this.opts.now();
    if (this.doc && now - this.plannedAt > REPLAN_EVERY_MS) this.replan('horizon');
    for (const o of this.planned?.occurrences ?? []) {
      const key = occurrenceKey(o);
      if (this.runs.has(key) || this.finished.has(key) || !this.due(o, now)) continue;
      const latest = this.opts.store.latest(o.entryId, o.nominalStart);
      if (latest && TERMINAL_EXECUTION_STATES.includes(latest.state)) {
        this.finished.add(key);
        continue;
      }
      this.runs.set(key, new OccurrenceRun(o, o, this.ctx));
    }
    for (const [key, run] of this.runs) {
      if (run.terminal) {
        this.runs.delete(key);
        this.finished.add(key);
        continue;
      }
      void run.step().then(() => {
        if (run.terminal) this.wakeAt(this.opts.now());
      });
    }
    this.releaseIdleReceivers();
    this.wakeAt(now + MAX_TICK_MS);
  }

  /** Is it time to create a run for `o`? */
  private due(o: PlannedOccurrence, now: number): boolean {
    const first = o.parts[0];
    const last = o.parts[o.parts.length - 1];
    const notBefore = Math.max(this.executionStartMs, this.docAppliedAtMs);
    if (!first || !last) {
      const t = Date.parse(o.nominalStart);
      return t <= now && t >= notBefore;
    }
    if (Date.parse(last.end) <= notBefore) return false;
    return Date.parse(first.start) - this.opts.timing.tunePreRollMs - LOOKAHEAD_MS <= now;
  }

  private receiverFree(o: PlannedOccurrence, fromMs: number, toMs: number): boolean {
    for (const p of this.planned?.occurrences ?? []) {
      if (p.receiverId !== o.receiverId || p.sharingKey === o.sharingKey) continue;
      for (const part of p.parts) {
        if (Date.parse(part.start) < toMs && Date.parse(part.end) > fromMs) return false;
      }
    }
    for (const run of this.runs.values()) {
      const r = run.occ;
      if (run.recording && r && r.receiverId === o.receiverId && r.sharingKey !== o.sharingKey) return false;
    }
    return true;
  }

  private releaseIdleReceivers(): void {
    for (const [id, rc] of this.opts.receivers) {
      const key = rc.currentKey;
      if (!key) continue;
      const used = [...this.runs.values()].some(
        (r) => !r.terminal && r.occ?.receiverId === id && r.occ.sharingKey === key,
      );
      if (!used) rc.releaseTarget(key);
    }
  }

  /** Tuning of a service from the applied document (RPC retune, the control socket). */
  tuningFor(service: string): ServiceTuning | undefined {
    return this.tuningOf(service);
  }

  private tuningOf(service: string): ServiceTuning | undefined {
    const doc = this.doc;
    return doc && Object.hasOwn(doc.tuning, service) ? doc.tuning[service] : undefined;
  }
}
