/**
 * Virtual serial cables for tests: `socat` links two ptys (DESIGN.md §3: socat pty pairs for serial tests).
 * One end is opened by the simulated receiver, the other by the code under test through the real
 * serialport binding. The pair lives in its own temp dir; `close()` kills socat by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Path of one end (a symlink to /dev/pts/N). */
  a: string;
  /** Path of the other end. */
  b: string;
  /** PID of the socat process currently linking the ends. */
  readonly pid: number;
  /** Kill socat: both ends hang up (an unplugged USB-serial adapter) and the links vanish. */
  unplug(): Promise<void>;
  /** Start a new socat at the same paths (the adapter is plugged back in). */
  replug(): Promise<void>;
  /** Kill socat and remove the temp dir. */
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

interface Running {
  proc: ChildProcess;
  exited: Promise<void>;
}

async function startSocat(a: string, b: string): Promise<Running> {
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + 5000;
  while (!((await exists(a)) && (await exists(b)))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`socat did not create the pty pair: ${stderr.trim() || 'timeout'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, exited };
}

async function stopSocat(r: Running | null): Promise<void> {
  if (!r) return;
  if (r.proc.exitCode === null && r.proc.signalCode === null) {
    r.proc.kill('SIGTERM');
    await r.exited;
  }
}

/** Start socat linking two raw ptys; resolves when both ends exist. */
export async function createPtyPair(): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  let current: Running | null = await startSocat(a, b);
  return {
    a,
    b,
    get pid() {
      return current?.proc.pid ?? -1;
    },
    async unplug() {
      await stopSocat(current);
      current = null;
      await rm(a, { force: true });
      await rm(b, { force: true });
    },
    async replug() {
      await stopSocat(current);
      current = await startSocat(a, b);
    },
    async close() {
      await stopSocat(current);
      current = null;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
