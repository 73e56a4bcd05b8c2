/**
 * The station agent, wired (DESIGN.md §6). One deps object — clock, logger, db, spawn, transport — and no
 * module singletons, so several agents run in one process (the quick-start fleet does).
 *
 * Offline first: the executor runs from the store; the MQTT link only updates the schedule document,
 * carries the outbox to the headend, answers RPC and reports state and telemetry.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { StationBirth } from '../protocol/messages/state.js';
import type { TimingProfile } from '../protocol/timing.js';
import { type AgentConfig, controlSocketPath, databasePath, readBrokerTls, resolveTiming } from './config.js';
import { type ControlSocket, MaintenanceHold, openControlSocket } from './control-socket.js';
import { streamDetectors } from './detect/index.js';
import { type LogRing, stationDiagnostics } from './diagnostics/index.js';
import { Executor } from './executor/executor.js';
import { ReceiverControl } from './executor/receiver-control.js';
import { RecorderAdapter } from './executor/recorder-adapter.js';
import { type RecoveryReport, recover } from './executor/recovery.js';
import { executorStorePort } from './executor/store-port.js';
import { controlHandlers } from './link/agent-control.js';
import { StationAlarms } from './link/alarms.js';
import { type Clock, ClockSync } from './link/clock.js';
import { routeInbound } from './link/inbound.js';
import { type MqttConnect, MqttLink } from './link/mqtt-link.js';
import { OutboxSender, storeOutboxPort } from './link/outbox-sender.js';
import { RpcDispatcher, storeRidJournal } from './link/rpc.js';
import { receiverEndpoint, rpcHandlers, signalOf } from './link/rpc-handlers.js';
import { storedSchedule, takeSchedule } from './link/schedule-intake.js';
import { buildBirth, receiverSummaries } from './link/state-report.js';
import { hostCpuMeter, sampleTelemetry, TelemetryLoop } from './link/telemetry.js';
import { moduleLogger } from './log.js';
import type { ReceiverDriver } from './receiver/driver.js';
import { Rx8200Driver } from './receiver/drivers/rx8200.js';
import { SerialTransport } from './receiver/transports/serial.js';
import { TcpTransport } from './receiver/transports/tcp.js';
import type { Transport } from './receiver/transports/transport.js';
import { DiskGuard } from './recorder/disk.js';
import type { SpawnFn } from './recorder/spawn.js';
import { openStationStore, type StationStore } from './store/db.js';
import type { EventBody } from './store/outbox.js';

/** Reported in the state (`agentVersion`). */
export const AGENT_VERSION = '0.1.0';

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
  const store =
    deps.db ?? openStationStore(databasePath(config), { clock, logger: moduleLogger(log, 'device/store') });
  const bootN = store.counters.nextBoot();
  const clockSync = new ClockSync(clock, timing.clockMaxOffsetMs);
  const now = () => clockSync.headendNow();
  const lastJournal = store.journal.lastAt();
  const lastJournalAtMs = lastJournal ? Date.parse(lastJournal) : null;
  const clockBehind = () => lastJournalAtMs !== null && clock.now() < lastJournalAtMs;
  const clockTrusted = () => clockSync.estimate().trusted && !clockBehind();

  // Events: appended inside a transaction, then the sender is told (it sends in seq order).
  let sender: OutboxSender | null = null;
  const emit = (body: EventBody) => {
    store.transaction((tx) => store.outbox.appendEvent(tx, body));
    sender?.notify();
  };
  // Station alarms: the active set is committed with each event and restored here (device/link/alarms.ts).
  const restored = store.alarmState.load();
  if (restored.damaged) log.warn('stored active alarms unreadable: starting with none');
  const alarms = new StationAlarms(
    (body, active) => {
      store.transaction((tx) => {
        store.outbox.appendEvent(tx, body);
        store.alarmState.save(tx, active);
      });
      sender?.notify();
    },
    now,
    restored.alarms,
  );

  const transport =
    deps.transport ?? createTransport(config, clock, moduleLogger(log, 'device/receiver/transport'), timing);
  transport.start();
  const driver: ReceiverDriver = new Rx8200Driver(
    { address: config.receiver.address, timing },
    {
      transport,
      timers: clock,
      logger: moduleLogger(log, 'device/receiver', { receiverId: config.receiver.id }),
    },
  );
  let publishState: () => void = () => undefined;
  const rc = new ReceiverControl({
    id: config.receiver.id,
    driver,
    clock,
    logger: moduleLogger(log, 'device/executor/receiver'),
    timing,
    onChange: () => publishState(),
    // The technician's maintenance hold (below): the receiver is theirs until it ends.
    held: () => hold.active,
    onAlarm: (what, reason, r) => {
      // The escalation is named for what the ladder fought (DOMAIN.md §6): an LNB fault is a site visit, a
      // frozen stream is not a dead serial link.
      const p = r.ladderProblem;
      const kind =
        p === 'lnb-fault' ? 'lnb_fault' : p === 'stream-frozen' ? 'stream_frozen' : 'receiver_unresponsive';
      if (what === 'raised') alarms.raise(kind, reason, { rung: 'escalated', problem: p }, r.id);
      else
        for (const k of ['receiver_unresponsive', 'lnb_fault', 'stream_frozen'] as const)
          alarms.clear(k, { reason }, r.id);
    },
    // DOMAIN.md §6 "Receiver forgets settings": the fact (desired vs read-back), cleared by its fix.
    onSettings: (what, message, evidence, r) =>
      what === 'lost'
        ? alarms.raise('receiver_settings_lost', message, evidence, r.id)
        : alarms.clear('receiver_settings_lost', evidence, r.id),
    // DOMAIN.md §6 "USB-serial renumbered": only a serial port has a path that can go missing.
    ...(config.receiver.transport.type === 'serial'
      ? {
          port: {
            transport,
            path: config.receiver.transport.path,
            holdMs: timing.alarmRaiseHoldMs,
            onAlarm: (
              what: 'raised' | 'cleared',
              message: string,
              evidence: Record<string, number | string | boolean | null>,
              r: ReceiverControl,
            ) =>
              what === 'raised'
                ? alarms.raise('serial_port_missing', message, evidence, r.id)
                : alarms.clear('serial_port_missing', evidence, r.id),
          },
        }
      : {}),
  });
  const receivers = new Map([[rc.id, rc]]);

  const disk = new DiskGuard({
    root: config.recordingsDir,
    policy: config.disk,
    recordings: store.recordings,
    logger: moduleLogger(log, 'device/recorder/disk'),
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
    notify: () => sender?.notify(),
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
        // One segment plus a check period at 8 Mbit/s (DESIGN.md §3): what a recording needs to start.
        const v = await disk.ensureSpace(((timing.recorderSegmentMs + 10_000) / 1000) * 1_000_000);
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
  const docLog = moduleLogger(log, 'device/link/schedule');
  const stored = storedSchedule(store, docLog);
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

  const state = (): StationBirth =>
    buildBirth({
      boot: link.currentBoot ?? { n: bootN, conn: store.counters.current().conn },
      storeId: store.storeId,
      agentVersion: AGENT_VERSION,
      nowMs: now(),
      applied: store.schedule.applied(),
      rejection: store.schedule.rejection(),
      receivers: receiverSummaries(receivers.values()),
      clock: clockSync.estimate(),
      clockBehindJournal: clockBehind(),
      maintenance: hold.info(),
    });

  const onSchedule = (payload: Buffer) => {
    const r = takeSchedule(payload, { store, receiverIds: [...receivers.keys()], now, log: docLog });
    if (r.doc && r.appliedAtMs !== undefined) executor.load(r.doc, r.appliedAtMs);
    if (r.changed) {
      sender?.notify();
      publishState();
    }
  };

  // Diagnostics (logs.tail, stream.probe, recordings.retention) and the automatic retention sweep.
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
  // Stream detectors (issue 8): scrambled / service missing from the receiver's status, black or silent
  // and undecodable video from the recorded content (device/detect/).
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
  const rpc = new RpcDispatcher({
    handlers: {
      ...diagnostics.handlers,
      ...rpcHandlers({
        store,
        executor,
        receivers,
        clockSync,
        now,
        localNow: () => clock.now(),
        log: moduleLogger(log, 'device/link/clock'),
        disk,
        recordingsRoot: config.recordingsDir,
        receiverInfo: () => receiverEndpoint(config.receiver),
        tuningOf: (service) => executor.tuningFor(service),
      }),
    },
    rids: storeRidJournal(store, now, () => sender?.notify()),
    now: () => clock.now(),
    offsetMs: () => {
      const e = clockSync.estimate();
      return e.known ? e.offsetMs : 0;
    },
    maintenanceHeld: () => hold.active,
    respond: (r) => link.publishRpcResponse(r),
    logger: moduleLogger(log, 'device/link/rpc'),
  });

  const linkLog = moduleLogger(log, 'device/link');
  const link = new MqttLink({
    stationId: config.stationId,
    brokerUrl: config.broker.url,
    password: config.broker.password,
    tls: readBrokerTls(config.broker.tls),
    topicRoot: config.topicRoot,
    timing,
    clock,
    logger: linkLog,
    ...(deps.mqttConnect ? { connect: deps.mqttConnect } : {}),
    nextConnection: () => ({ n: bootN, conn: store.counters.nextConn() }),
    birthState: () => state(),
    onMessage: (kind, payload) =>
      routeInbound(kind, payload, {
        schedule: onSchedule,
        ack: (a) => sender?.onAck(a),
        rpc: (p) => void rpc.handle(p),
        lineup: (l) => linkLog.debug({ version: l.version }, 'line-up'),
        headendState: (h) => linkLog.info({ online: h.online }, 'headend state'),
      }),
  });
  const outbox = new OutboxSender({
    port: storeOutboxPort(store, now),
    clock,
    logger: moduleLogger(log, 'device/link/outbox'),
    resendMs: timing.outboxResendMs,
    quarantineAfter: timing.outboxQuarantineAfter,
    onQuarantine: (seq, reason) =>
      alarms.raise('outbox_quarantined', `event seq ${seq} quarantined: ${reason}`, {
        seq,
        storeId: store.storeId,
      }),
  });
  sender = outbox;
  let statePending = false;
  publishState = () => {
    if (statePending) return;
    statePending = true;
    clock.schedule(50, () => {
      statePending = false;
      if (link.connected) void link.publishState(state()).catch(() => undefined);
    });
  };
  const telemetry = new TelemetryLoop({
    clock,
    logger: moduleLogger(log, 'device/link/telemetry'),
    activeMs: timing.telemetryActiveMs,
    idleMs: timing.telemetryIdleMs,
    isActive: () => executor.active().length > 0,
    isConnected: () => link.connected,
    publish: (t) => link.publishTelemetry(t),
    emitSummary: (body) => emit(body),
    sample: () =>
      sampleTelemetry({
        now,
        receivers: () => [...receivers.values()].map((r) => signalOf(r)),
        recorders: () =>
          executor.active().flatMap((r) =>
            r.recording
              ? [
                  {
                    entryId: r.entryId,
                    nominalStart: r.nominalStart,
                    receiverId: r.occ?.receiverId ?? rc.id,
                    ...r.recording.figures(),
                  },
                ]
              : [],
          ),
        disk: () => disk.usage(),
        cpuPct: hostCpuMeter(),
      }),
  });
  link.on('up', () => {
    outbox.connected(link.publishEvent);
    telemetry.flushOffline();
  });
  link.on('down', () => outbox.disconnected());

  let control: ControlSocket | null = null;
  if (deps.controlSocket !== false) {
    control = await openControlSocket({
      path: controlSocketPath(config),
      hold,
      logger: moduleLogger(log, 'device/control-socket'),
      handlers: controlHandlers({ state, executor, receivers, tuningFor: (s) => executor.tuningFor(s) }),
    });
  }

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
  // Alarms the previous run left active are cleared unless a detector raises them again once it has had
  // its hold (the content check's period plus its hold is the longest).
  let cancelReconcile: (() => void) | null = null;
  if (restored.alarms.length > 0) {
    const afterMs =
      Math.max(2 * timing.alarmRaiseHoldMs, timing.contentCheckPeriodMs + timing.alarmRaiseHoldMs) +
      timing.receiverPollMs;
    cancelReconcile = clock.schedule(afterMs, () => {
      const cleared = alarms.reconcile();
      if (cleared.length > 0) log.info({ cleared }, 'alarms from before the restart cleared: not seen again');
    });
  }
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
    outbox,
    receivers,
    recovered,
    state,
    async stop() {
      if (stopped) return;
      stopped = true;
      recoveryAbort.abort();
      cancelReconcile?.();
      telemetry.stop();
      diagnostics.stop();
      detectors.stop();
      hold.close();
      await executor.stop();
      await recorder.stopAll();
      outbox.close();
      await link.stop({ online: false, boot: link.currentBoot ?? { n: bootN, conn: 0 } });
      await control?.close();
      await rc.close();
      await driver.close();
      await transport.close();
      // The clean-stop marker: the next start must not take this stop for a power cut (executor/recovery.ts).
      store.runs.end(new Date(clock.now()).toISOString());
      if (!deps.db) store.close();
      log.info('agent stopped');
    },
  };
}

function createTransport(
  config: AgentConfig,
  clock: Clock,
  logger: Logger,
  timing: TimingProfile,
): Transport {
  const tdeps = {
    timers: clock,
    logger,
    reopenMinMs: timing.transportReopenMinMs,
    reopenMaxMs: timing.transportReopenMaxMs,
  };
  const t = config.receiver.transport;
  return t.type === 'serial'
    ? new SerialTransport({ path: t.path, baudRate: t.baudRate }, tdeps)
    : new TcpTransport({ host: t.host, port: t.port }, tdeps);
}
