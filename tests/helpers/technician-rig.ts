/**
 * The technician's world for diagnostics and alarm tests (issue 8): the REAL headend (headend/main.ts, the
 * composition root, with its embedded broker, alarm engine, diagnostics and HTTP API), the sample line-up,
 * provisioned stations, one user of every role — and real station agents (device/agent.ts) on simulated
 * RX8200s that stream real MPEG-TS and play scripted faults (device/simulator/faults.ts). Agents log to a
 * file and to the in-memory ring `logs.tail` reads. Short timing profile; everything stopped on teardown.
 */
import { spawn } from 'node:child_process';
import fs, { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { type Agent, startAgent } from '../../device/agent.js';
import { LogRing } from '../../device/diagnostics/log-ring.js';
import { systemClock } from '../../device/link/clock.js';
import { createLogger } from '../../device/log.js';
import type { SunOutageCalendar } from '../../headend/alarms/sun-calendar.js';
import type { AlarmRecord } from '../../headend/alarms/types.js';
import { HeadendConfigSchema } from '../../headend/config.js';
import { silentLogger } from '../../headend/log.js';
import { type RunningHeadend, startHeadend } from '../../headend/main.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { createUserStore } from '../../headend/users/index.js';
import { seedUsers } from '../../headend/users/seed.js';
import type { AlarmKind } from '../../protocol/registry.js';
import type { TimingProfile } from '../../protocol/timing.js';
import {
  agentConfig,
  type SimReceiver,
  startSimReceiver,
  tempDir,
  type UplinkSwitch,
  until,
} from './agent-harness.js';
import { sampleLineup } from './headend-fleet.js';
import { ApiClient, PASSWORD, TEST_SCRYPT } from './headend-harness.js';
import { freeTcpPort } from './net.js';

export { sleep, until, uplinkSwitch } from './agent-harness.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One station: its agent, simulated receiver and log ring. */
export interface RigStation {
  id: string;
  agent: Agent;
  rx: SimReceiver;
  logs: LogRing;
  dir: string;
}

export interface TechnicianRig {
  headend: RunningHeadend;
  url: string;
  brokerUrl: string;
  secrets: Record<string, string>;
  /** A client logged in as `admin`, `control`, `tech` or an operator (`op-<station>` owns that station). */
  as(user: string): Promise<ApiClient>;
  /** Starts a real agent with a simulated receiver for a provisioned station; resolves when it is online. */
  station(id: string, opts?: { streamUrl?: string; uplink?: UplinkSwitch }): Promise<RigStation>;
  /** Schedules a conference (shown, not recorded) on `service` from now on: the receiver tunes and locks. */
  tuneConference(stationId: string, service?: string, minutes?: number): string;
  /** Schedules a recording on `service` starting shortly. */
  record(stationId: string, service: string, startInMs: number, durationMs: number): string;
  /** Active engine alarms (optionally of one kind / station). */
  alarms(filter?: { kind?: AlarmKind; station?: string }): AlarmRecord[];
  /** Every transition seen since the rig started. */
  transitions: { type: string; kind: AlarmKind; station: string | null; at: number; alarm: AlarmRecord }[];
}

export async function startTechnicianRig(
  t: Test,
  opts: {
    stations: { id: string; county: string; lat?: number; lon?: number }[];
    calendar?: SunOutageCalendar;
    /** Overrides of the headend's short timing profile. */
    timing?: Partial<TimingProfile>;
  },
): Promise<TechnicianRig> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-tech-'));
  const mqttPort = await freeTcpPort();
  const config = HeadendConfigSchema.parse({
    dataDir,
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: mqttPort },
    timingBase: 'short',
    timing: opts.timing ?? {},
    logLevel: 'silent',
  });
  const headend = await startHeadend(config, {
    logger: silentLogger(),
    api: { users: { scrypt: TEST_SCRYPT }, sseHeartbeatMs: 1000 },
    ...(opts.calendar ? { alarms: { calendar: opts.calendar } } : {}),
  });
  t.teardown(async () => {
    await headend.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const { store, controlPlane: cp } = headend;
  store.lineup.replace(sampleLineup());
  cp.lineupChanged();
  const secrets: Record<string, string> = {};
  for (const s of opts.stations) {
    const r = provisionStation(
      { store, iterations: 100, headendUsername: config.headendUser.username, actor: 'test:rig' },
      { id: s.id, name: s.id, county: s.county, ...(s.lat !== undefined ? { lat: s.lat, lon: s.lon } : {}) },
    );
    secrets[s.id] = r.secret;
  }
  cp.stationsChanged('test:rig');
  const users = createUserStore(store.db, { scrypt: TEST_SCRYPT });
  await seedUsers(users.users, {
    password: PASSWORD,
    names: { admin: 'admin', 'control-room': 'control', technician: 'tech' },
    operators: opts.stations.map((s) => ({ id: `op-${s.id}`, stations: [s.id] })),
  });
  const transitions: TechnicianRig['transitions'] = [];
  headend.technician.alarms.service.onTransition((tr) =>
    transitions.push({
      type: tr.type,
      kind: tr.alarm.kind,
      station: tr.alarm.station,
      at: tr.at,
      alarm: tr.alarm,
    }),
  );
  const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;

  return {
    headend,
    url: headend.httpUrl,
    brokerUrl,
    secrets,
    transitions,
    as: (user) => new ApiClient(headend.httpUrl).login(user),
    async station(id, o = {}) {
      const dir = await tempDir(t, `tech-${id}-`);
      const rx = await startSimReceiver(t);
      const config = agentConfig({
        dir,
        brokerUrl,
        port: rx.port,
        streamUrl: o.streamUrl ?? rx.streamUrl,
        stationId: id,
        extra: { broker: { url: brokerUrl, password: secrets[id] ?? '' }, logLevel: 'info' },
      });
      const logs = new LogRing(2000);
      const dest = createWriteStream(path.join(dir, 'agent.log'), { flags: 'a' });
      const logger = createLogger({ level: 'info', name: 'ruralsat-agent', destination: dest, ring: logs });
      const agent = await startAgent(config, {
        clock: systemClock(),
        logger,
        spawn,
        logs,
        controlSocket: false,
        ...(o.uplink ? { mqttConnect: o.uplink.connect } : {}),
      });
      t.teardown(async () => {
        await agent.stop();
        dest.end();
      });
      await until(() => cp.presence.get(id)?.connection === 'online', `${id} online`, 20_000);
      return { id, agent, rx, logs, dir };
    },
    tuneConference(stationId, service = 'cctv1', minutes = 30) {
      const start = Date.now() + 1000;
      const saved = cp.scheduling.create(
        {
          kind: 'conference',
          title: `会议 ${stationId}`,
          service,
          preRollMs: 0,
          when: { type: 'once', start: iso(start), end: iso(start + minutes * 60_000) },
          target: { type: 'station', stationId },
        },
        'test:rig',
      );
      return saved.entry.id;
    },
    record(stationId, service, startInMs, durationMs) {
      const start = Math.ceil((Date.now() + startInMs) / 1000) * 1000;
      const saved = cp.scheduling.create(
        {
          kind: 'recording',
          title: `录像 ${service}`,
          service,
          padBeforeMs: 0,
          padAfterMs: 0,
          when: { type: 'once', start: iso(start), end: iso(start + durationMs) },
          target: { type: 'station', stationId },
        },
        'test:rig',
      );
      return saved.entry.id;
    },
    alarms: (filter = {}) => headend.technician.alarms.service.engine.active(filter),
  };
}

/** Waits until `kind` is raised at `station`; returns the alarm and how long it took since `t0`. */
export async function raised(
  rig: TechnicianRig,
  station: string,
  kind: AlarmKind,
  t0: number,
  timeoutMs = 30_000,
) {
  const a = await until(
    () => rig.alarms({ station, kind })[0],
    `${kind} raised at ${station}`,
    timeoutMs,
    20,
  );
  return { alarm: a, ms: Date.now() - t0 };
}

/** Waits until no `kind` is active at `station`; returns how long it took since `t0`. */
export async function cleared(
  rig: TechnicianRig,
  station: string,
  kind: AlarmKind,
  t0: number,
  timeoutMs = 30_000,
) {
  await until(
    () => rig.alarms({ station, kind }).length === 0,
    `${kind} cleared at ${station}`,
    timeoutMs,
    20,
  );
  return Date.now() - t0;
}

/** Kinds raised at `station` since `from` (transitions), in order. */
export const raisedSince = (rig: TechnicianRig, station: string, from: number) =>
  rig.transitions
    .filter((x) => x.station === station && x.type === 'raised' && x.at >= from)
    .map((x) => x.kind);
