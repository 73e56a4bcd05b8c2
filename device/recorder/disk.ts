/**
 * Disk quota and free-space floor (DOMAIN.md §6 "Disk full / read-only filesystem": free space before and
 * during jobs; EROFS; retention policy; refuse with a reason; alarm). Checked before a recording starts and
 * while it runs; when short, retention runs first; if space still cannot be found the verdict is
 * `disk_full` (or `read_only`), which the executor turns into a failed occurrence and an alarm.
 */
import { randomBytes } from 'node:crypto';
import { statfs, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RecordingsRepo } from '../store/recordings.js';
import { directoryBytes, type RetentionReport, runRetention } from './retention.js';

export interface DiskPolicy {
  /** Bytes the recordings may use in total (0 = no quota, floor only). */
  quotaBytes: number;
  /** Free bytes the filesystem must keep. */
  minFreeBytes: number;
  /** Share of the quota the retention sweep keeps free (device/config.ts); absent = 0. */
  headroomRatio?: number;
}

export interface DiskUsage {
  /** Bytes under the recordings root. */
  usedBytes: number;
  /** Bytes available to the agent on the filesystem (statfs bavail). */
  freeBytes: number;
  totalBytes: number;
  quotaBytes: number;
  minFreeBytes: number;
  /** The filesystem refused a write with EROFS. */
  readOnly: boolean;
}

/** Bytes that must be freed before `needBytes` more can be written (pure). 0 = enough space. */
export function shortfall(u: DiskUsage, needBytes: number): number {
  const overQuota = u.quotaBytes > 0 ? u.usedBytes + needBytes - u.quotaBytes : 0;
  const underFloor = u.minFreeBytes + needBytes - u.freeBytes;
  return Math.max(0, overQuota, underFloor);
}

/**
 * What a retention sweep should free: the shortfall against quota and floor, and under a quota also the
 * headroom `headroomRatio` asks to keep free (oldest unprotected recordings go first, retention.ts).
 */
export function sweepNeed(u: DiskUsage, headroomRatio: number): number {
  const headroom =
    u.quotaBytes > 0 ? u.usedBytes + Math.ceil(u.quotaBytes * headroomRatio) - u.quotaBytes : 0;
  return Math.max(shortfall(u, 0), headroom);
}

/** Measures the recordings root: its size, the filesystem's free space, and whether it is writable. */
export async function measureDisk(root: string, policy: DiskPolicy): Promise<DiskUsage> {
  const [used, fsStats, readOnly] = await Promise.all([directoryBytes(root), statfs(root), isReadOnly(root)]);
  return {
    usedBytes: used,
    freeBytes: fsStats.bavail * fsStats.bsize,
    totalBytes: fsStats.blocks * fsStats.bsize,
    quotaBytes: policy.quotaBytes,
    minFreeBytes: policy.minFreeBytes,
    readOnly,
  };
}

/** True when creating a file in `root` fails with EROFS (statfs carries no mount flags in Node). */
export async function isReadOnly(root: string): Promise<boolean> {
  const probe = path.join(root, `.rw-check-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '');
    await unlink(probe);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS';
  }
}

export type SpaceVerdict =
  | { ok: true; usage: DiskUsage; retention: RetentionReport | null }
  | {
      ok: false;
      reason: 'disk_full' | 'read_only';
      /** Bytes still missing. */
      shortBytes: number;
      usage: DiskUsage;
      retention: RetentionReport | null;
      message: string;
    };

/** What the recorder needs: "make room for this many bytes, or tell me why not". */
export interface SpaceGuard {
  ensureSpace(needBytes: number): Promise<SpaceVerdict>;
}

export interface DiskGuardDeps {
  /** Absolute recordings root. */
  root: string;
  policy: DiskPolicy;
  recordings: RecordingsRepo;
  logger: Logger;
  /** Current keep-N per entry (from the applied schedule), for retention. */
  keepByEntry?: () => Readonly<Record<string, number | null>>;
  /** Measurement; `measureDisk` by default (tests may pass a fake filesystem view). */
  measure?: (root: string, policy: DiskPolicy) => Promise<DiskUsage>;
  /**
   * Told of every measurement (space checks, telemetry samples, retention sweeps, `disk.usage`), so the
   * disk's alarms are judged continuously (device/recorder/disk-watch.ts).
   */
  onMeasure?: (usage: DiskUsage) => void;
}

/** Quota + floor + retention for one recordings root. Concurrent calls share one check. */
export class DiskGuard implements SpaceGuard {
  private inFlight: Promise<SpaceVerdict> | null = null;

  constructor(private readonly deps: DiskGuardDeps) {}

  async usage(): Promise<DiskUsage> {
    const u = await (this.deps.measure ?? measureDisk)(this.deps.root, this.deps.policy);
    this.deps.onMeasure?.(u);
    return u;
  }

  ensureSpace(needBytes: number): Promise<SpaceVerdict> {
    if (!this.inFlight) {
      this.inFlight = this.check(needBytes).finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private async check(needBytes: number): Promise<SpaceVerdict> {
    let usage = await this.usage();
    if (usage.readOnly) return this.refuse('read_only', needBytes, usage, null);
    let short = shortfall(usage, needBytes);
    if (short === 0) return { ok: true, usage, retention: null };
    const retention = await runRetention(
      { recordings: this.deps.recordings, root: this.deps.root, logger: this.deps.logger },
      { needBytes: short, ...(this.deps.keepByEntry ? { keepByEntry: this.deps.keepByEntry() } : {}) },
    );
    usage = await this.usage();
    if (usage.readOnly) return this.refuse('read_only', needBytes, usage, retention);
    short = shortfall(usage, needBytes);
    if (short === 0) return { ok: true, usage, retention };
    return this.refuse('disk_full', needBytes, usage, retention);
  }

  private refuse(
    reason: 'disk_full' | 'read_only',
    needBytes: number,
    usage: DiskUsage,
    retention: RetentionReport | null,
  ): SpaceVerdict {
    const shortBytes = shortfall(usage, needBytes);
    const message =
      reason === 'read_only'
        ? `recordings filesystem ${this.deps.root} is read-only (EROFS)`
        : `no space for ${needBytes} bytes: used ${usage.usedBytes} of quota ${usage.quotaBytes || 'none'}, ` +
          `free ${usage.freeBytes} (floor ${usage.minFreeBytes}); ${shortBytes} bytes short after retention`;
    this.deps.logger.warn({ reason, needBytes, usage, shortBytes }, message);
    return { ok: false, reason, shortBytes, usage, retention, message };
  }
}
