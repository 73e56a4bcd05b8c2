/**
 * The station agent, wired (DESIGN.md §6). One deps object — clock, logger, db, spawn, transport — and no
 * module singletons, so several agents run in one process (the quick-start fleet does).
 *
 * Offline first: the executor runs from the store; the MQTT link only updates the schedule document,
 * carries the outbox to the headend, answers RPC and reports state and telemetry.
 *
 * `startAgent` reads as the story of a start, step by step; the parts are composed in device/agent/
 * (receiver.ts, alarms.ts, link.ts) and `stop()` takes them down in reverse.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { StationBirth } from '../protocol/messages/state.js';
import type { TimingProfile } from '../protocol/timing.js';
import { reconcileAfterRestart, stationEvents } from './agent/alarms.js';
import { stationLink } from './agent/link.js';
import { startReceiver } from './agent/receiver.js';
import { type AgentConfig, controlSocketPath, databasePath, resolveTiming } from './config.js';
import { type ControlSocket, MaintenanceHold, openControlSocket } from './control-socket.js';
import { streamDetectors } from './detect/index.js';
import { type LogRing, stationDiagnostics } from './diagnostics/index.js';
import { Executor } from './executor/executor.js';
import type { ReceiverControl } from './executor/receiver-control.js';
import { RecorderAdapter } from './executor/recorder-adapter.js';
import { type RecoveryReport, recover } from './executor/recovery.js';
import { executorStorePort } from './executor/store-port.js';
import { controlHandlers } from './link/agent-control.js';
import { type Clock, ClockSync } from './link/clock.js';
import type { MqttConnect, MqttLink } from './link/mqtt-link.js';
import type { OutboxSender } from './link/outbox-sender.js';
import { storedSchedule } from './link/schedule-intake.js';
import { moduleLogger } from './log.js';
import type { Transport } from './receiver/transports/transport.js';
import { DiskGuard, type DiskPolicy, type DiskUsage } from './recorder/disk.js';
import { DiskWatch } from './recorder/disk-watch.js';
import type { SpawnFn } from './recorder/spawn.js';
import { openStationStore, type StationStore } from './store/db.js';

/** Reported in the state (`agentVersion`); defined with the state report (device/agent/link.ts). */
export { AGENT_VERSION } from './agent/link.js';

export interface AgentDeps {
  clock: Clock;
  logger: Logger;
  /** Spawns ffmpeg/ffprobe (node:child_process `spawn`). */
  spawn: SpawnFn;
  /** An open station store; opened at `<dataDir>/station.db` when omitted. */
  db?: StationStore;
  /** The receiver's byte stream; built from `config.receiver.transport` when omitted. */
  transport?: Transport;
  /** mqtt.js `connect` (tests wrap it). */
  mqttConnect?: MqttConnect;
  /** Open the local control socket (default true; the in-process fleet turns it off). */
  controlSocket?: boolean;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** The in-memory log the logger also writes to (device/log.ts `ring`), for the `logs.tail` RPC. */
  logs?: LogRing;
  /**
   * Measures the recordings filesystem; device/recorder/disk.ts `measureDisk` when omitted (tests that
   * cannot mount a read-only filesystem pass a view of one).
   */
  measureDisk?: (root: string, policy: DiskPolicy) => Promise<DiskUsage>;
}

export interface Agent {
  readonly config: AgentConfig;
  readonly timing: TimingProfile;
  readonly store: StationStore;
  readonly link: MqttLink;
  readonly executor: Executor;
  readonly clockSync: ClockSync;
  readonly hold: MaintenanceHold;
  readonly outbox: OutboxSender;
  readonly receivers: ReadonlyMap<string, ReceiverControl>;
  /** Settles when crash recovery has run and the executor started. */
  readonly recovered: Promise<RecoveryReport>;
  /** The state as it would be published now. */
  state(): StationBirth;
  /** Clean stop: recorders stopped (their occurrences resume on the next start), offline state published. */
  stop(): Promise<void>;
}

export async function startAgent(config: AgentConfig, deps: AgentDeps): Promise<Agent> {
  const { clock } = deps;
  const log = deps.logger.child({ station: config.stationId });
  const timing = resolveTiming(config);
  mkdirSync(config.dataDir, { recursive: true });
  mkdirSync(config.recordingsDir, { recursive: true });

  // 1. The store, this boot's number and the clock the agent trusts (DESIGN.md §6).
  const store =
    deps.db ?? openStationStore(databasePath(config), { clock, logger: moduleLogger(log, 'device/store') });
  const bootN = store.counters.nextBoot();
  const clockSync = new ClockSync(clock, timing.clockMaxOffsetMs);
  const now = () => clockSync.headendNow();
  const lastJournal = store.journal.lastAt();
  const lastJournalAtMs = lastJournal ? Date.parse(lastJournal) : null;
  const clockBehind = () => lastJournalAtMs !== null && clock.now() < lastJournalAtMs;
  const clockTrusted = () => clockSync.estimate().trusted && !clockBehind();

  // 2. Events and station alarms, committed to the outbox; the sender is built with the link (step 6).
  let outbox: OutboxSender | null = null;
  let publishState: () => void = () => undefined;
  const events = stationEvents({ store, now, logger: log, notify: () => outbox?.notify() });
  const { emit, alarms } = events;

  // 3. The receiver: transport, driver and control with its alarm hooks.
  const receiver = startReceiver(config, {
    clock,
    logger: log,
    timing,
    alarms,
    ...(deps.transport ? { transport: deps.transport } : {}),
    // The technician's maintenance hold (below): the receiver is theirs until it ends.
    held: () => hold.active,
    onChange: () => publishState(),
  });
  const rc = receiver.control;
  const receivers = new Map([[rc.id, rc]]);

  // 4. Disk, recorder, maintenance hold and the executor, loaded from the stored schedule (offline first).
  // One segment plus a check period at 8 Mbit/s (DESIGN.md §3): what a recording needs to start.
  const recordingNeedBytes = ((timing.recorderSegmentMs + 10_000) / 1000) * 1_000_000;
  // Every disk measurement (telemetry each period, space checks, sweeps) judges the disk alarms.
  const diskWatch = new DiskWatch({
    alarms,
    root: config.recordingsDir,
    recordingNeedBytes,
    raiseHoldMs: timing.alarmRaiseHoldMs,
    clearHoldMs: timing.alarmClearHoldMs,
    monotonic: () => clock.monotonic(),
    logger: moduleLogger(log, 'device/recorder/disk'),
  });
  const disk = new DiskGuard({
    root: config.recordingsDir,
    policy: config.disk,
    recordings: store.recordings,
    logger: moduleLogger(log, 'device/recorder/disk'),
    onMeasure: (u) => diskWatch.observe(u),
    ...(deps.measureDisk ? { measure: deps.measureDisk } : {}),
  });
  const recorder = new RecorderAdapter({
    store,
    spawn: deps.spawn,
    clock,
    logger: moduleLogger(log, 'device/recorder'),
    timing,
    root: config.recordingsDir,
    space: disk,
    clockTrusted,
    now,
    ...(deps.ffmpegPath ? { ffmpegPath: deps.ffmpegPath } : {}),
    ...(deps.ffprobePath ? { ffprobePath: deps.ffprobePath } : {}),
  });
  const storePort = executorStorePort(store, {
    recordingsDir: config.recordingsDir,
    notify: () => outbox?.notify(),
    now,
  });
  const hold = new MaintenanceHold(
    clock,
    { defaultMs: timing.maintenanceHoldMs, maxMs: timing.maintenanceHoldMaxMs },
    (h) => {
      publishState();
      if (!h) {
        // The technician may have changed anything on the receiver: verify before trusting it again.
        for (const r of receivers.values()) r.invalidate();
        executor.wakeAt(now());
      }
    },
  );
  const executor: Executor = new Executor({
    clock,
    now,
    timing,
    store: storePort,
    recorder,
    disk: {
      ensureSpace: async () => {
        // A writable disk seen here also counts towards clearing `filesystem_read_only` (DiskWatch).
        const v = await disk.ensureSpace(recordingNeedBytes);
        if (v.ok) {
          alarms.clear('disk_full');
          return { ok: true };
        }
        return { ok: false, reason: v.message, readOnly: v.reason === 'read_only' };
      },
    },
    receiver: (id) => receivers.get(id),
    receivers,
    streamUrl: () => config.streamUrl,
    held: () => hold.active,
    clockTrusted,
    alarm: (kind, raised, message) => (raised ? alarms.raise(kind, message) : alarms.clear(kind)),
    log: moduleLogger(log, 'device/executor'),
  });
  const stored = storedSchedule(store, moduleLogger(log, 'device/link/schedule'));
  executor.load(stored?.doc ?? null, stored?.appliedAtMs ?? 0);
  clockSync.onJump((jump) => {
    log.warn({ stepMs: jump.stepMs }, 'clock jump: re-planning');
    const offset = clockSync.estimate();
    emit({
      type: 'clock.jump',
      at: new Date(now()).toISOString(),
      deltaMs: Math.round(jump.stepMs),
      offsetMs: offset.known ? offset.offsetMs : null,
      source: 'unknown',
    });
    executor.replan('clock jump');
    publishState();
  });

  // 5. Diagnostics (logs.tail, stream.probe, recordings.retention) with the automatic retention sweep, and
  // the stream detectors (issue 8): scrambled / service missing from the receiver's status, black or
  // silent and undecodable video from the recorded content (device/detect/).
  const diagnostics = stationDiagnostics({
    store,
    disk,
    diskPolicy: config.disk,
    recordingsRoot: config.recordingsDir,
    dataDir: config.dataDir,
    clock,
    now,
    timing,
    logs: deps.logs ?? null,
    receiverIds: () => [...receivers.keys()],
    streamUrl: () => config.streamUrl,
    readerOf: (id) => {
      const r = executor.active().find((a) => a.recording && (a.occ?.receiverId ?? rc.id) === id);
      return r?.recording ? { entryId: r.entryId, ...r.recording.figures() } : null;
    },
    spawn: deps.spawn,
    ...(deps.ffprobePath ? { ffprobePath: deps.ffprobePath } : {}),
    logger: log,
  });
  const detectors = streamDetectors({
    alarms,
    receivers: () => receivers.values(),
    active: () => executor.active(),
    defaultReceiverId: rc.id,
    serviceIdOf: (service) => executor.tuningFor(service)?.serviceId ?? null,
    store,
    recordingsRoot: config.recordingsDir,
    timing,
    clock,
    now,
    spawn: deps.spawn,
    ...(deps.ffmpegPath ? { ffmpegPath: deps.ffmpegPath } : {}),
    logger: log,
  });

  // 6. The link to the headend: MQTT, outbox sender, RPC, telemetry and state publishing.
  const station = stationLink({
    config,
    timing,
    clock,
    logger: log,
    store,
    bootN,
    clockSync,
    now,
    clockBehind,
    hold,
    executor,
    receivers,
    defaultReceiverId: rc.id,
    disk,
    alarms,
    emit,
    extraHandlers: diagnostics.handlers,
    ...(deps.mqttConnect ? { mqttConnect: deps.mqttConnect } : {}),
  });
  const { link, telemetry, state } = station;
  outbox = station.outbox;
  publishState = station.publishState;

  // 7. The technician's local control socket.
  let control: ControlSocket | null = null;
  if (deps.controlSocket !== false) {
    control = await openControlSocket({
      path: controlSocketPath(config),
      hold,
      logger: moduleLogger(log, 'device/control-socket'),
      handlers: controlHandlers({ state, executor, receivers, tuningFor: (s) => executor.tuningFor(s) }),
    });
  }

  // 8. Crash recovery (executor/recovery.ts), then the alarms the last run left are reconciled.
  const recoveryAbort = new AbortController();
  const recovered = recover({
    store,
    port: storePort,
    executor,
    alarms,
    clock,
    clockSync,
    logger: moduleLogger(log, 'device/executor/recovery'),
    recordingsRoot: config.recordingsDir,
    timing,
    signal: recoveryAbort.signal,
  });
  recovered.catch((err: unknown) => {
    // Stopping during recovery (e.g. while it waits for the clock) is not a failure.
    if (!recoveryAbort.signal.aborted) log.error({ err }, 'recovery failed');
  });
  const cancelReconcile = reconcileAfterRestart(events, { clock, timing, logger: log });

  // 9. Go: connect, sample, sweep, detect.
  link.start();
  telemetry.start();
  void diagnostics.start().catch((err: unknown) => log.warn({ err }, 'diagnostics did not start'));
  detectors.start();
  log.info({ boot: bootN, storeId: store.storeId, broker: config.broker.url }, 'agent started');

  let stopped = false;
  return {
    config,
    timing,
    store,
    link,
    executor,
    clockSync,
    hold,
    outbox: station.outbox,
    receivers,
    recovered,
    state,
    // The reverse of the story above.
    async stop() {
      if (stopped) return;
      stopped = true;
      recoveryAbort.abort();
      cancelReconcile?.();
      // Let an aborted recovery settle before its logger and store go away (bounded: it only waits on the
      // clock, which the abort ends, or on orphan kills, which take at most the stop grace).
      let cancelWait: () => void = () => undefined;
      await Promise.race([
        recovered.catch(() => undefined),
        new Promise((r) => {
          cancelWait = clock.schedule(timing.recorderStopGraceMs + 1000, () => r(undefined));
        }),
      ]);
      cancelWait();
      telemetry.stop();
      diagnostics.stop();
      detectors.stop();
      hold.close();
      await executor.stop();
      await recorder.stopAll();
      station.outbox.close();
      await link.stop({ online: false, boot: link.currentBoot ?? { n: bootN, conn: 0 } });
      await control?.close();
      await receiver.close();
      // The clean-stop marker: the next start must not take this stop for a power cut (executor/recovery.ts).
      store.runs.end(new Date(clock.now()).toISOString());
      if (!deps.db) store.close();
      log.info('agent stopped');
    },
  };
}
