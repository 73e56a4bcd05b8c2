/**
 * Entry of a station process for the scale benches (station-host-ipc.ts describes the messages and the
 * three kinds of station). Runs until told to stop, or until its parent goes away (closed IPC channel),
 * and then closes every connection it opened.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '../../protocol/topics.js';
import { SimStation } from '../load/sim-station.js';
import { type FromHost, type HostStats, ToHost } from './station-host-ipc.js';
import { type TelemetryCounters, TelemetryStation } from './telemetry-station.js';

const sims: SimStation[] = [];
const bares: MqttClient[] = [];
const tele: TelemetryStation[] = [];
const counters: TelemetryCounters = { sent: 0, rpcAnswered: 0 };
let bareAnswers = 0;
let ticker: NodeJS.Timeout | null = null;

/** Runs `fn` over `items` with at most `limit` at once (connecting thousands at once only queues SYNs). */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function bareStation(url: string, root: string, id: string, secret: string, answer: Buffer): Promise<void> {
  const t = topics(root);
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: id,
      username: id,
      password: secret,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    });
    c.on('error', () => undefined);
    c.on('message', () => {
      bareAnswers++;
      c.publish(t.state(id), answer, { qos: 1, retain: true }, () => undefined);
    });
    c.once('connect', () => {
      bares.push(c);
      c.subscribeAsync(t.schedule(id), { qos: 1 }).then(() => resolve(), reject);
    });
    c.once('error', reject);
  });
}

/**
 * Telemetry pacing: station k of N sends at `start + (k / N + m) × period` for m = 0, 1, … — one sample per
 * station per period, evenly spread, so the headend sees a steady N / period messages per second.
 */
function startTelemetry(periodMs: number): void {
  stopTelemetry();
  const n = tele.length;
  if (n === 0) return;
  const start = Date.now();
  let sent = 0;
  ticker = setInterval(() => {
    const due = Math.floor(((Date.now() - start) / periodMs) * n);
    for (; sent < due; sent++) tele[sent % n]?.sendTelemetry();
  }, 10);
}

function stopTelemetry(): void {
  if (ticker) clearInterval(ticker);
  ticker = null;
}

function stats(): HostStats {
  const cpu = process.cpuUsage();
  return {
    pid: process.pid,
    rssBytes: process.memoryUsage().rss,
    cpuMs: (cpu.user + cpu.system) / 1000,
    connected: {
      sim: sims.filter((s) => s.connected).length,
      bare: bares.filter((c) => c.connected).length,
      telemetry: tele.filter((s) => s.connected).length,
    },
    telemetrySent: counters.sent,
    bareAnswers,
    rpcAnswered: counters.rpcAnswered,
  };
}

async function shutdown(): Promise<void> {
  stopTelemetry();
  for (const s of tele) s.stop();
  for (const c of bares) c.end(true);
  await Promise.all(sims.map((s) => s.stop(false)));
}

async function handle(m: ToHost): Promise<unknown> {
  switch (m.op) {
    case 'sim': {
      const created = m.stations.map(
        (s) =>
          new SimStation({ id: s.id, password: s.secret, url: m.url, topicRoot: m.root, reconnect: false }),
      );
      await pool(created, m.concurrency, async (s) => {
        await s.connect();
        sims.push(s);
      });
      return { stateBytes: Buffer.byteLength(JSON.stringify(created[0]?.birth() ?? {})) };
    }
    case 'bare': {
      const answer = Buffer.alloc(m.answerBytes, 0x20);
      await pool(m.stations, m.concurrency, (s) => bareStation(m.url, m.root, s.id, s.secret, answer));
      return {};
    }
    case 'telemetry-stations': {
      const base = tele.length;
      const created = m.stations.map(
        (s, i) =>
          new TelemetryStation(
            {
              id: s.id,
              password: s.secret,
              url: m.url,
              topicRoot: m.root,
              index: base + i,
              services: m.services,
            },
            counters,
          ),
      );
      await pool(created, m.concurrency, async (s) => {
        await s.connect();
        tele.push(s);
      });
      return {};
    }
    case 'telemetry':
      if (m.on) startTelemetry(m.periodMs);
      else stopTelemetry();
      return {};
    case 'stats':
      return stats();
    case 'stop':
      await shutdown();
      return {};
  }
}

function reply(msg: FromHost): void {
  if (process.connected) process.send?.(msg);
}

process.on('message', (raw) => {
  const id =
    typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'number' ? raw.id : -1;
  const parsed = ToHost.safeParse(raw);
  if (!parsed.success) {
    reply({ id, ok: false, error: `bad request: ${parsed.error.message}` });
    return;
  }
  const m = parsed.data;
  handle(m).then(
    (result) => {
      reply({ id: m.id, ok: true, result });
      if (m.op === 'stop') process.disconnect();
    },
    (err: unknown) => reply({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

// The bench died or closed the channel: close everything and leave.
process.on('disconnect', () => {
  void shutdown().finally(() => process.exit(0));
});
