/**
 * The simulator runs on its own (issue 3): spawned as a process it listens on a port, answers a driver,
 * takes run-time fault control on stdin and from a fault file it re-reads, rejects bad arguments with
 * a clear message, and on SIGTERM exits leaving no ffmpeg behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { silentLogger } from '../../device/log.js';
import { createRx8200Driver, type Rx8200Driver } from '../../device/receiver/drivers/rx8200.js';
import { loadLineup } from '../../device/receiver/lineup-file.js';
import { realTimers } from '../../device/receiver/timers.js';
import { TcpTransport } from '../../device/receiver/transports/tcp.js';
import { shortTiming } from '../../protocol/timing.js';
import { eventually, SAMPLE_LINEUP } from '../contract/receiver-harness.js';
import { probeUdp } from '../helpers/ffprobe.js';
import { freeUdpPort } from '../helpers/net.js';

const MAIN = fileURLToPath(new URL('../../device/simulator/main.ts', import.meta.url));

interface Sim {
  proc: ChildProcess;
  stdout: () => string;
  port: number;
}

function spawnSim(t: Test, args: string[]): ChildProcess {
  const proc = spawn(process.execPath, ['--import=tsx', MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return proc;
}

async function startSim(t: Test, extra: string[]): Promise<Sim> {
  const proc = spawnSim(t, ['--tcp', '0', '--timing', 'short', '--lineup', SAMPLE_LINEUP, ...extra]);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const ready = await eventually(() => /"msg":"simulator ready"/.test(out) || proc.exitCode !== null, 20_000);
  const m = /"endpoints":\["tcp 127\.0\.0\.1:(\d+)"\]/.exec(out);
  if (!ready || !m) throw new Error(`simulator did not start: ${err || out}`);
  return { proc, stdout: () => out, port: Number(m[1]) };
}

async function driverFor(t: Test, port: number): Promise<Rx8200Driver> {
  const logger = silentLogger();
  const transport = new TcpTransport(
    { host: '127.0.0.1', port },
    { timers: realTimers, logger, reopenMinMs: 100, reopenMaxMs: 1000 },
  );
  await transport.open();
  const driver = createRx8200Driver(
    { address: 2, timing: shortTiming },
    { transport, timers: realTimers, logger },
  );
  t.teardown(() => driver.close());
  return driver;
}

function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

t.test('bad arguments: exit 2 with every problem and the usage', async (t) => {
  const proc = spawnSim(t, ['--tcp', 'x', '--pty', '/dev/null', '--address', '1000']);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  t.equal(await exited(proc), 2);
  t.match(err, /--tcp: must be an integer/);
  t.match(err, /--address: /);
  t.match(err, /--lineup: /);
  t.match(err, /usage: ruralsat-sim/);
});

t.test('an invalid line-up file: exit 1 naming the file and the field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-sim-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'lineup.json');
  await writeFile(file, JSON.stringify([{ key: 'x', name: 'X', serviceId: 0, transponder: {} }]));
  const proc = spawnSim(t, ['--tcp', '0', '--lineup', file]);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  t.equal(await exited(proc), 1);
  t.match(err, new RegExp(`line-up ${file} is invalid`));
  t.match(err, /serviceId/);
});

t.test(
  'standalone: a driver tunes it, the stream is real, stdin injects faults, SIGTERM cleans up',
  async (t) => {
    const out = await freeUdpPort();
    const sim = await startSim(t, ['--output', `udp://127.0.0.1:${out}`]);
    const driver = await driverFor(t, sim.port);
    await driver.tune((await loadCctv1()).transponder);
    await driver.selectService(101);
    const programs = await probeUdp(out);
    t.equal(programs[0]?.programNumber, 101, 'ffprobe sees programme 101 on the output');

    sim.proc.stdin?.write('{"kind":"lnb-short"}\n');
    t.ok(
      await eventually(async () => (await driver.status()).lnb === 'short', 3000),
      'stdin fault step applied',
    );
    sim.proc.stdin?.write('clear\n');
    t.ok(await eventually(async () => (await driver.status()).lnb === 'ok', 3000), 'clear ends it');
    sim.proc.stdin?.write('{"kind":"nonsense"}\n');
    t.ok(
      await eventually(() => /not a fault step/.test(sim.stdout()), 3000),
      'a bad control line is reported',
    );

    const sources = await ffmpegChildrenOf(sim.proc.pid ?? -1);
    t.equal(sources.length, 1, 'one ffmpeg test source while streaming');
    sim.proc.kill('SIGTERM');
    t.equal(await exited(sim.proc), 0, 'exits 0 on SIGTERM');
    t.ok(
      await eventually(async () => (await Promise.all(sources.map(alive))).every((a) => !a), 3000),
      'its ffmpeg is gone',
    );
  },
);

t.test('the fault file is re-read when it changes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-sim-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const faults = join(dir, 'faults.json');
  await writeFile(faults, '[]');
  const sim = await startSim(t, ['--faults', faults]);
  const driver = await driverFor(t, sim.port);
  await driver.tune((await loadCctv1()).transponder);
  await writeFile(faults, JSON.stringify([{ kind: 'fade', depthDb: 12 }]));
  t.ok(
    await eventually(async () => !(await driver.status()).locked, 5000),
    'fade from the edited file loses lock',
  );
  await writeFile(faults, '[]');
  t.ok(await eventually(async () => (await driver.status()).locked, 5000), 'emptied file: locks again');
});

async function loadCctv1() {
  const s = (await loadLineup(SAMPLE_LINEUP)).find((x) => x.key === 'cctv1');
  if (!s) throw new Error('cctv1 missing from the sample line-up');
  return s;
}

function procStat(pid: number | string): Promise<string> {
  return readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
}

/** PIDs of the ffmpeg processes whose parent is `pid`. */
async function ffmpegChildrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(await procStat(entry));
    if (m?.[1] === 'ffmpeg' && Number(m[2]) === pid) found.push(Number(entry));
  }
  return found;
}

/** A process that exists and is not a zombie. */
async function alive(pid: number): Promise<boolean> {
  const m = /^\d+ \(.*\) (\S+)/.exec(await procStat(pid));
  return m !== null && m[1] !== 'Z';
}
