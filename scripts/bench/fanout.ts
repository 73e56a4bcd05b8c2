/**
 * Fan-out bench (DESIGN.md §8: "conference pushed → all 102 stations applied (loopback, embedded broker)
 * ≤ 2× the bare fan-out floor measured in the same run").
 *
 * Value: a conference targeted at all 102 stations is saved through the headend's scheduling service
 * (validate, compile 102 self-contained documents, issue `{epoch, n+1}` for each in ONE transaction with the
 * entry and its audit row), published through the outbox (retained QoS 1, PUBACK-tracked), applied by 102
 * simulated stations (scripts/load/sim-station.ts: protocol schema validation, version check, SHA-256 of the
 * bytes, retained state with the applied version), and seen applied by the headend (its presence and
 * schedule tracker) — the clock stops when the headend knows the LAST station applied the new version.
 *
 * Baseline (the floor), in the same run on a second embedded broker with the same auth and ACL: one
 * retained QoS 1 document of the same size per station, every station answering with a retained state of
 * the same size, the publisher waiting for all 102 answers. Runs alternate floor / headend; medians.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../headend/broker/embedded.js';
import { silentLogger } from '../../headend/log.js';
import { createControlPlane } from '../../headend/mqtt/control-plane.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { COUNTY_IDS } from '../../headend/store/groups.js';
import { openStore, type Store } from '../../headend/store/index.js';
import { shortTiming } from '../../protocol/timing.js';
import { topics } from '../../protocol/topics.js';
import { SimStation } from '../load/sim-station.js';
import type { Bench, BenchResult } from './bench.js';

const STATIONS = 102;
const RUNS = 7;
const HEADEND = { username: 'headend', password: 'bench-headend-password-0123456789' };
const T = topics();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function broker(store: Store): Promise<EmbeddedBroker> {
  return startEmbeddedBroker({
    credentialOf: (id) => store.stations.credentialOf(id),
    topicRoot: T.root,
    headendUser: HEADEND,
    logger: silentLogger(),
    listen: { host: '127.0.0.1', port: 0 },
  });
}

function provision(store: Store, prefix: string): { id: string; secret: string }[] {
  const out: { id: string; secret: string }[] = [];
  for (let i = 0; i < STATIONS; i++) {
    const id = `${prefix}-${String(i + 1).padStart(3, '0')}`;
    const county = COUNTY_IDS[i % COUNTY_IDS.length] as string;
    const { secret } = provisionStation(
      { store, iterations: 100, headendUsername: HEADEND.username, actor: 'bench' },
      { id, name: id, county },
    );
    out.push({ id, secret });
  }
  return out;
}

function connect(url: string, id: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: id,
      username: id,
      password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
    });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** The floor: bare stations answering every document; returns one run's time in ms. */
async function floorSetup(docBytes: number, stateBytes: number) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-floor-'));
  const store = openStore(join(dir, 'floor.db'));
  const stations = provision(store, 'floor');
  const b = await broker(store);
  const answer = Buffer.alloc(stateBytes, 0x20);
  const clients = await Promise.all(
    stations.map(async (s) => {
      const c = await connect(b.url, s.id, s.secret);
      c.on('message', () => c.publish(T.state(s.id), answer, { qos: 1, retain: true }));
      await c.subscribeAsync(T.schedule(s.id), { qos: 1 });
      return c;
    }),
  );
  const pub = await connect(b.url, HEADEND.username, HEADEND.password);
  await pub.subscribeAsync(T.allStates(), { qos: 1 });
  let waiting: { left: Set<string>; done: () => void } | null = null;
  pub.on('message', (topic) => {
    if (!waiting) return;
    const id = topic.split('/')[3] ?? '';
    if (waiting?.left.delete(id) && waiting.left.size === 0) waiting.done();
  });
  let n = 0;
  return {
    async run(): Promise<number> {
      n++;
      const doc = Buffer.alloc(docBytes, 0x20);
      doc.write(`{"n":${n}}`);
      const done = new Promise<void>((resolve) => {
        waiting = { left: new Set(stations.map((s) => s.id)), done: resolve };
      });
      const t0 = performance.now();
      await Promise.all(
        stations.map((s) => pub.publishAsync(T.schedule(s.id), doc, { qos: 1, retain: true })),
      );
      await done;
      const ms = performance.now() - t0;
      waiting = null;
      return ms;
    },
    async close() {
      await Promise.all([...clients, pub].map((c) => c.endAsync(true)));
      await b.close();
      store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The headend path: control plane + 102 simulated stations. */
async function headendSetup() {
  const dir = await mkdtemp(join(tmpdir(), 'bench-headend-'));
  const store = openStore(join(dir, 'headend.db'));
  const stations = provision(store, 'st');
  store.lineup.replace({
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
  const b = await broker(store);
  const cp = createControlPlane({
    store,
    logger: silentLogger(),
    timing: shortTiming,
    broker: { url: b.url, ...HEADEND },
    topicRoot: T.root,
    timeZone: 'Asia/Shanghai',
    version: 'bench',
  });
  cp.start();
  if (!(await cp.waitUntilUp(5000))) throw new Error('control plane did not connect');
  const sims = stations.map((s) => new SimStation({ id: s.id, password: s.secret, url: b.url }));
  await Promise.all(sims.map((s) => s.connect()));
  await Promise.all(sims.map((s) => s.waitApplied({ epoch: 1, n: 1 })));
  const ids = new Set(stations.map((s) => s.id));
  let waiting: { n: number; left: Set<string>; done: () => void } | null = null;
  cp.presence.onChange((p) => {
    const s = p.birth?.schedule;
    if (!waiting || !s || 'rejected' in s || s.version.n < waiting.n) return;
    if (waiting.left.delete(p.stationId) && waiting.left.size === 0) waiting.done();
  });
  const start = Date.now() + 86_400_000;
  const entry = cp.scheduling.create(
    {
      kind: 'conference',
      title: '全市乡镇视频会议',
      service: 'cctv1',
      when: {
        type: 'once',
        start: new Date(start).toISOString(),
        end: new Date(start + 3_600_000).toISOString(),
      },
      target: { type: 'all' },
    },
    'bench',
  );
  await Promise.all(sims.map((s) => s.waitApplied({ epoch: 1, n: 2 })));
  let minutes = 60;
  const saveMs: number[] = [];
  return {
    saveMs,
    docBytes: store.schedules.latest('st-001')?.doc.length ?? 1000,
    stateBytes: JSON.stringify(sims[0]?.birth()).length,
    async run(): Promise<number> {
      minutes += 1;
      const n = (store.schedules.latest('st-001')?.version.n ?? 0) + 1;
      const done = new Promise<void>((resolve) => {
        waiting = { n, left: new Set(ids), done: resolve };
      });
      const t0 = performance.now();
      const saved = cp.scheduling.update(
        entry.entry.id,
        {
          when: {
            type: 'once',
            start: new Date(start).toISOString(),
            end: new Date(start + minutes * 60_000).toISOString(),
          },
        },
        'bench',
      );
      saveMs.push(performance.now() - t0);
      if (saved.issued.length !== STATIONS) throw new Error(`issued ${saved.issued.length} documents`);
      await done;
      const ms = performance.now() - t0;
      waiting = null;
      return ms;
    },
    async close() {
      await Promise.all(sims.map((s) => s.stop(true)));
      await cp.stop();
      await b.close();
      store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const fanoutBench: Bench = {
  name: 'fan-out: entry saved → 102 stations applied',
  unit: 'ms',
  budget: { maxRatio: 2 },
  baselineLabel: 'bare retained QoS 1 fan-out, 102 answers',
  async run(): Promise<BenchResult> {
    const headend = await headendSetup();
    const floor = await floorSetup(headend.docBytes, headend.stateBytes);
    try {
      await floor.run(); // warm-up
      await headend.run();
      const f: number[] = [];
      const h: number[] = [];
      const fCpu: number[] = [];
      const hCpu: number[] = [];
      const cpuOf = async (run: () => Promise<number>, into: number[], cpu: number[]) => {
        const c0 = process.cpuUsage();
        into.push(await run());
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      };
      // Between runs, let deferred work finish (bookkeeping batches, the alarm feed's coalescing window) so
      // neither side is measured while the other's tail runs.
      const settle = () => new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < RUNS; i++) {
        await settle();
        await cpuOf(floor.run, f, fCpu);
        await settle();
        await cpuOf(headend.run, h, hCpu);
      }
      return {
        value: median(h),
        baseline: median(f),
        note: `${STATIONS} stations, ${RUNS} runs each (alternating), document ${headend.docBytes} B; save+commit of the 102 documents ${median(headend.saveMs.slice(-RUNS)).toFixed(1)} ms (median); process CPU per run ${median(hCpu).toFixed(0)} ms vs ${median(fCpu).toFixed(0)} ms; headend min/max ${Math.min(...h).toFixed(1)}/${Math.max(...h).toFixed(1)} ms, floor ${Math.min(...f).toFixed(1)}/${Math.max(...f).toFixed(1)} ms`,
      };
    } finally {
      await floor.close();
      await headend.close();
    }
  },
};
