/**
 * A real Mosquitto for interop tests (DESIGN.md §3: Mosquitto 2 is tested in CI), configured ONLY from the
 * files the headend generates (headend/broker/mosquitto-files.ts) on a free port. Killed on teardown.
 * Mosquitto started as root drops to the `mosquitto` user, so the generated files and their directory are
 * handed to that user first — the same step an admin does once in production.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Test } from 'tap';

/** A running Mosquitto. */
export interface MosquittoProcess {
  url: string;
  port: number;
  /** Everything Mosquitto wrote to stderr so far. */
  log(): string;
  /** SIGHUP: Mosquitto re-reads password_file and acl_file; resolves once it has. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

function mosquittoIds(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'mosquitto'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'mosquitto'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/** Hands `dir` and its files to the mosquitto user when we are root (no-op otherwise). */
export function chownForMosquitto(dir: string): void {
  const ids = mosquittoIds();
  if (!ids) return;
  fs.chownSync(dir, ids.uid, ids.gid);
  for (const f of fs.readdirSync(dir)) fs.chownSync(path.join(dir, f), ids.uid, ids.gid);
}

function waitForPort(port: number, timeoutMs: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (proc.exitCode !== null) return reject(new Error(`mosquitto exited (${proc.exitCode}):\n${log()}`));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`mosquitto did not listen on ${port}:\n${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Spawns `mosquitto -c confFile` (its listener must be 127.0.0.1:`port`) and waits until it accepts. */
export async function startMosquitto(
  t: Test,
  opts: { confFile: string; port: number },
): Promise<MosquittoProcess> {
  chownForMosquitto(path.dirname(opts.confFile));
  let stderr = '';
  const proc = spawn('mosquitto', ['-c', opts.confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  t.teardown(stop);
  await waitForPort(opts.port, 10_000, proc, () => stderr);
  return {
    url: `mqtt://127.0.0.1:${opts.port}`,
    port: opts.port,
    log: () => stderr,
    async reload() {
      const count = () => stderr.split('Reloading config.').length;
      const before = count();
      proc.kill('SIGHUP');
      const deadline = Date.now() + 5000;
      // Mosquitto logs the line and reloads in its single-threaded main loop, so any CONNECT it reads after
      // the line is judged by the new files.
      while (count() === before) {
        if (Date.now() > deadline) throw new Error(`mosquitto did not reload:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop,
  };
}
