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
 *
 * Power cut (DOMAIN.md §6 "report the gap"): the store's run marker (device/store/run-marker.ts) says
 * whether the previous run stopped cleanly. If it did not, `power_cut` is raised at once with the last
 * sign of life, the boot time, the gap and the work that was in progress, and cleared when recovery has
 * finished with what it did (resumed, finalised, missed, orphans killed): a fact with its fix in the
 * headend's history. While the agent runs, the marker's heartbeat (every `telemetryIdleMs`, the agent's
 * idle cadence) keeps "last sign of life" within a minute even on a station that records nothing.
 */
import type { Logger } from 'pino';
import { occurrenceKey } from '../../protocol/planner/types.js';
import { StationAlarms } from '../link/alarms.js';
import type { Clock, ClockSync } from '../link/clock.js';
import { killOrphans, type OrphanReport } from '../recovery/orphans.js';
import type { StationStore } from '../store/db.js';
import type { RunMarker } from '../store/run-marker.js';
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
  /** `telemetryIdleMs` paces the run marker's heartbeat. */
  timing: { recorderStopGraceMs: number; clockTrustWaitMs: number; telemetryIdleMs: number };
  /** The agent's station alarms (so `power_cut` joins the active set it keeps); a private set when omitted. */
  alarms?: StationAlarms;
  /** Aborts a recovery still waiting (the agent is stopping); also ends the run marker's heartbeat. */
  signal?: AbortSignal;
}

export interface RecoveryReport {
  orphans: OrphanReport[];
  clock: 'trusted' | 'offset-known' | 'untrusted';
  waitedMs: number;
  resumed: string[];
  finalised: string[];
  missed: string[];
  /** What the previous run left if it did not stop cleanly (null: clean stop, or the first start). */
  powerCut: PowerCut | null;
}

type Evidence = Record<string, number | string | boolean | null>;

/** An unclean stop found at start. */
export interface PowerCut {
  message: string;
  evidence: Evidence;
}

export interface PowerCutInput {
  /** What the previous run left in the store (device/store/run-marker.ts); null = no marker. */
  previous: RunMarker | null;
  /** The journal's newest row (ISO), a sign of life too. */
  journalLastAt: string | null;
  /** This start (agent clock, ms). */
  bootAt: number;
  boot: number;
  /** Occurrences the journal shows in progress. */
  inProgress: number;
  /** Recorder processes the process journal still lists. */
  recorders: number;
}

const seconds = (ms: number) =>
  ms < 120_000
    ? `${Math.round(ms / 1000)} s`
    : ms < 7_200_000
      ? `${Math.round(ms / 60_000)} min`
      : `${(ms / 3_600_000).toFixed(1)} h`;

/**
 * Did the previous run end without a clean stop, and what does the technician need to know (pure)? No
 * marker (a new database, or one from before markers) and a clean stop are not power cuts.
 */
export function detectPowerCut(i: PowerCutInput): PowerCut | null {
  const p = i.previous;
  if (!p || p.stoppedAt !== null) return null;
  const seen = [p.lastSeenAt, i.journalLastAt].filter((x): x is string => x !== null);
  const lastMs = Math.max(...seen.map((x) => Date.parse(x)).filter(Number.isFinite));
  const lastSeenAt = Number.isFinite(lastMs) ? new Date(lastMs).toISOString() : p.lastSeenAt;
  // After a power cut without an RTC the clock may read earlier than the last sign of life (DESIGN.md §6):
  // then the gap is unknown, not negative.
  const gapMs = Number.isFinite(lastMs) && i.bootAt >= lastMs ? i.bootAt - lastMs : null;
  const work =
    i.inProgress > 0
      ? `; ${i.inProgress} occurrence${i.inProgress === 1 ? ' was' : 's were'} in progress`
      : '; nothing was recording';
  return {
    message: `agent restarted after an unclean stop (power cut or crash): last sign of life ${lastSeenAt}, ${gapMs === null ? 'gap unknown (clock behind the last sign of life)' : `dark for ${seconds(gapMs)}`}${work}`,
    evidence: {
      previousBoot: p.boot,
      previousStartedAt: p.startedAt,
      lastSeenAt,
      bootAt: new Date(i.bootAt).toISOString(),
      boot: i.boot,
      gapMs,
      occurrencesInProgress: i.inProgress,
      recordersLeftRunning: i.recorders,
    },
  };
}

/** Keeps the run marker's "last seen" fresh until `signal` aborts. */
function heartbeat(store: StationStore, clock: Clock, everyMs: number, signal: AbortSignal): void {
  let cancel = () => {};
  const tick = () => {
    cancel = clock.schedule(everyMs, () => {
      if (signal.aborted) return;
      try {
        store.runs.beat(new Date(clock.now()).toISOString());
      } catch {
        return; // the store closed under us: the agent is stopping
      }
      tick();
    });
  };
  signal.addEventListener('abort', () => cancel(), { once: true });
  tick();
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
  // Before anything else (and before the first await): what did the previous run leave?
  const boot = store.counters.current().n;
  const powerCut = detectPowerCut({
    previous: store.runs.begin(boot, new Date(startedAtLocal).toISOString()),
    journalLastAt: store.journal.lastAt(),
    bootAt: startedAtLocal,
    boot,
    inProgress: store.journal.unfinished().length,
    recorders: store.processes.live().length,
  });
  if (deps.signal) heartbeat(store, deps.clock, deps.timing.telemetryIdleMs, deps.signal);
  const alarms =
    deps.alarms ??
    new StationAlarms(
      (body) => {
        deps.port.transaction((tx) => deps.port.event(tx, body));
        deps.port.committed();
      },
      () => deps.clockSync.headendNow(),
    );
  if (powerCut) {
    logger.warn(powerCut.evidence, powerCut.message);
    alarms.raise('power_cut', powerCut.message, powerCut.evidence);
  }
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

  const report: RecoveryReport = { orphans, ...gate, resumed: [], finalised: [], missed: [], powerCut };
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
  if (powerCut) {
    alarms.clear('power_cut', {
      resumed: report.resumed.length,
      finalised: report.finalised.length,
      missed: report.missed.length,
      orphansKilled: orphans.length,
      clock: gate.clock,
      waitedMs: Math.round(gate.waitedMs),
      recoveredAt: new Date(deps.clockSync.headendNow()).toISOString(),
    });
  }
  return report;
}
