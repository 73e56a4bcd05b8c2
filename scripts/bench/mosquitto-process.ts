/**
 * A Mosquitto for the scale benches (DESIGN.md §3 "External broker", §8), configured ONLY from the files the
 * headend generates from its registry (headend/broker/mosquitto-files.ts: password_file of `$7$` hashes,
 * acl_file, mosquitto.conf with `max_queued_messages` sized for the fleet), on a free loopback port.
 * Started as root, Mosquitto drops to the `mosquitto` user, so the directory and files are handed to that
 * user first — the step an admin does once in production. Its CPU time is readable from /proc for notes.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { renderPasswordFile, writeMosquittoFiles } from '../../headend/broker/mosquitto-files.js';
import { renderMosquittoAcl } from '../../protocol/acl.js';

/** A running Mosquitto started by a bench. */
export interface BenchMosquitto {
  url: string;
  pid: number;
  /** The `max_queued_messages` line Mosquitto runs with (for the bench note). */
  maxQueued: number;
  /** utime + stime of the Mosquitto process so far, ms. */
  cpuMs(): number;
  /** What Mosquitto wrote to stderr (bounded). */
  log(): string;
  stop(): Promise<void>;
}

/** Inputs: the registry's credential rows and the headend's own `$7$` line. */
export interface BenchMosquittoInput {
  /** A directory of its own (e.g. from mkdtemp): it is handed to the `mosquitto` user when we are root. */
  dir: string;
  topicRoot: string;
  headend: { username: string; hash: string };
  stations: readonly { id: string; hash: string }[];
  /**
   * A second, bench-only fleet under another topic root (the bare fan-out floor), so its traffic reaches
   * none of the headend's subscriptions: its identities are appended to the generated password_file and
   * the ACL the generator renders for that root (its own publisher user) to the generated acl_file. The
   * conf — and so `max_queued_messages` — stays exactly what the headend generates for its own fleet.
   */
  extra?: {
    root: string;
    publisher: { username: string; hash: string };
    stations: readonly { id: string; hash: string }[];
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of `pid` in ms (/proc/PID/stat fields 14 and 15), or NaN when it is gone. */
export function procCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

function chownForMosquitto(dir: string): void {
  if (process.getuid?.() !== 0) return;
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'mosquitto'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'mosquitto'], { encoding: 'utf8' }).trim());
  } catch {
    return; // no mosquitto user: Mosquitto keeps running as root and reads the files as they are
  }
  fs.chownSync(dir, uid, gid);
  for (const f of fs.readdirSync(dir)) fs.chownSync(path.join(dir, f), uid, gid);
}

function waitForPort(port: number, proc: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (proc.exitCode !== null) return reject(new Error(`mosquitto exited (${proc.exitCode}): ${log()}`));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`mosquitto did not listen on ${port}: ${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Writes the generated files into `dir`, spawns `mosquitto -c`, and resolves once it accepts. */
export async function startBenchMosquitto(i: BenchMosquittoInput): Promise<BenchMosquitto> {
  const port = await freeTcpPort();
  const files = writeMosquittoFiles(i.dir, {
    topicRoot: i.topicRoot,
    headend: i.headend,
    stations: i.stations,
    listener: { host: '127.0.0.1', port },
  });
  if (i.extra) {
    const x = i.extra;
    fs.appendFileSync(
      files.passwordFile,
      renderPasswordFile([x.publisher, ...x.stations.map((s) => ({ username: s.id, hash: s.hash }))]),
    );
    // Mosquitto's `pattern` lines apply to every user wherever they stand, `topic` lines to the `user`
    // above them: appending a second rendering keeps both fleets' rules intact.
    fs.appendFileSync(files.aclFile, `\n${renderMosquittoAcl(x.root, x.publisher.username)}`);
  }
  const conf = fs.readFileSync(files.confFile, 'utf8');
  const maxQueued = Number(/^max_queued_messages (\d+)$/m.exec(conf)?.[1] ?? Number.NaN);
  chownForMosquitto(path.dirname(files.confFile));
  let stderr = '';
  const proc = spawn('mosquitto', ['-c', files.confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForPort(port, proc, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  const pid = proc.pid ?? -1;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid,
    maxQueued,
    cpuMs: () => procCpuMs(pid),
    log: () => stderr,
    stop,
  };
}
