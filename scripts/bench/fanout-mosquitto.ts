/**
 * Fan-out at scale (DESIGN.md §8: "same for 5 000 simulated stations against Mosquitto ≤ 2× the floor in
 * the same run (floor ≈ 0.7 s here)").
 *
 * Value: the control room extends a conference pushed to all 5 000 stations by a minute, through the real
 * headend process (headend/main.ts `startHeadend`: conference service, scheduling, outbox publisher,
 * presence, schedule tracker, alarm wiring, attendance, HTTP with its live stream — everything a station's
 * report passes through), against Mosquitto: the change and 5 000 self-contained documents `{epoch, n+1}`
 * commit in ONE transaction, are published retained QoS 1 (PUBACK-tracked), applied by 5 000 simulated
 * stations (scripts/load/sim-station.ts: schema validation, version check, SHA-256, retained state with the
 * applied version) and seen applied by the headend's presence: the clock stops when the headend knows the
 * LAST station applied.
 *
 * Baseline (the floor), in the same run, against the SAME Mosquitto, from the SAME station processes: one
 * retained QoS 1 document of the same size per station, every station answering with a retained state of
 * the same size, the publisher (in the bench process, where the headend runs) waiting for all 5 000
 * answers. The floor's stations live under another topic root so none of their traffic reaches the
 * headend's subscriptions (mosquitto-process.ts `extra`); the headend stays up, idle, during floor runs
 * (its 1 s ticks over 5 000 stations are the only work it does then). Runs alternate floor / headend;
 * medians.
 *
 * Mosquitto is configured from the headend's generated files (headend/broker/mosquitto-files.ts) for a
 * 5 000-station fleet: `max_queued_messages` 100 000 (the default 1 000 loses the headend's replies,
 * DESIGN.md §3). Provisioning uses the headend's own code with `credentials.iterations` = 100 instead of
 * 10 000 (the lowest the config accepts): 10 000 stations × ~5 ms of PBKDF2 per hash, and again per CONNECT
 * in Mosquitto, would cost minutes that measure nothing about fan-out.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { databasePath, HeadendConfigSchema } from '../../headend/config.js';
import { createLogger } from '../../headend/log.js';
import { type RunningHeadend, startHeadend } from '../../headend/main.js';
import type { ControlPlane } from '../../headend/mqtt/control-plane.js';
import { hashSecret } from '../../headend/provisioning/password-hash.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { COUNTY_IDS } from '../../headend/store/groups.js';
import { openStore, type Store } from '../../headend/store/index.js';
import { topics } from '../../protocol/topics.js';
import type { Bench, BenchResult } from './bench.js';
import { type BenchMosquitto, startBenchMosquitto } from './mosquitto-process.js';
import { type StationHost, spawnStationHost } from './station-host-ipc.js';

const STATIONS = 5000;
const RUNS = 5;
/**
 * Station processes; each hosts an equal share of BOTH fleets (the headend's and the floor's), so both
 * sides run on the same topology. One: with the headend and Mosquitto already on the 2 cores, a second
 * station process made both sides slower here (floor 0.77–0.82 s vs 0.43 s, headend 2.4–2.5 s vs 1.1 s).
 */
const HOST_PROCESSES = 1;
const ITERATIONS = 100;
const T = topics();
const FLOOR_ROOT = 'ruralsat-floor/v1';
const F = topics(FLOOR_ROOT);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secret = () => randomBytes(18).toString('base64url');

/** Provisions `STATIONS` stations with the headend's own code (one transaction for the batch). */
function provision(store: Store, prefix: string, headendUsername: string) {
  return store.transaction(() =>
    Array.from({ length: STATIONS }, (_, i) => {
      const id = `${prefix}-${String(i + 1).padStart(5, '0')}`;
      const county = COUNTY_IDS[i % COUNTY_IDS.length] as string;
      const r = provisionStation(
        { store, iterations: ITERATIONS, headendUsername, actor: 'bench' },
        { id, name: id, county },
      );
      return { id, secret: r.secret };
    }),
  );
}

function connect(url: string, username: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: username,
      username,
      password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
    });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** Resolves when the headend's presence shows every station applied version `n` or newer. */
function allApplied(cp: ControlPlane, ids: readonly string[], n: number, timeoutMs: number): Promise<void> {
  const left = new Set(ids);
  const applied = (id: string) => {
    const s = cp.presence.get(id)?.birth?.schedule;
    return !!s && !('rejected' in s) && s.version.n >= n;
  };
  for (const id of ids) if (applied(id)) left.delete(id);
  if (left.size === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(`${left.size} of ${ids.length} stations had not applied n=${n} after ${timeoutMs} ms`),
      );
    }, timeoutMs);
    const off = cp.presence.onChange((p) => {
      if (!left.has(p.stationId) || !applied(p.stationId)) return;
      left.delete(p.stationId);
      if (left.size > 0) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

const split = <T>(xs: readonly T[], parts: number): T[][] =>
  Array.from({ length: parts }, (_, k) => xs.filter((_, i) => i % parts === k));

export const fanoutMosquittoBench: Bench = {
  name: 'fan-out: conference extended → 5 000 stations applied (Mosquitto)',
  unit: 'ms',
  budget: { maxRatio: 2 },
  baselineLabel: 'bare retained QoS 1 fan-out, 5 000 answers',
  async run(): Promise<BenchResult> {
    const dir = await mkdtemp(join(tmpdir(), 'bench-fanout-mosq-'));
    const cleanups: (() => Promise<void> | void)[] = [() => rm(dir, { recursive: true, force: true })];
    const cleanup = async () => {
      for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    };
    try {
      const headendUser = { username: 'headend', password: secret() };
      const floorUser = { username: 'bench-floor', password: secret() };
      const dataDir = join(dir, 'headend');
      await mkdir(dataDir);
      const seed = openStore(databasePath({ dataDir }));
      cleanups.push(() => {
        if (seed.db.open) seed.close();
      });
      const floorStore = openStore(':memory:');
      cleanups.push(() => floorStore.close());
      const t0 = performance.now();
      const stations = provision(seed, 'st', headendUser.username);
      const floorStations = provision(floorStore, 'fl', floorUser.username);
      const provisionMs = performance.now() - t0;
      // Its own temp dir: handed to the mosquitto user, who cannot enter `dir` (mode 0700, ours).
      const mosqDir = await mkdtemp(join(tmpdir(), 'bench-mosq-'));
      cleanups.push(() => rm(mosqDir, { recursive: true, force: true }));
      const mosq: BenchMosquitto = await startBenchMosquitto({
        dir: mosqDir,
        topicRoot: T.root,
        headend: {
          username: headendUser.username,
          hash: hashSecret(headendUser.password, { iterations: ITERATIONS }),
        },
        stations: seed.stations.activeCredentials(),
        extra: {
          root: FLOOR_ROOT,
          publisher: {
            username: floorUser.username,
            hash: hashSecret(floorUser.password, { iterations: ITERATIONS }),
          },
          stations: floorStore.stations.activeCredentials(),
        },
      });
      cleanups.push(() => mosq.stop());

      seed.lineup.replace({
        transponders: [
          {
            id: 't3840h',
            tuning: {
              frequencyMHz: 3840,
              polarisation: 'H',
              symbolRateKsps: 27500,
              system: 'DVB-S',
              modulation: 'QPSK',
              fec: '3/4',
              lnbLoMHz: 5150,
            },
          },
        ],
        services: [{ key: 'cctv1', name: 'CCTV-1', serviceId: 101, transponderId: 't3840h' }],
      });
      seed.close();
      const running: RunningHeadend = await startHeadend(
        HeadendConfigSchema.parse({
          dataDir,
          http: { host: '127.0.0.1', port: 0 },
          broker: mosq.url,
          headendUser,
          credentials: { iterations: ITERATIONS },
          logLevel: 'info',
        }),
        // Logging as in production (info, JSON lines), to a file instead of the journal.
        {
          logger: createLogger({
            level: 'info',
            destination: pino.destination({ dest: join(dir, 'headend.log'), sync: false }),
          }),
        },
      );
      cleanups.push(() => running.stop());
      const store = running.store;
      const cp = running.controlPlane;
      if (!(await cp.waitUntilUp(10_000))) throw new Error(`the headend did not connect: ${mosq.log()}`);

      const hosts: StationHost[] = Array.from({ length: HOST_PROCESSES }, () => spawnStationHost());
      cleanups.push(() => Promise.all(hosts.map((h) => h.stop())).then(() => undefined));
      const ids = stations.map((s) => s.id);
      const t1 = performance.now();
      const simShares = split(stations, HOST_PROCESSES);
      const [first] = await Promise.all(
        hosts.map((h, k) => h.sim({ url: mosq.url, root: T.root, stations: simShares[k] ?? [] })),
      );
      await allApplied(cp, ids, 1, 120_000);
      const connectMs = performance.now() - t1;

      const start = Math.ceil((Date.now() + 86_400_000) / 60_000) * 60_000;
      const conference = cp.conferences.create(
        {
          title: '全市乡镇视频会议',
          organiser: '市委办公室',
          service: 'cctv1',
          start: new Date(start).toISOString(),
          end: new Date(start + 3_600_000).toISOString(),
          target: { type: 'all' },
        },
        'bench',
      ).conference;
      await allApplied(cp, ids, 2, 120_000);
      const docBytes = store.schedules.latest(ids[0] ?? '')?.doc.length ?? 1000;
      const stateBytes = first?.stateBytes ?? 600;

      const floorShares = split(floorStations, HOST_PROCESSES);
      await Promise.all(
        hosts.map((h, k) =>
          h.bare({
            url: mosq.url,
            root: FLOOR_ROOT,
            stations: floorShares[k] ?? [],
            answerBytes: stateBytes,
          }),
        ),
      );
      const pub = await connect(mosq.url, floorUser.username, floorUser.password);
      cleanups.push(() => pub.endAsync(true));
      await pub.subscribeAsync(F.allStates(), { qos: 1 });
      let floorWait: { left: Set<string>; done: () => void } | null = null;
      pub.on('message', (topic) => {
        const w = floorWait;
        if (w?.left.delete(topic.split('/')[3] ?? '') && w.left.size === 0) w.done();
      });
      const floorIds = floorStations.map((s) => s.id);
      let floorN = 0;
      const floorRun = async (): Promise<number> => {
        floorN++;
        const doc = Buffer.alloc(docBytes, 0x20);
        doc.write(`{"n":${floorN}}`);
        const done = new Promise<void>((resolve) => {
          floorWait = { left: new Set(floorIds), done: resolve };
        });
        const t = performance.now();
        await Promise.all(
          floorIds.map((id) => pub.publishAsync(F.schedule(id), doc, { qos: 1, retain: true })),
        );
        await Promise.race([
          done,
          sleep(120_000).then(() => {
            throw new Error(`floor: ${floorWait?.left.size} answers missing after 120 s`);
          }),
        ]);
        floorWait = null;
        return performance.now() - t;
      };

      const saveMs: number[] = [];
      const headendRun = async (): Promise<number> => {
        const n = (store.schedules.latest(ids[0] ?? '')?.version.n ?? 0) + 1;
        const t = performance.now();
        const waiting = allApplied(cp, ids, n, 120_000);
        const saved = cp.conferences.extend(conference.id, { minutes: 1 }, 'bench');
        saveMs.push(performance.now() - t);
        if (saved.issued.length !== STATIONS) throw new Error(`issued ${saved.issued.length} documents`);
        await waiting;
        return performance.now() - t;
      };

      // One run's CPU in the three places it is spent: this process (headend or floor publisher), the
      // station processes, Mosquitto.
      const cpuRuns: { side: 'f' | 'h'; self: number; hosts: number; mosq: number }[] = [];
      const hostCpu = async () =>
        (await Promise.all(hosts.map((x) => x.stats()))).reduce((a, s) => a + s.cpuMs, 0);
      const measured = async (run: () => Promise<number>, into: number[], side: 'f' | 'h') => {
        const h0 = await hostCpu();
        const m0 = mosq.cpuMs();
        const c0 = process.cpuUsage();
        into.push(await run());
        const c = process.cpuUsage(c0);
        const m = mosq.cpuMs() - m0;
        cpuRuns.push({ side, self: (c.user + c.system) / 1000, hosts: (await hostCpu()) - h0, mosq: m });
      };
      // Deferred work (bookkeeping batches, presence history rows) finishes between runs.
      const settle = () => sleep(2000);
      await floorRun(); // warm-up, both sides
      await settle();
      await headendRun();
      const f: number[] = [];
      const h: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        await settle();
        await measured(floorRun, f, 'f');
        await settle();
        await measured(headendRun, h, 'h');
      }
      const cpuMed = (side: 'f' | 'h', k: 'self' | 'hosts' | 'mosq') =>
        median(cpuRuns.filter((r) => r.side === side).map((r) => r[k])).toFixed(0);
      const hs = await Promise.all(hosts.map((x) => x.stats()));
      return {
        value: median(h),
        baseline: median(f),
        note:
          `${STATIONS} stations (+${STATIONS} floor stations under ${FLOOR_ROOT}) in ${HOST_PROCESSES} station ` +
          `process(es), Mosquitto max_queued_messages ${mosq.maxQueued}, ${RUNS} runs each alternating, document ` +
          `${docBytes} B, state ${stateBytes} B; extend+commit of the ${STATIONS} documents ${median(saveMs.slice(-RUNS)).toFixed(0)} ms (median); ` +
          `CPU ms per run headend/floor — headend process ${cpuMed('h', 'self')}/${cpuMed('f', 'self')}, station processes ` +
          `${cpuMed('h', 'hosts')}/${cpuMed('f', 'hosts')}, Mosquitto ${cpuMed('h', 'mosq')}/${cpuMed('f', 'mosq')}; ` +
          `headend min/max ${Math.min(...h).toFixed(0)}/${Math.max(...h).toFixed(0)} ms, floor ${Math.min(...f).toFixed(0)}/${Math.max(...f).toFixed(0)} ms; ` +
          `provisioning ${(provisionMs / 1000).toFixed(1)} s (PBKDF2 ${ITERATIONS} iterations), connect+first apply ${(connectMs / 1000).toFixed(1)} s; ` +
          `station process RSS ${hs.map((x) => (x.rssBytes / 2 ** 20).toFixed(0)).join('+')} MB`,
      };
    } finally {
      await cleanup();
    }
  },
};
