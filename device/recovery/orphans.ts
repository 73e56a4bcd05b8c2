/**
 * Orphaned recorders (DESIGN.md §6 "Crash and power-cut recovery"). ffmpeg ignores SIGPIPE, so when the
 * agent dies (kill -9, OOM, a crash) its ffmpeg keeps recording, reparented to init. On start, before
 * anything else records, recovery finds the recorders the journal says were running and stops them.
 *
 * A PID alone is not an identity: the kernel reuses PIDs, and after a power cut every PID is new. A
 * journalled process is only signalled when ALL of these match what was recorded at spawn:
 * - the boot id (/proc/sys/kernel/random/boot_id) — a row from an earlier boot is dismissed outright;
 * - the start time in clock ticks since boot (/proc/PID/stat field 22) — unique per boot for a PID;
 * - the command line (/proc/PID/cmdline).
 * A PID that was reused by another program is never killed.
 *
 * Stopping uses SIGINT first: ffmpeg then writes its trailer and exits 255 with a valid segment; SIGKILL
 * (a truncated file) only after a grace period (DESIGN.md §3 ffmpeg notes).
 *
 * Belt and braces: a recorder spawned in the instant before the agent died may not have reached the
 * journal; `scanRoot` also finds ffmpeg processes writing into this agent's recordings root whose parent is
 * not this process, and stops them the same way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RecorderProcessRow } from '../store/recorder-processes.js';

/** What identifies a running process beyond its PID. */
export interface ProcessIdentity {
  pid: number;
  ppid: number;
  /** /proc/PID/stat field 22: start time in clock ticks after boot. */
  startTicks: number;
  /** argv joined with NUL (no trailing NUL). */
  cmdline: string;
  bootId: string;
  /** Single-letter state from /proc/PID/stat (`Z` = zombie). */
  state: string;
}

/** The current boot's id, or `unknown` where /proc does not provide it. */
export function readBootId(procRoot = '/proc'): string {
  try {
    return readFileSync(path.join(procRoot, 'sys/kernel/random/boot_id'), 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Reads a live process's identity from /proc, synchronously (a few µs), so the recorder can journal a
 * spawned ffmpeg before it does anything else. Null when the process does not exist.
 */
export function readProcessIdentity(pid: number, procRoot = '/proc'): ProcessIdentity | null {
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(path.join(procRoot, String(pid), 'stat'), 'utf8');
    cmdline = readFileSync(path.join(procRoot, String(pid), 'cmdline'), 'utf8');
  } catch {
    return null;
  }
  // Field 2 (comm) is in parentheses and may contain spaces or ')': fields resume after the LAST ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), rest[1] field 4 (ppid), so field N is rest[N - 3].
  const state = rest[0] ?? '?';
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[22 - 3]);
  if (!Number.isFinite(startTicks) || !Number.isFinite(ppid)) return null;
  return {
    pid,
    ppid,
    startTicks,
    cmdline: cmdline.replace(/\0$/, ''),
    bootId: readBootId(procRoot),
    state,
  };
}

export type OrphanAction =
  /** It was still running as journalled: stopped (SIGINT, then SIGKILL if it did not exit). */
  | 'killed'
  /** No such process any more. */
  | 'gone'
  /** The PID now belongs to another program (different start time or command line): left alone. */
  | 'reused'
  /** Journalled in an earlier boot: every PID of that boot is gone. */
  | 'earlier_boot';

export interface OrphanReport {
  pid: number;
  action: OrphanAction;
  /** Signal that ended it, when killed. */
  signal?: 'SIGINT' | 'SIGKILL';
  /** Journal row id; absent for a recorder found by the `scanRoot` scan. */
  rowId?: number;
  recordingId?: number | null;
}

/** The journal operations recovery needs (device/store/recorder-processes.ts implements them). */
export interface OrphanJournal {
  live(): RecorderProcessRow[];
  markEnded(id: number, at: string, reason: string): void;
}

export interface KillOrphansDeps {
  journal: OrphanJournal;
  logger: Logger;
  /** Wall clock for the journal's end times. */
  clock: { now(): number };
  /** Wait between SIGINT and SIGKILL (timing profile `recorderStopGraceMs`). */
  graceMs: number;
  procRoot?: string;
  /** process.kill by default; tests may observe it. */
  kill?: (pid: number, signal: NodeJS.Signals | 0) => void;
  /** Also stop unjournalled ffmpeg processes writing under this recordings root (absolute path). */
  scanRoot?: string;
  /** This process's PID (children of this process are never orphans). */
  selfPid?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function stopProcess(
  id: ProcessIdentity,
  deps: KillOrphansDeps,
  kill: (pid: number, signal: NodeJS.Signals | 0) => void,
): Promise<'SIGINT' | 'SIGKILL' | 'gone'> {
  const procRoot = deps.procRoot ?? '/proc';
  const same = () => {
    const now = readProcessIdentity(id.pid, procRoot);
    return now !== null && now.startTicks === id.startTicks && now.state !== 'Z';
  };
  try {
    kill(id.pid, 'SIGINT');
  } catch {
    return 'gone';
  }
  const deadline = Date.now() + deps.graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(50, deps.graceMs));
    if (!same()) return 'SIGINT';
  }
  if (!same()) return 'SIGINT';
  try {
    kill(id.pid, 'SIGKILL');
  } catch {
    return 'SIGINT';
  }
  for (let i = 0; i < 40 && same(); i++) await sleep(25);
  return 'SIGKILL';
}

/** Does `cmdline` look like a recorder writing under `root`? (argv[0] is ffmpeg, an argument is inside root) */
function writesUnder(cmdline: string, root: string): boolean {
  const argv = cmdline.split('\0');
  if (path.basename(argv[0] ?? '') !== 'ffmpeg') return false;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return argv.some((a) => a.startsWith(prefix));
}

/**
 * Stops every journalled recorder that is still running from a previous agent process and marks every
 * journalled row ended. Returns what it did per process. Call before starting any recorder.
 */
export async function killOrphans(deps: KillOrphansDeps): Promise<OrphanReport[]> {
  const procRoot = deps.procRoot ?? '/proc';
  const kill = deps.kill ?? ((pid: number, sig: NodeJS.Signals | 0) => process.kill(pid, sig));
  const bootId = readBootId(procRoot);
  const selfPid = deps.selfPid ?? process.pid;
  const nowIso = () => new Date(deps.clock.now()).toISOString();
  const reports: OrphanReport[] = [];
  const handled = new Set<number>();

  for (const row of deps.journal.live()) {
    const base = { pid: row.pid, rowId: row.id, recordingId: row.recordingId };
    if (row.bootId !== bootId) {
      deps.journal.markEnded(row.id, nowIso(), 'recovery: journalled in an earlier boot');
      reports.push({ ...base, action: 'earlier_boot' });
      continue;
    }
    const now = readProcessIdentity(row.pid, procRoot);
    if (!now || now.state === 'Z') {
      deps.journal.markEnded(row.id, nowIso(), 'recovery: process gone');
      reports.push({ ...base, action: 'gone' });
      continue;
    }
    if (now.startTicks !== row.startTicks || now.cmdline !== row.cmdline) {
      deps.logger.warn(
        { pid: row.pid, journalled: row.startTicks, found: now.startTicks },
        'PID of a journalled recorder now belongs to another process; not touching it',
      );
      deps.journal.markEnded(row.id, nowIso(), 'recovery: PID reused by another process');
      reports.push({ ...base, action: 'reused' });
      continue;
    }
    const result = await stopProcess(now, deps, kill);
    handled.add(row.pid);
    if (result === 'gone') {
      deps.journal.markEnded(row.id, nowIso(), 'recovery: process gone');
      reports.push({ ...base, action: 'gone' });
      continue;
    }
    deps.logger.warn(
      { pid: row.pid, signal: result, recordingId: row.recordingId },
      'stopped orphaned recorder',
    );
    deps.journal.markEnded(row.id, nowIso(), `recovery: orphan stopped with ${result}`);
    reports.push({ ...base, action: 'killed', signal: result });
  }

  if (deps.scanRoot) {
    for (const name of safeReaddir(procRoot)) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      if (pid === selfPid || handled.has(pid)) continue;
      const id = readProcessIdentity(pid, procRoot);
      if (!id || id.state === 'Z' || id.ppid === selfPid || !writesUnder(id.cmdline, deps.scanRoot)) continue;
      const result = await stopProcess(id, deps, kill);
      if (result === 'gone') continue;
      deps.logger.warn(
        { pid, signal: result },
        'stopped unjournalled recorder writing into the recordings root',
      );
      reports.push({ pid, action: 'killed', signal: result });
    }
  }
  return reports;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
