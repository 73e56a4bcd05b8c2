/**
 * One headend process per data dir: `headend.pid` names the running process. A restore replaces the
 * database file, which must not happen under a running headend (its open connection would keep writing to
 * the replaced file), so `restore` refuses while the pid is alive. A stale file (crash, power cut) is taken
 * over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StoreError } from './errors.js';

const PID_FILE = 'headend.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of a live headend using `dataDir`, or null. */
export function runningHeadend(dataDir: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, PID_FILE), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
}

/** Throws HEADEND_RUNNING when a headend runs on `dataDir`. */
export function assertNotRunning(dataDir: string): void {
  const pid = runningHeadend(dataDir);
  if (pid !== null) {
    throw new StoreError('HEADEND_RUNNING', `a headend (pid ${pid}) is running on ${dataDir}: stop it first`);
  }
}

/** Claims the data dir for this process; returns the release function. */
export function claimDataDir(dataDir: string): () => void {
  assertNotRunning(dataDir);
  const file = path.join(dataDir, PID_FILE);
  fs.writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
    } catch {
      // already gone
    }
  };
}
