/**
 * A real headend for the scheduling / ingest / end-to-end tests: `startHeadend` (headend/main.ts, the
 * composition root) on a temp data dir with the embedded broker on a fixed free port (so a restart keeps
 * the stations' broker URL), HTTP on port 0, the short timing profile, the sample line-up, and stations
 * provisioned through the real provisioning path. Simulated stations (scripts/load/sim-station.ts) connect
 * with the secrets provisioning returned. Everything started is stopped on teardown.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { HeadendConfigSchema } from '../../headend/config.js';
import { silentLogger } from '../../headend/log.js';
import { type RunningHeadend, startHeadend } from '../../headend/main.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import type { LineupInput } from '../../headend/store/lineup.js';
import { type ServiceTuning, transponderKey } from '../../protocol/messages/tuning.js';
import { SimStation, type SimStationOptions } from '../../scripts/load/sim-station.js';
import { freeTcpPort } from './net.js';

/** The sample line-up fixture (tests/fixtures/lineup) in the store's import form. */
export function sampleLineup(): LineupInput {
  const file = new URL('../fixtures/lineup/sample-lineup.json', import.meta.url);
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { services: ServiceTuning[] };
  const transponders = new Map<string, ServiceTuning['transponder']>();
  for (const s of raw.services) transponders.set(transponderKey(s.transponder).toLowerCase(), s.transponder);
  return {
    transponders: [...transponders].map(([id, tuning]) => ({ id, tuning })),
    services: raw.services.map((s) => ({
      key: s.key,
      name: s.name,
      serviceId: s.serviceId,
      transponderId: transponderKey(s.transponder).toLowerCase(),
    })),
  };
}

export interface FleetStation {
  id: string;
  county: string;
  secret: string;
}

export interface FleetHeadend {
  running: RunningHeadend;
  dataDir: string;
  mqttPort: number;
  brokerUrl: string;
  stations: FleetStation[];
  /** Stops the headend (not the simulated stations). */
  stop(): Promise<void>;
  /** Starts the headend again on the same data dir and broker port. */
  restart(): Promise<RunningHeadend>;
  /** A simulated station for a provisioned one, connected; stopped on teardown. */
  sim(id: string, opts?: Partial<Omit<SimStationOptions, 'id' | 'password' | 'url'>>): Promise<SimStation>;
}

/** Starts a headend; `stations` are provisioned on first start (default: none). */
export async function startFleetHeadend(
  t: Test,
  opts: { stations?: { id: string; county: string }[]; dataDir?: string; lineup?: boolean } = {},
): Promise<FleetHeadend> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-headend-'));
  const mqttPort = await freeTcpPort();
  const config = HeadendConfigSchema.parse({
    dataDir,
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: mqttPort },
    timingBase: 'short',
    logLevel: 'silent',
  });
  const sims: SimStation[] = [];
  let running: RunningHeadend | null = await startHeadend(config, { logger: silentLogger() });
  let stopped = false;
  const fleet: FleetHeadend = {
    running,
    dataDir,
    mqttPort,
    brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
    stations: [],
    async stop() {
      const r = running;
      running = null;
      await r?.stop();
    },
    async restart() {
      if (running) await fleet.stop();
      running = await startHeadend(config, { logger: silentLogger() });
      fleet.running = running;
      return running;
    },
    async sim(id, simOpts = {}) {
      const st = fleet.stations.find((s) => s.id === id);
      if (!st) throw new Error(`station ${id} was not provisioned`);
      const sim = new SimStation({ id, password: st.secret, url: fleet.brokerUrl, ...simOpts });
      sims.push(sim);
      await sim.connect();
      return sim;
    },
  };
  t.teardown(async () => {
    if (stopped) return;
    stopped = true;
    for (const s of sims) await s.stop(true).catch(() => undefined);
    await fleet.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const store = running.store;
  if (opts.lineup !== false) {
    store.lineup.replace(sampleLineup());
    running.controlPlane.lineupChanged();
  }
  for (const s of opts.stations ?? []) {
    const { secret } = provisionStation(
      { store, iterations: 100, headendUsername: config.headendUser.username, actor: 'test' },
      { id: s.id, name: s.id, county: s.county },
    );
    fleet.stations.push({ ...s, secret });
  }
  if ((opts.stations ?? []).length > 0) running.controlPlane.stationsChanged('test');
  return fleet;
}
