/**
 * Crash and power-cut recovery at agent start (DESIGN.md §6; DOMAIN.md §6 "Power cut: boot after gap →
 * reconcile schedule; resume an in-window job as a new segment; report the gap"):
 *
 * 1. Kill orphaned recorders first: ffmpeg survives its parent's `kill -9` (it ignores SIGPIPE), so the
 *    journal's PID + start time + command line identify them (device/recovery/orphans.ts).
 * 2. Wait for a trusted clock: never earlier than the last journal entry (after a power cut without an
 *    RTC the clock may read 1970), and an offset measured against the headend — or, when the uplink is
 *    down, `clockTrustWaitMs` of waiting with a plausible clock, after which recordings are marked
 *    clock-uncertain. Offline first: a station without uplink must still record.
 * 3. Every occurrence the journal shows in progress is taken over: one whose window is still open resumes
 *    as a new segment (the gap is measured from the segments), one whose window closed is finalised from
 *    what exists.
 * 4. Occurrences whose window passed while the agent was down (and were never started) are reported
 *    `missed` with `agent_down`, so every minute the station was asked to record is accounted for.
 * Then the executor starts.
 */
import type { Logger } from 'pino';
import { occurrenceKey } from '../../protocol/planner/types.js';
import type { Clock, ClockSync } from '../link/clock.js';
import { killOrphans, type OrphanReport } from '../recovery/orphans.js';
import type { StationStore } from '../store/db.js';
import type { Executor } from './executor.js';
import type { ExecutorStorePort } from './ports.js';

export interface RecoveryDeps {
  store: StationStore;
  port: ExecutorStorePort;
  executor: Executor;
  clock: Clock;
  clockSync: ClockSync;
  logger: Logger;
  /** Absolute recordings root (also scanned for unjournalled ffmpeg processes). */
  recordingsRoot: string;
  timing: { recorderStopGraceMs: number; clockTrustWaitMs: number };
  /** When the agent was last known alive before this start (ms, local clock): the journal's last entry. */
  signal?: AbortSignal;
}

export interface RecoveryReport {
  orphans: OrphanReport[];
  clock: 'trusted' | 'offset-known' | 'untrusted';
  waitedMs: number;
  resumed: string[];
  finalised: string[];
  missed: string[];
}

/** Resolves when the clock can be used (see the header), with how. */
export async function waitForClock(
  deps: Pick<RecoveryDeps, 'clock' | 'clockSync' | 'logger' | 'timing' | 'signal'>,
  lastJournalAtMs: number | null,
): Promise<{ clock: RecoveryReport['clock']; waitedMs: number }> {
  const started = deps.clock.monotonic();
  let lastLog = started;
  for (;;) {
    const waited = deps.clock.monotonic() - started;
    const behind = lastJournalAtMs !== null && deps.clock.now() < lastJournalAtMs;
    const est = deps.clockSync.estimate();
    if (est.trusted && !behind) return { clock: 'trusted', waitedMs: waited };
    if (est.known && (lastJournalAtMs === null || deps.clockSync.headendNow() >= lastJournalAtMs)) {
      return { clock: 'offset-known', waitedMs: waited };
    }
    if (!behind && waited >= deps.timing.clockTrustWaitMs) return { clock: 'untrusted', waitedMs: waited };
    if (deps.signal?.aborted) throw new Error('recovery aborted');
    if (deps.clock.monotonic() - lastLog > 60_000 || lastLog === started) {
      lastLog = deps.clock.monotonic();
      deps.logger.warn(
        { behind, lastJournalAt: lastJournalAtMs && new Date(lastJournalAtMs).toISOString() },
        behind
          ? 'clock reads earlier than the journal: waiting for the headend'
          : 'waiting for a clock exchange',
      );
    }
    await new Promise<void>((resolve) => deps.clock.schedule(100, resolve));
  }
}

export async function recover(deps: RecoveryDeps): Promise<RecoveryReport> {
  const { store, executor, logger } = deps;
  const startedAtLocal = deps.clock.now();
  const orphans = await killOrphans({
    journal: store.processes,
    logger,
    clock: deps.clock,
    graceMs: deps.timing.recorderStopGraceMs,
    scanRoot: deps.recordingsRoot,
  });
  const lastAt = store.journal.lastAt();
  const lastJournalAtMs = lastAt ? Date.parse(lastAt) : null;
  const gate = await waitForClock(deps, lastJournalAtMs);
  logger.info(
    {
      clock: gate.clock,
      waitedMs: Math.round(gate.waitedMs),
      estimate: deps.clockSync.estimate(),
      orphans: orphans.length,
    },
    'recovery: clock ready',
  );

  const report: RecoveryReport = { orphans, ...gate, resumed: [], finalised: [], missed: [] };
  const now = deps.clockSync.headendNow();
  for (const j of store.journal.unfinished()) {
    const rec = store.recordings.byOccurrence(j.entryId, j.nominalStart);
    const detailId = typeof j.detail?.recordingId === 'number' ? j.detail.recordingId : null;
    const recordingId = rec && rec.state === 'running' ? rec.id : detailId;
    const run = executor.adopt(j, {
      state: j.state,
      recordingId,
      failure: {
        code: 'agent_down',
        detail: `the agent stopped at ${j.at} while the occurrence was ${j.state}`,
      },
    });
    const last = run.occ?.parts[run.occ.parts.length - 1];
    const open = last !== undefined && Date.parse(last.end) > now;
    (open ? report.resumed : report.finalised).push(run.key);
  }

  // Occurrences that passed while the agent was down and were never started.
  const applied = store.schedule.applied();
  if (lastJournalAtMs !== null && applied) {
    const since = Math.max(lastJournalAtMs, Date.parse(applied.appliedAt));
    const downUntil = new Date(startedAtLocal).toISOString();
    if (since < now) {
      for (const o of executor.planWindow(since, now)) {
        const last = o.parts[o.parts.length - 1];
        const endMs = last ? Date.parse(last.end) : Date.parse(o.nominalStart);
        const startMs = Date.parse(o.parts[0]?.start ?? o.nominalStart);
        if (startMs < since || endMs > now || deps.port.latest(o.entryId, o.nominalStart)) continue;
        const at = new Date(now).toISOString();
        const reason =
          gate.waitedMs > 0 && endMs > startedAtLocal
            ? `clock_untrusted: waited ${Math.round(gate.waitedMs / 1000)} s for a trusted clock`
            : `agent_down: the agent was not running (last sign of life ${new Date(since).toISOString()}, restarted ${downUntil})`;
        deps.port.transaction((tx) => {
          deps.port.journal(tx, {
            entryId: o.entryId,
            nominalStart: o.nominalStart,
            state: 'missed',
            reason,
            at,
          });
          deps.port.event(tx, {
            type: 'occurrence.state',
            at,
            entryId: o.entryId,
            nominalStart: o.nominalStart,
            rev: o.rev,
            state: 'missed',
            receiverId: o.receiverId,
            reason,
          });
        });
        report.missed.push(occurrenceKey(o));
      }
      deps.port.committed();
    }
  }
  logger.info(
    { resumed: report.resumed, finalised: report.finalised, missed: report.missed.length },
    'recovery: journal reconciled',
  );
  executor.start();
  return report;
}
