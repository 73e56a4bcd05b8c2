/**
 * The agent's receiver, wired: the byte transport (serial or a serial-over-IP device server, DOMAIN.md §3),
 * the RX8200 driver on it, and the executor's `ReceiverControl` with its alarm hooks — the recovery
 * ladder's escalation, forgotten settings and a missing USB-serial port each raise and clear a station
 * alarm (DOMAIN.md §6).
 */
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import type { AgentConfig } from '../config.js';
import { ReceiverControl } from '../executor/receiver-control.js';
import type { StationAlarms } from '../link/alarms.js';
import type { Clock } from '../link/clock.js';
import { moduleLogger } from '../log.js';
import type { ReceiverDriver } from '../receiver/driver.js';
import { Rx8200Driver } from '../receiver/drivers/rx8200.js';
import { SerialTransport } from '../receiver/transports/serial.js';
import { TcpTransport } from '../receiver/transports/tcp.js';
import type { Transport } from '../receiver/transports/transport.js';

type Evidence = Record<string, number | string | boolean | null>;

export interface StationReceiverDeps {
  clock: Clock;
  /** The station's logger (module loggers are made from it). */
  logger: Logger;
  timing: TimingProfile;
  alarms: StationAlarms;
  /** The receiver's byte stream; built from `config.receiver.transport` when omitted. */
  transport?: Transport;
  /** A technician's maintenance hold is active: the receiver is theirs until it ends. */
  held: () => boolean;
  /** Lock, link or settings changed: publish the station state. */
  onChange: () => void;
}

export interface StationReceiver {
  readonly transport: Transport;
  readonly driver: ReceiverDriver;
  readonly control: ReceiverControl;
  /** Stops the control, then the driver, then the transport (the reverse of `startReceiver`). */
  close(): Promise<void>;
}

/** Opens the transport and builds the driver and its control; the transport starts reopening by itself. */
export function startReceiver(config: AgentConfig, deps: StationReceiverDeps): StationReceiver {
  const { clock, timing, alarms } = deps;
  const log = deps.logger;
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
  const control = new ReceiverControl({
    id: config.receiver.id,
    driver,
    clock,
    logger: moduleLogger(log, 'device/executor/receiver'),
    timing,
    onChange: () => deps.onChange(),
    held: deps.held,
    onAlarm: (what, reason, r) => {
      // The escalation is named for what the ladder fought (DOMAIN.md §6): an LNB fault is a site visit, a
      // frozen stream is not a dead serial link. A receiver that answers but finds no carrier is not
      // unresponsive either: no lock is a signal problem (snow, dish, carrier, sun), which the headend judges
      // from telemetry with fleet correlation and the sun-outage calendar (`signal_lost`), so the station
      // raises nothing of its own for it.
      const p = r.ladderProblem;
      if (what === 'raised' && p === 'no-lock') {
        log.warn(
          { receiverId: r.id, reason },
          'no lock after re-applying the tuning: a signal problem, not the receiver',
        );
        return;
      }
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
            onAlarm: (what: 'raised' | 'cleared', message: string, evidence: Evidence, r: ReceiverControl) =>
              what === 'raised'
                ? alarms.raise('serial_port_missing', message, evidence, r.id)
                : alarms.clear('serial_port_missing', evidence, r.id),
          },
        }
      : {}),
  });
  return {
    transport,
    driver,
    control,
    async close() {
      await control.close();
      await driver.close();
      await transport.close();
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
