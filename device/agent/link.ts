/**
 * The agent's link to the headend, wired (DESIGN.md §6 "Device agent"): the MQTT link with its birth and
 * Will, the inbound routing (schedule document, outbox acks, RPC), the outbox sender, the RPC dispatcher,
 * the telemetry loop and the debounced state publishing. Offline first: nothing here drives the executor
 * except a new schedule document, which is stored before it is loaded.
 */
import type { Logger } from 'pino';
import type { StationBirth } from '../../protocol/messages/state.js';
import type { TimingProfile } from '../../protocol/timing.js';
import { type AgentConfig, readBrokerTls } from '../config.js';
import type { MaintenanceHold } from '../control-socket.js';
import type { Executor } from '../executor/executor.js';
import type { ReceiverControl } from '../executor/receiver-control.js';
import type { StationAlarms } from '../link/alarms.js';
import type { Clock, ClockSync } from '../link/clock.js';
import { routeInbound } from '../link/inbound.js';
import { type MqttConnect, MqttLink } from '../link/mqtt-link.js';
import { OutboxSender, storeOutboxPort } from '../link/outbox-sender.js';
import { RpcDispatcher, type RpcHandlers, storeRidJournal } from '../link/rpc.js';
import { receiverEndpoint, rpcHandlers, signalOf } from '../link/rpc-handlers.js';
import { takeSchedule } from '../link/schedule-intake.js';
import { buildBirth, receiverSummaries } from '../link/state-report.js';
import { hostCpuMeter, sampleTelemetry, TelemetryLoop } from '../link/telemetry.js';
import { moduleLogger } from '../log.js';
import type { DiskGuard } from '../recorder/disk.js';
import type { StationStore } from '../store/db.js';
import type { EventBody } from '../store/outbox.js';

/** Reported in the state (`agentVersion`). */
export const AGENT_VERSION = '0.1.0';

export interface StationLinkDeps {
  config: AgentConfig;
  timing: TimingProfile;
  clock: Clock;
  /** The station's logger (module loggers are made from it). */
  logger: Logger;
  store: StationStore;
  /** This start's boot number (`store.counters.nextBoot()`). */
  bootN: number;
  clockSync: ClockSync;
  /** Headend time (epoch ms). */
  now: () => number;
  /** The local clock is behind the journal's last entry (reported in the state). */
  clockBehind: () => boolean;
  hold: MaintenanceHold;
  executor: Executor;
  receivers: ReadonlyMap<string, ReceiverControl>;
  /** The receiver an occurrence without one uses. */
  defaultReceiverId: string;
  disk: DiskGuard;
  alarms: StationAlarms;
  /** Appends an event to the outbox (device/agent/alarms.ts). */
  emit: (body: EventBody) => void;
  /** RPC handlers besides the link's own (the diagnostics). */
  extraHandlers: RpcHandlers;
  /** mqtt.js `connect` (tests wrap it). */
  mqttConnect?: MqttConnect;
}

export interface StationLink {
  readonly link: MqttLink;
  readonly outbox: OutboxSender;
  readonly telemetry: TelemetryLoop;
  /** The state as it would be published now. */
  state(): StationBirth;
  /** Publishes the state soon (changes within 50 ms are sent once), when connected. */
  publishState(): void;
}

/** Builds the link and its parts; nothing connects until `link.start()`. */
export function stationLink(deps: StationLinkDeps): StationLink {
  const { config, timing, clock, store, bootN, clockSync, now, hold, executor, receivers, alarms } = deps;
  const log = deps.logger;
  const receiverIds = () => [...receivers.keys()];

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
      clockBehindJournal: deps.clockBehind(),
      maintenance: hold.info(),
    });
  let statePending = false;
  const publishState = () => {
    if (statePending) return;
    statePending = true;
    clock.schedule(50, () => {
      statePending = false;
      if (link.connected) void link.publishState(state()).catch(() => undefined);
    });
  };

  const docLog = moduleLogger(log, 'device/link/schedule');
  const onSchedule = (payload: Buffer) => {
    const r = takeSchedule(payload, { store, receiverIds: receiverIds(), now, log: docLog });
    if (r.doc && r.appliedAtMs !== undefined) executor.load(r.doc, r.appliedAtMs);
    if (r.changed) {
      outbox.notify();
      publishState();
    }
  };

  const rpc = new RpcDispatcher({
    handlers: {
      ...deps.extraHandlers,
      ...rpcHandlers({
        store,
        executor,
        receivers,
        clockSync,
        now,
        localNow: () => clock.now(),
        log: moduleLogger(log, 'device/link/clock'),
        disk: deps.disk,
        recordingsRoot: config.recordingsDir,
        receiverInfo: () => receiverEndpoint(config.receiver),
        tuningOf: (service) => executor.tuningFor(service),
      }),
    },
    rids: storeRidJournal(store, now, () => outbox.notify()),
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
  const link: MqttLink = new MqttLink({
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
        ack: (a) => outbox.onAck(a),
        rpc: (p) => void rpc.handle(p),
        lineup: (l) => linkLog.debug({ version: l.version }, 'line-up'),
        headendState: (h) => linkLog.info({ online: h.online }, 'headend state'),
      }),
  });

  const telemetry = new TelemetryLoop({
    clock,
    logger: moduleLogger(log, 'device/link/telemetry'),
    activeMs: timing.telemetryActiveMs,
    idleMs: timing.telemetryIdleMs,
    isActive: () => executor.active().length > 0,
    isConnected: () => link.connected,
    publish: (t) => link.publishTelemetry(t),
    emitSummary: (body) => deps.emit(body),
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
                    receiverId: r.occ?.receiverId ?? deps.defaultReceiverId,
                    ...r.recording.figures(),
                  },
                ]
              : [],
          ),
        disk: () => deps.disk.usage(),
        cpuPct: hostCpuMeter(),
      }),
  });
  link.on('up', () => {
    outbox.connected(link.publishEvent);
    telemetry.flushOffline();
  });
  link.on('down', () => outbox.disconnected());

  return { link, outbox, telemetry, state, publishState };
}
