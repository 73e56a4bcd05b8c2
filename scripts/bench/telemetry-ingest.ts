/**
 * Telemetry ingest at scale (DESIGN.md §8: "headend ingest of 10 000 stations' telemetry at 30 s ≤ 20 % of
 * one core").
 *
 * Value: CPU time of the headend process — the real composition (headend/main.ts `startHeadend`: control
 * plane, telemetry roll-ups, alarm engine fed every sample, presence, schedule tracker, clock exchanges,
 * HTTP, metrics, housekeeping), logging at `info` to a file, against an external Mosquitto — over a 60 s
 * real-time window in which 10 000 simulated stations (telemetry-station.ts, in one station process) each
 * publish one QoS 0 telemetry sample every 30 s, phases spread evenly (≈ 333 samples/s), as a share of one
 * core. The stations are fully present: births, schedule documents applied, clock exchanges answered.
 *
 * Baseline, in the same run, same broker, same station process, same traffic: a bare MQTT subscriber to
 * `st/+/telemetry` in this process that JSON-parses every message, over a window of the same length, before
 * the headend starts. The note adds the headend's share with the telemetry stopped (its fixed cost for
 * 10 000 connected stations: presence, alarm and attendance ticks), so the ingest's own share is visible.
 *
 * Provisioning uses the headend's code with `credentials.iterations` = 100 (the lowest the config accepts)
 * instead of 10 000: 10 000 PBKDF2 hashes here and 10 000 verifications in Mosquitto at ~5 ms each would
 * cost minutes that measure nothing about ingest.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { databasePath, HeadendConfigSchema } from '../../headend/config.js';
import { createLogger } from '../../headend/log.js';
import { type RunningHeadend, startHeadend } from '../../headend/main.js';
import { hashSecret } from '../../headend/provisioning/password-hash.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { COUNTY_IDS } from '../../headend/store/groups.js';
import { openStore } from '../../headend/store/index.js';
import { topics } from '../../protocol/topics.js';
import type { Bench, BenchResult } from './bench.js';
import { startBenchMosquitto } from './mosquitto-process.js';
import { spawnStationHost } from './station-host-ipc.js';

const STATIONS = 10_000;
const PERIOD_MS = 30_000;
const WINDOW_MS = 60_000;
const IDLE_WINDOW_MS = 20_000;
/**
 * The window starts this long after the headend started: the per-minute roll-up writes a minute 60 + 30 s
 * after it closed (headend/fleet/telemetry.ts, flushed every 15 s), so only from here on does a 60 s window
 * hold a full minute's rows (≈ 10 per station) — the steady state, not the start burst.
 */
const STEADY_AFTER_START_MS = 120_000;
const ITERATIONS = 100;
const T = topics();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secret = () => randomBytes(18).toString('base64url');

/** 49 services on 7 C-band carriers (DOMAIN.md §1–2: a sample line-up, not verified data). */
function lineup() {
  const transponders = Array.from({ length: 7 }, (_, k) => ({
    id: `t${3720 + 40 * k}h`,
    tuning: {
      frequencyMHz: 3720 + 40 * k,
      polarisation: 'H' as const,
      symbolRateKsps: 27500,
      system: 'DVB-S' as const,
      modulation: 'QPSK' as const,
      fec: '3/4' as const,
      lnbLoMHz: 5150,
    },
  }));
  const services = Array.from({ length: 49 }, (_, i) => ({
    key: `svc${String(i + 1).padStart(2, '0')}`,
    name: `Service ${i + 1}`,
    serviceId: 100 + i,
    transponderId: transponders[i % 7]?.id ?? 't3720h',
  }));
  return { transponders, services };
}

/** CPU time of this process over `ms` of wall time, as a percentage of one core. */
async function cpuShare(ms: number): Promise<{ pct: number; cpuMs: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const c = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  const cpuMs = (c.user + c.system) / 1000;
  return { pct: (100 * cpuMs) / wallMs, cpuMs, wallMs };
}

/** Polls `ok` every 500 ms until it holds, or throws what `why` says after `timeoutMs`. */
async function until(ok: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(why());
    await sleep(500);
  }
}

export const telemetryIngestBench: Bench = {
  name: 'telemetry ingest: 10 000 stations at 30 s',
  unit: '% of a core',
  budget: { max: 20 },
  baselineLabel: 'bare subscriber, JSON.parse',
  async run(): Promise<BenchResult> {
    const cleanups: (() => Promise<void> | void)[] = [];
    const cleanup = async () => {
      for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    };
    try {
      const dataDir = await mkdtemp(join(tmpdir(), 'bench-ingest-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      // Its own temp dir: handed to the mosquitto user, who cannot enter `dataDir` (mode 0700, ours).
      const mosqDir = await mkdtemp(join(tmpdir(), 'bench-mosq-'));
      cleanups.push(() => rm(mosqDir, { recursive: true, force: true }));
      const headendUser = { username: 'headend', password: secret() };
      // The registry, as `ruralsat-headend station add` would fill it (every third station has 2 receivers).
      const store = openStore(databasePath({ dataDir }));
      store.lineup.replace(lineup());
      const t0 = performance.now();
      const stations = store.transaction(() =>
        Array.from({ length: STATIONS }, (_, i) => {
          const id = `tm-${String(i + 1).padStart(5, '0')}`;
          const receivers = [{ id: 'rx1', address: '/dev/ttyUSB0' }];
          if (i % 3 === 0) receivers.push({ id: 'rx2', address: '/dev/ttyUSB1' });
          const r = provisionStation(
            { store, iterations: ITERATIONS, headendUsername: headendUser.username, actor: 'bench' },
            { id, name: id, county: COUNTY_IDS[i % COUNTY_IDS.length] as string, receivers },
          );
          return { id, secret: r.secret };
        }),
      );
      const provisionMs = performance.now() - t0;
      const credentials = store.stations.activeCredentials();
      const services = store.lineup.snapshot().services.map((s) => s.key);
      store.close();

      const mosq = await startBenchMosquitto({
        dir: mosqDir,
        topicRoot: T.root,
        headend: {
          username: headendUser.username,
          hash: hashSecret(headendUser.password, { iterations: ITERATIONS }),
        },
        stations: credentials,
      });
      cleanups.push(() => mosq.stop());
      const config = HeadendConfigSchema.parse({
        dataDir,
        http: { host: '127.0.0.1', port: 0 },
        broker: mosq.url,
        headendUser,
        credentials: { iterations: ITERATIONS },
        logLevel: 'info',
      });

      const host = spawnStationHost();
      cleanups.push(() => host.stop());
      const t1 = performance.now();
      await host.telemetryStations({ url: mosq.url, root: T.root, stations, services, concurrency: 200 });
      const connectMs = performance.now() - t1;
      await host.telemetry(true, PERIOD_MS);

      // Baseline: the same messages received and JSON-parsed by a bare subscriber (as the headend's user,
      // before the headend connects with it).
      const bare = await mqtt.connectAsync(mosq.url, {
        clientId: headendUser.username,
        ...headendUser,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
      });
      let bareMessages = 0;
      let bareFields = 0;
      bare.on('message', (_topic, payload) => {
        bareMessages++;
        bareFields += Object.keys(JSON.parse(payload.toString('utf8')) as object).length;
      });
      await bare.subscribeAsync(T.allTelemetry(), { qos: 1 });
      await sleep(5000);
      const b0 = bareMessages;
      const m0 = mosq.cpuMs();
      const base = await cpuShare(WINDOW_MS);
      const baseMosqMs = mosq.cpuMs() - m0;
      const baseSamples = bareMessages - b0;
      await bare.endAsync();
      if (bareFields === 0) throw new Error('the bare subscriber parsed nothing');

      // The headend, started on the same broker with the stations already connected.
      const logFile = join(dataDir, 'headend.log');
      const logger = createLogger({
        level: 'info',
        destination: pino.destination({ dest: logFile, sync: false }),
      });
      const t2 = performance.now();
      const running: RunningHeadend = await startHeadend(config, { logger });
      cleanups.push(() => running.stop());
      const cp = running.controlPlane;
      const ids = stations.map((s) => s.id);
      const logTail = () => readFileSync(logFile, 'utf8').split('\n').slice(-5).join('\n');
      await until(
        () => cp.mqtt.connected && ids.every((id) => cp.tracker.status(id).inSync),
        240_000,
        () =>
          `${ids.filter((id) => !cp.tracker.status(id).inSync).length} stations not in sync after 240 s; ${logTail()}`,
      );
      await cp.publisher.idle();
      await until(
        () => cp.rpc.stats().pending === 0,
        60_000,
        () => `clock exchanges pending: ${logTail()}`,
      );
      const startMs = performance.now() - t2;
      await sleep(Math.max(10_000, STEADY_AFTER_START_MS - (performance.now() - t2)));

      const s0 = cp.telemetry.stats();
      const m1 = mosq.cpuMs();
      const ingest = await cpuShare(WINDOW_MS);
      const ingestMosqMs = mosq.cpuMs() - m1;
      const s1 = cp.telemetry.stats();
      const samples = s1.samples - s0.samples;
      if (s1.invalid > 0 || s1.unknownStation > 0)
        throw new Error(
          `headend dropped samples: ${s1.invalid} invalid, ${s1.unknownStation} unknown station`,
        );
      if (samples < 0.9 * baseSamples)
        throw new Error(`headend ingested ${samples} samples, bare ${baseSamples}`);

      await host.telemetry(false, PERIOD_MS);
      await sleep(5000);
      const idle = await cpuShare(IDLE_WINDOW_MS);
      const hs = await host.stats();
      const rows = s1.written - s0.written;
      return {
        value: ingest.pct,
        baseline: base.pct,
        note:
          `${STATIONS} stations (${hs.connected.telemetry} connected in 1 station process, RSS ` +
          `${(hs.rssBytes / 2 ** 20).toFixed(0)} MB), one sample each per ${PERIOD_MS / 1000} s: ${samples} samples ` +
          `ingested in ${(ingest.wallMs / 1000).toFixed(0)} s (${((samples * 1000) / ingest.wallMs).toFixed(0)}/s), ` +
          `bare subscriber ${baseSamples}; headend CPU ${ingest.cpuMs.toFixed(0)} ms vs bare ${base.cpuMs.toFixed(0)} ms; ` +
          `headend with the telemetry stopped ${idle.pct.toFixed(1)} % (fixed cost of 10 000 connected stations, plus the roll-up still writing the last minutes); ` +
          `Mosquitto ${((100 * ingestMosqMs) / ingest.wallMs).toFixed(1)} % / ${((100 * baseMosqMs) / base.wallMs).toFixed(1)} %; ` +
          `${rows} minute rows written in the window; provisioning ${(provisionMs / 1000).toFixed(1)} s (PBKDF2 ${ITERATIONS} ` +
          `iterations), stations connected in ${(connectMs / 1000).toFixed(1)} s, headend start to all in sync ` +
          `${(startMs / 1000).toFixed(1)} s`,
      };
    } finally {
      await cleanup();
    }
  },
};
