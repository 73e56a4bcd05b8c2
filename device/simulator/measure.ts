/**
 * Measurement tool (not a test): against simulated RX8200s with the DEFAULT timing profile, how long from
 * `tune` to a verified lock, from `tune` to the first TS byte on the output (tune + select, cold and warm
 * stream source), and the CPU one shared ffmpeg test source costs (from /proc/<pid>/stat) with N receivers
 * on it, plus what the relay costs this process. Prints a table.
 *   node --import=tsx device/simulator/measure.ts [--runs 10] [--cpu-seconds 20] [--receivers 4]
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { defaultTiming } from '../../protocol/timing.js';
import { silentLogger } from '../log.js';
import { createRx8200Driver } from '../receiver/drivers/rx8200.js';
import { loadLineup } from '../receiver/lineup-file.js';
import { realTimers } from '../receiver/timers.js';
import { TcpTransport } from '../receiver/transports/tcp.js';
import { listenTcpLine } from './endpoints.js';
import { Rx8200Simulator } from './rx8200-sim.js';
import { StreamHub } from './stream-source.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    'cpu-seconds': { type: 'string', default: '20' },
    receivers: { type: 'string', default: '4' },
    lineup: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
const CPU_SECONDS = Number(values['cpu-seconds']);
const RECEIVERS = Number(values.receivers);
const lineupPath = values.lineup ?? 'tests/fixtures/lineup/sample-lineup.json';
const logger = silentLogger();

async function sink(): Promise<{ port: number; first: Promise<number>; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const first = new Promise<number>((r) => socket.once('message', () => r(performance.now())));
  return { port: socket.address().port, first, close: () => socket.close() };
}

async function receiver(hub: StreamHub, outputPort: number, seed: number) {
  const lineup = await loadLineup(lineupPath);
  const sim = new Rx8200Simulator(
    {
      address: 2,
      output: `udp://127.0.0.1:${outputPort}`,
      lineup,
      lockDelayMs: defaultTiming.simulatorLockDelayMs,
      baudRate: 9600,
      seed,
    },
    { timers: realTimers, logger, hub },
  );
  const line = await listenTcpLine(0, '127.0.0.1', logger);
  sim.attach(line);
  const transport = new TcpTransport(
    { host: '127.0.0.1', port: line.port },
    {
      timers: realTimers,
      logger,
      reopenMinMs: defaultTiming.transportReopenMinMs,
      reopenMaxMs: defaultTiming.transportReopenMaxMs,
    },
  );
  await transport.open();
  const driver = createRx8200Driver(
    { address: 2, timing: defaultTiming },
    { transport, timers: realTimers, logger },
  );
  const service = lineup.find((s) => s.key === 'cctv1');
  if (!service) throw new Error('cctv1 missing');
  return {
    service,
    driver,
    close: async () => {
      await driver.close();
      await sim.close();
    },
  };
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
  return `median ${q(0.5).toFixed(0)} ms  min ${(s[0] ?? 0).toFixed(0)}  max ${(s.at(-1) ?? 0).toFixed(0)}`;
}

async function cpuTicks(pid: number | 'self'): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
}

async function main(): Promise<void> {
  const toLock: number[] = [];
  const toFirstByte: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Cold: a fresh hub, so ffmpeg starts for this tune.
    const hub = new StreamHub({ spawn, timers: realTimers, logger });
    const out = await sink();
    const rx = await receiver(hub, out.port, i + 1);
    const t0 = performance.now();
    await rx.driver.tune(rx.service.transponder);
    toLock.push(performance.now() - t0);
    await rx.driver.selectService(rx.service.serviceId);
    toFirstByte.push((await out.first) - t0);
    await rx.close();
    out.close();
    await hub.close();
  }
  // Warm: the source already runs for another receiver; first byte after select comes from the relay.
  const hub = new StreamHub({ spawn, timers: realTimers, logger });
  const warm: number[] = [];
  const receivers = [];
  for (let i = 0; i < RECEIVERS; i++) {
    const out = await sink();
    const rx = await receiver(hub, out.port, 100 + i);
    await rx.driver.tune(rx.service.transponder);
    const t1 = performance.now();
    await rx.driver.selectService(rx.service.serviceId);
    const first = await out.first;
    if (i > 0) warm.push(first - t1);
    receivers.push({ rx, out });
  }
  const source = hub.list()[0];
  if (!source?.pid) throw new Error('no source running');
  const hz = 100; // CLK_TCK on Linux
  const [f0, s0] = [await cpuTicks(source.pid), await cpuTicks('self')];
  await new Promise((r) => setTimeout(r, CPU_SECONDS * 1000));
  const [f1, s1] = [await cpuTicks(source.pid), await cpuTicks('self')];
  const pct = (ticks: number) => ((ticks / hz / CPU_SECONDS) * 100).toFixed(1);
  console.log(
    `receiver timing, default profile (lock delay ${defaultTiming.simulatorLockDelayMs} ms × 0.5–1.5, 9600 baud), ${RUNS} runs`,
  );
  console.log(`  tune → verified lock                  ${stats(toLock)}`);
  console.log(`  tune → first TS byte (cold source)    ${stats(toFirstByte)}`);
  console.log(`  select → first TS byte (warm source)  ${stats(warm)}  (${warm.length} receivers)`);
  console.log(
    `shared source: 1 ffmpeg (pid ${source.pid}) for ${source.subscribers} receivers, over ${CPU_SECONDS} s`,
  );
  console.log(`  ffmpeg CPU      ${pct(f1 - f0)} % of one core`);
  console.log(
    `  this process    ${pct(s1 - s0)} % of one core (relay + ${RECEIVERS} simulators + drivers idle)`,
  );
  for (const { rx, out } of receivers) {
    await rx.close();
    out.close();
  }
  await hub.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
