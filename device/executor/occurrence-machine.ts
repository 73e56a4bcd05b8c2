/**
 * The life of one occurrence `(entryId, nominalStart)` on the station (DESIGN.md §5 identity, §6 agent):
 *
 *   pending → tuning (pre-roll: tune, verify lock) → ready → recording (ffmpeg started during pre-roll,
 *   planned start marked) → completed | completed_with_errors | failed
 *   … or missed with a reason (no lock, receiver unresponsive, disk full, clock untrusted, dropped by the
 *   plan, agent down), or cancelled when the entry left the schedule.
 *
 * Conferences that are only shown go pending → tuning → ready → showing → completed.
 *
 * Every transition is written to the journal AND the outbox in one transaction (DESIGN.md §4). The run
 * follows its planned occurrence as re-plans update it: a moved end changes the running recorder in place
 * (one continuous recording); a higher class arriving mid-flight cuts the current part short and the
 * manifest reports `truncated (by …)`; a second part after the cut continues the same recording.
 */

import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import type { PlannedOccurrence } from '../../protocol/planner/types.js';
import { describeOutcome } from '../../protocol/planner/types.js';
import type { ExecutionState } from '../../protocol/registry.js';
import { TERMINAL_EXECUTION_STATES } from '../../protocol/registry.js';
import { isReceiverError } from '../receiver/driver.js';
import type { DiskPort, ExecutorStorePort, RecorderPort, RecordingRun, RunResult } from './ports.js';
import type { ReceiverControl } from './receiver-control.js';

/** Reason codes of `missed` (the event's reason starts with one, then `: ` and the detail). */
export const MISSED_REASONS = [
  'no_lock',
  'receiver_unresponsive',
  'receiver_missing',
  'disk_full',
  'clock_untrusted',
  'maintenance_hold',
  'dropped',
  'agent_down',
  'not_started',
] as const;
export type MissedReason = (typeof MISSED_REASONS)[number];

/** Everything a run needs from the executor. */
export interface RunContext {
  now(): number;
  timing: { tunePreRollMs: number; recorderLeadMs: number; receiverLockTimeoutMs: number };
  store: ExecutorStorePort;
  recorder: RecorderPort;
  disk: DiskPort;
  receiver(id: string): ReceiverControl | undefined;
  tuning(service: string): ServiceTuning | undefined;
  streamUrl(receiverId: string): string;
  /** No other occurrence with another sharing key holds the receiver in [from, to). */
  receiverFree(o: PlannedOccurrence, fromMs: number, toMs: number): boolean;
  /** The maintenance hold is active: tune and start nothing new. */
  held(): boolean;
  clockTrusted(): boolean;
  /** Raises / clears an alarm through the outbox (disk_full …). */
  alarm(kind: 'disk_full' | 'filesystem_read_only', raised: boolean, message: string): void;
  log: {
    info(o: object, m: string): void;
    warn(o: object, m: string): void;
    error(o: object, m: string): void;
  };
  /** Ask for another step soon (retry after a failure). */
  wakeAt(ms: number): void;
}

const ms = (iso: string) => Date.parse(iso);

export class OccurrenceRun {
  readonly key: string;
  readonly entryId: string;
  readonly nominalStart: string;
  /** Latest plan of this occurrence; null once it left the schedule. */
  occ: PlannedOccurrence | null;
  state: ExecutionState | null = null;
  private recordingId: number | null = null;
  private active: { run: RecordingRun; partStart: number; partEnd: number } | null = null;
  private lastFailure: { code: MissedReason; detail: string } | null = null;
  private busy = false;
  /** Figures of the first run (start accuracy). */
  firstByteAtMs: number | null = null;
  /** False once any part of the recording ran while the clock was untrusted (manifest `clockTrusted`). */
  private clockTrustedThroughout = true;
  /** Rebuilt from the journal after a restart: the next run resumes the recording as a new segment. */
  private crashResume = false;

  constructor(
    ident: { entryId: string; nominalStart: string },
    occ: PlannedOccurrence | null,
    private readonly ctx: RunContext,
    resumed?: {
      state: ExecutionState;
      recordingId: number | null;
      failure?: { code: MissedReason; detail: string };
    },
  ) {
    this.occ = occ;
    this.entryId = ident.entryId;
    this.nominalStart = ident.nominalStart;
    this.key = `${ident.entryId}@${ident.nominalStart}`;
    if (resumed) {
      this.state = resumed.state;
      this.recordingId = resumed.recordingId;
      this.crashResume = resumed.recordingId !== null;
      this.lastFailure = resumed.failure ?? null;
    }
  }

  get terminal(): boolean {
    return this.state !== null && TERMINAL_EXECUTION_STATES.includes(this.state);
  }

  /** Recording now (for telemetry and the active period). */
  get recording(): RecordingRun | null {
    return this.active?.run ?? null;
  }

  /** Holds (or is about to hold) a receiver: telemetry runs at the active period. */
  get activeNow(): boolean {
    return (
      this.state === 'tuning' ||
      this.state === 'ready' ||
      this.state === 'recording' ||
      this.state === 'showing'
    );
  }

  /** One step towards what the plan says now. Never throws; concurrent calls are ignored. */
  async step(): Promise<void> {
    if (this.busy || this.terminal) return;
    this.busy = true;
    try {
      await this.advance(this.ctx.now());
    } catch (err) {
      this.ctx.log.error({ occurrence: this.key, err }, 'occurrence step failed');
      this.ctx.wakeAt(this.ctx.now() + 1000);
    } finally {
      this.busy = false;
    }
  }

  private async advance(now: number): Promise<void> {
    const o = this.occ;
    if (!o) return this.cancel('removed from the schedule');
    const parts = o.parts.map((p) => ({ start: ms(p.start), end: ms(p.end) }));
    const first = parts[0];
    const last = parts[parts.length - 1];
    if (!first || !last) {
      if (now >= ms(o.nominalStart)) this.transition('missed', `dropped: ${describeOutcome(o)}`);
      return;
    }
    const current = parts.find((p) => p.start <= now && now < p.end) ?? null;
    const next = parts.find((p) => p.start > now) ?? null;

    if (this.active) {
      const a = this.active;
      // The part this run records: the same part (by start) in the new plan, or one that now covers the run
      // (the recorder starts `recorderLeadMs` before its part, so "now" may still be before the part).
      const lead = this.ctx.timing.recorderLeadMs;
      const want =
        parts.find((p) => p.start === a.partStart) ??
        parts.find((p) => p.start - lead <= now && now < p.end && p.end > a.partStart) ??
        null;
      if (want && want.end !== a.partEnd) {
        this.ctx.log.info(
          { occurrence: this.key, end: new Date(want.end).toISOString() },
          'end moved in place',
        );
        a.run.extend(want.end);
        a.partEnd = want.end;
        if (this.recordingId !== null)
          this.ctx.store.setPlannedEnd(this.recordingId, new Date(last.end).toISOString());
      } else if (!want) {
        // The plan cut this part away (a higher class took the receiver) or moved it.
        await a.run.stop(`cut: ${describeOutcome(o)}`);
      }
      return;
    }
    if (now >= last.end) return this.finish();

    const target = current ?? next;
    if (!target) return;
    if (this.ctx.held()) {
      this.lastFailure = { code: 'maintenance_hold', detail: 'a technician held the station on site' };
      return;
    }
    if (!this.ctx.clockTrusted()) this.clockTrustedThroughout = false;
    const tuneAt = target.start - this.ctx.timing.tunePreRollMs;
    if (now < tuneAt) return;
    // Pre-roll only on a free receiver: the previous holder keeps it until its part ends.
    if (!current && !this.ctx.receiverFree(o, now, target.start)) {
      this.ctx.wakeAt(target.start);
      return;
    }
    const rc = this.ctx.receiver(o.receiverId);
    const tuning = this.ctx.tuning(o.service);
    if (!rc || !tuning) {
      this.lastFailure = { code: 'receiver_missing', detail: `receiver ${o.receiverId} is not installed` };
      return;
    }
    if (this.state === null || this.state === 'pending') this.transition('tuning');
    try {
      await rc.ensure({ sharingKey: o.sharingKey, tuning });
    } catch (err) {
      const code = isReceiverError(err, 'NO_LOCK', 'MISMATCH') ? 'no_lock' : 'receiver_unresponsive';
      this.lastFailure = { code, detail: (err as Error).message };
      this.ctx.log.warn(
        { occurrence: this.key, code, err: (err as Error).message },
        'tuning failed; retrying',
      );
      this.ctx.wakeAt(this.ctx.now() + Math.max(500, this.ctx.timing.receiverLockTimeoutMs / 2));
      return;
    }
    if (this.state === 'tuning') this.transition('ready');
    const now2 = this.ctx.now();
    if (!o.record) {
      if (current && this.state !== 'showing') this.transition('showing');
      if (!current) this.ctx.wakeAt(target.start);
      return;
    }
    if (now2 < target.start - this.ctx.timing.recorderLeadMs) {
      this.ctx.wakeAt(target.start - this.ctx.timing.recorderLeadMs);
      return;
    }
    await this.startRun(o, target, tuning.serviceId, now2);
  }

  private async startRun(
    o: PlannedOccurrence,
    part: { start: number; end: number },
    serviceId: number,
    now: number,
  ): Promise<void> {
    const space = await this.ctx.disk.ensureSpace();
    if (!space.ok) {
      this.lastFailure = { code: 'disk_full', detail: space.reason };
      this.ctx.alarm(space.readOnly ? 'filesystem_read_only' : 'disk_full', true, space.reason);
      this.ctx.wakeAt(now + 5000);
      return;
    }
    const last = o.parts[o.parts.length - 1];
    const rec = this.ctx.store.openRecording({
      entryId: o.entryId,
      nominalStart: o.nominalStart,
      title: o.title,
      service: o.service,
      serviceId,
      plannedStart: new Date(part.start).toISOString(),
      plannedEnd: last ? last.end : new Date(part.end).toISOString(),
      clockTrusted: this.ctx.clockTrusted(),
    });
    const resumedAfterCrash = this.crashResume || (rec.resumed && this.recordingId === null);
    this.crashResume = false;
    this.recordingId = rec.id;
    const run = this.ctx.recorder.start({
      recordingId: rec.id,
      dir: rec.dir,
      url: this.ctx.streamUrl(o.receiverId),
      serviceId,
      plannedStartMs: part.start,
      endMs: part.end,
      resumed: resumedAfterCrash,
      onStall: () => void this.ctx.receiver(o.receiverId)?.streamStalled(),
    });
    this.active = { run, partStart: part.start, partEnd: part.end };
    const reason = resumedAfterCrash
      ? `resumed as a new segment after an agent restart (${Math.round(Math.max(0, now - part.start) / 1000)} s into the part)`
      : this.state === 'recording'
        ? `part ${o.parts.findIndex((p) => ms(p.start) === part.start) + 1} of ${o.parts.length}`
        : undefined;
    this.transition('recording', reason, { recordingId: rec.id });
    void run.done.then(
      (r) => this.runEnded(run, r),
      (err: unknown) => this.runEnded(run, { ok: false, reason: (err as Error).message }),
    );
  }

  private runEnded(run: RecordingRun, r: RunResult): void {
    if (this.active?.run !== run) return;
    this.active = null;
    if (this.firstByteAtMs === null && r.firstByteAtMs !== undefined) this.firstByteAtMs = r.firstByteAtMs;
    if (!r.ok) this.ctx.log.warn({ occurrence: this.key, reason: r.reason }, 'recorder run failed');
    // Next part, or the end: the next step decides.
    this.ctx.wakeAt(this.ctx.now());
  }

  /** The window closed: finalise the recording (or report what never happened). */
  private async finish(state?: 'cancelled', why?: string): Promise<void> {
    const o = this.occ;
    if (this.recordingId === null) {
      if (state === 'cancelled') {
        if (this.state !== null) this.transition('cancelled', why);
        return;
      }
      if (o && !o.record && this.state === 'showing') return this.transition('completed');
      const f = this.lastFailure ?? { code: 'not_started', detail: 'the occurrence never started' };
      return this.transition('missed', `${f.code}: ${f.detail}`);
    }
    const recordingId = this.recordingId;
    const startMs = o ? ms(o.parts[0]?.start ?? o.nominalStart) : 0;
    const endMs = o ? ms(o.parts[o.parts.length - 1]?.end ?? o.nominalEnd) : this.ctx.now();
    const fig = await this.ctx.recorder.finalize(recordingId, { startMs, endMs });
    const planned = o && o.outcome !== 'planned' ? describeOutcome(o) : undefined;
    const reason = [planned, fig.reason, why].filter(Boolean).join('; ') || undefined;
    const at = new Date(this.ctx.now()).toISOString();
    const clockTrusted = this.clockTrustedThroughout && this.ctx.clockTrusted();
    const terminal: ExecutionState = state ?? fig.outcome;
    this.ctx.store.transaction((tx) => {
      this.ctx.store.finishRecording(tx, recordingId, {
        outcome: fig.outcome,
        ...(reason ? { reason } : {}),
        bytes: fig.bytes,
        durationMs: fig.durationMs,
        gapsMs: fig.gapsMs,
        quality: fig.quality,
        clockTrusted,
        finishedAt: at,
      });
      this.ctx.store.event(tx, {
        type: 'recording.manifest',
        at,
        entryId: this.entryId,
        nominalStart: this.nominalStart,
        recordingId: String(recordingId),
        service: o?.service ?? 'unknown',
        ...(o ? { receiverId: o.receiverId } : {}),
        segments: fig.segments,
        bytes: fig.bytes,
        durationMs: fig.durationMs,
        gapsMs: fig.gapsMs,
        quality: fig.quality,
        outcome: fig.outcome,
        ...(reason ? { reason: reason.slice(0, 500) } : {}),
        clockTrusted,
      });
      this.journalAndEvent(tx, terminal, reason, { recordingId });
    });
    this.ctx.store.committed();
  }

  /** The entry left the schedule (or the agent is told to stop it). */
  private async cancel(why: string): Promise<void> {
    if (this.active) {
      const run = this.active.run;
      await run.stop(why);
      this.active = null;
    }
    await this.finish('cancelled', why);
  }

  /** Stops a running recorder at shutdown without finishing the occurrence (recovery resumes it). */
  async shutdown(): Promise<void> {
    const a = this.active;
    this.active = null;
    if (a) await a.run.stop('agent stopping');
  }

  private transition(state: ExecutionState, reason?: string, detail?: Record<string, unknown>): void {
    this.ctx.store.transaction((tx) => this.journalAndEvent(tx, state, reason, detail));
    this.ctx.store.committed();
  }

  private journalAndEvent(
    tx: Parameters<ExecutorStorePort['journal']>[0],
    state: ExecutionState,
    reason?: string,
    detail?: Record<string, unknown>,
  ): void {
    const at = new Date(this.ctx.now()).toISOString();
    const o = this.occ;
    this.ctx.store.journal(tx, {
      entryId: this.entryId,
      nominalStart: this.nominalStart,
      state,
      ...(reason ? { reason } : {}),
      detail: { ...(detail ?? {}), ...(this.recordingId !== null ? { recordingId: this.recordingId } : {}) },
      at,
    });
    this.ctx.store.event(tx, {
      type: 'occurrence.state',
      at,
      entryId: this.entryId,
      nominalStart: this.nominalStart,
      rev: o?.rev ?? 0,
      state,
      ...(o ? { receiverId: o.receiverId } : {}),
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
    });
    this.state = state;
    this.ctx.log.info({ occurrence: this.key, state, reason }, 'occurrence state');
  }
}
