/**
 * The retention remedy (DOMAIN.md §6 "Disk full / read-only filesystem: retention policy; refuse with a
 * reason; alarm"; DESIGN.md §6 Recorder): the policy a technician reads and changes with
 * `recordings.retention`, a sweep on request (`sweep: true`), and the same sweep run automatically every
 * `retentionSweepMs` (timing profile) so old recordings go and space is freed before a recording needs it.
 *
 * The sweep applies, in order: max age (unprotected finished recordings older than `maxAgeDays`), keep-N per
 * entry (`keepPerEntry` for entries that carry none), then space (oldest unprotected first until the quota
 * and the free-space floor are met) — the last two are device/recorder/retention.ts, reused as is. Never a
 * running recording, never a protected one. The policy is kept in `<dataDir>/retention-policy.json`
 * (written atomically) so a change survives a restart; quota and floor edit the DiskGuard's policy object,
 * so recordings starting afterwards are checked against the new figures.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { RetentionPolicy } from '../../protocol/messages/rpc-methods.js';
import type { Clock } from '../link/clock.js';
import { type DiskPolicy, type DiskUsage, sweepNeed } from '../recorder/disk.js';
import { deleteRecording, runRetention } from '../recorder/retention.js';
import type { RecordingsRepo } from '../store/recordings.js';

export type RetentionPolicyValue = z.infer<typeof RetentionPolicy>;

/** What one sweep did. */
export interface SweepReport {
  deleted: number;
  freedBytes: number;
  byReason: { age: number; keep_n: number; space: number };
  errors: string[];
}

export interface RetentionServiceDeps {
  recordings: RecordingsRepo;
  /** Absolute recordings root. */
  root: string;
  /** The DiskGuard's policy object (quota and floor); edited in place by `setPolicy`. */
  disk: DiskPolicy;
  /** Measures the disk (DiskGuard.usage). */
  usage: () => Promise<DiskUsage>;
  /** Where the policy file lives (the agent's data dir). */
  dataDir: string;
  clock: Clock;
  /** Headend-corrected time, for ages. */
  now: () => number;
  logger: Logger;
}

const PolicyFile = RetentionPolicy.partial();
const DAY_MS = 86_400_000;

export class RetentionService {
  private maxAgeDays: number | null = null;
  private keepPerEntry: number | null = null;
  private running: Promise<SweepReport> | null = null;
  private cancel: (() => void) | null = null;
  /** The last automatic sweep's report (for logs and tests). */
  lastAuto: SweepReport | null = null;

  constructor(private readonly deps: RetentionServiceDeps) {}

  private get file(): string {
    return path.join(this.deps.dataDir, 'retention-policy.json');
  }

  /** Reads the saved policy, if any (a damaged file is logged and ignored: the config's figures stand). */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return;
    }
    const r = PolicyFile.safeParse(
      (() => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return null;
        }
      })(),
    );
    if (!r.success) {
      this.deps.logger.warn({ file: this.file }, 'retention policy file unreadable; using the config');
      return;
    }
    this.apply(r.data);
  }

  policy(): RetentionPolicyValue {
    return {
      maxAgeDays: this.maxAgeDays,
      quotaBytes: this.deps.disk.quotaBytes > 0 ? this.deps.disk.quotaBytes : null,
      minFreeBytes: this.deps.disk.minFreeBytes,
      keepPerEntry: this.keepPerEntry,
    };
  }

  /** Changes the policy (only the fields given) and saves it. */
  async setPolicy(change: Partial<RetentionPolicyValue>): Promise<RetentionPolicyValue> {
    this.apply(change);
    const p = this.policy();
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, `${JSON.stringify(p, null, 2)}\n`);
    await rename(tmp, this.file);
    this.deps.logger.info({ policy: p }, 'retention policy changed');
    return p;
  }

  private apply(c: Partial<RetentionPolicyValue>): void {
    if (c.maxAgeDays !== undefined) this.maxAgeDays = c.maxAgeDays;
    if (c.keepPerEntry !== undefined) this.keepPerEntry = c.keepPerEntry;
    if (c.quotaBytes !== undefined) this.deps.disk.quotaBytes = c.quotaBytes ?? 0;
    if (c.minFreeBytes !== undefined) this.deps.disk.minFreeBytes = c.minFreeBytes;
  }

  /** Runs one sweep now; concurrent callers share it. */
  sweep(): Promise<SweepReport> {
    this.running ??= this.sweepOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweepOnce(): Promise<SweepReport> {
    const report: SweepReport = {
      deleted: 0,
      freedBytes: 0,
      byReason: { age: 0, keep_n: 0, space: 0 },
      errors: [],
    };
    const { recordings, root, logger } = this.deps;
    if (this.maxAgeDays !== null) {
      const cutoff = this.deps.now() - this.maxAgeDays * DAY_MS;
      for (const r of recordings.list({ state: 'finished' })) {
        if (r.protected || Date.parse(r.finishedAt ?? r.plannedEnd) >= cutoff) continue;
        try {
          const d = await deleteRecording({ recordings, root }, r.id);
          report.deleted++;
          report.byReason.age++;
          report.freedBytes += d.bytes;
          logger.info(
            { recordingId: r.id, entryId: r.entryId, bytes: d.bytes },
            'retention: older than max age',
          );
        } catch (err) {
          report.errors.push(`${r.id}: ${(err as Error).message}`);
        }
      }
    }
    const keepByEntry: Record<string, number | null> = {};
    if (this.keepPerEntry !== null) {
      for (const r of recordings.list({ state: 'finished' }))
        if (r.keep === null) keepByEntry[r.entryId] = this.keepPerEntry;
    }
    const usage = await this.deps.usage();
    if (usage.readOnly) {
      report.errors.push('the recordings filesystem is read-only (EROFS)');
      return report;
    }
    const r = await runRetention(
      { recordings, root, logger },
      { needBytes: sweepNeed(usage, this.deps.disk.headroomRatio ?? 0), keepByEntry },
    );
    for (const d of r.deleted) report.byReason[d.reason]++;
    report.deleted += r.deleted.length;
    report.freedBytes += r.freedBytes;
    for (const e of r.errors) report.errors.push(`${e.id}: ${e.code} ${e.message}`);
    if (report.deleted > 0) logger.info({ ...report }, 'retention sweep');
    return report;
  }

  /** Sweeps every `periodMs` until `stop` (errors logged, never thrown: a background loop carries on). */
  start(periodMs: number): void {
    if (this.cancel || periodMs <= 0) return;
    const tick = () => {
      this.cancel = this.deps.clock.schedule(periodMs, () => {
        this.sweep()
          .then((r) => {
            this.lastAuto = r;
          })
          .catch((err: unknown) =>
            this.deps.logger.warn({ err: (err as Error).message }, 'retention sweep failed'),
          )
          .finally(() => {
            if (this.cancel) tick();
          });
      });
    };
    tick();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }
}
