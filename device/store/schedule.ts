/**
 * The applied schedule document and the last rejection (DESIGN.md §4 "Desired state, not commands"). The
 * exact payload bytes are kept, so the SHA-256 the station reports is the hash of what it executes and the
 * agent re-plans from them after a restart without the network.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { compareVersions, type ScheduleVersion } from '../../protocol/messages/common.js';
import { assertInTransaction, type StoreTx } from './tx.js';

export interface AppliedScheduleRow {
  version: ScheduleVersion;
  /** SHA-256 of `bytes`, lower-case hex. */
  hash: string;
  bytes: Buffer;
  appliedAt: string;
}

export interface ScheduleRejectionRow {
  version: ScheduleVersion | null;
  hash: string | null;
  /** A ScheduleRejectCode from the registry. */
  code: string;
  reason: string;
  at: string;
}

export type ApplyResult =
  | { ok: true; hash: string; previous: ScheduleVersion | null }
  | { ok: false; reason: 'not_newer'; current: ScheduleVersion };

/** SHA-256 of a payload as lower-case hex (the hash reported in the station's state). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ScheduleRepo {
  constructor(private readonly db: Database) {}

  /** The document in force, or null before the first one. */
  applied(): AppliedScheduleRow | null {
    const r = this.db.prepare('SELECT * FROM schedule_applied WHERE id = 1').get() as
      | { epoch: number; n: number; hash: string; bytes: Buffer; applied_at: string }
      | undefined;
    if (!r) return null;
    return { version: { epoch: r.epoch, n: r.n }, hash: r.hash, bytes: r.bytes, appliedAt: r.applied_at };
  }

  /**
   * Stores `bytes` as the document in force if `version` is newer than the applied one (a new epoch counts
   * as newer, compareVersions). An older or equal version changes nothing (`not_newer`): applying is
   * idempotent. A successful apply clears the previous rejection, which it supersedes. Takes `tx` so the
   * `schedule.applied` event commits with it.
   */
  apply(tx: StoreTx, doc: { bytes: Uint8Array; version: ScheduleVersion; appliedAt: string }): ApplyResult {
    assertInTransaction(this.db, tx, 'schedule.apply');
    const current = this.applied();
    if (current && compareVersions(doc.version, current.version) <= 0) {
      return { ok: false, reason: 'not_newer', current: current.version };
    }
    const hash = sha256Hex(doc.bytes);
    this.db
      .prepare(
        `INSERT INTO schedule_applied (id, epoch, n, hash, bytes, applied_at) VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, n = excluded.n, hash = excluded.hash,
           bytes = excluded.bytes, applied_at = excluded.applied_at`,
      )
      .run(doc.version.epoch, doc.version.n, hash, Buffer.from(doc.bytes), doc.appliedAt);
    this.db.prepare('DELETE FROM schedule_rejection').run();
    return { ok: true, hash, previous: current?.version ?? null };
  }

  /** Records a rejected document (the previous one stays in force). */
  reject(
    tx: StoreTx,
    r: { version?: ScheduleVersion; bytes?: Uint8Array; code: string; reason: string; at: string },
  ): void {
    assertInTransaction(this.db, tx, 'schedule.reject');
    this.db
      .prepare(
        `INSERT INTO schedule_rejection (id, epoch, n, hash, code, reason, at) VALUES (1, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, n = excluded.n, hash = excluded.hash,
           code = excluded.code, reason = excluded.reason, at = excluded.at`,
      )
      .run(
        r.version?.epoch ?? null,
        r.version?.n ?? null,
        r.bytes ? sha256Hex(r.bytes) : null,
        r.code,
        r.reason,
        r.at,
      );
  }

  /** The last rejection not yet superseded by a successful apply. */
  rejection(): ScheduleRejectionRow | null {
    const r = this.db.prepare('SELECT * FROM schedule_rejection WHERE id = 1').get() as
      | {
          epoch: number | null;
          n: number | null;
          hash: string | null;
          code: string;
          reason: string;
          at: string;
        }
      | undefined;
    if (!r) return null;
    return {
      version: r.epoch === null || r.n === null ? null : { epoch: r.epoch, n: r.n },
      hash: r.hash,
      code: r.code,
      reason: r.reason,
      at: r.at,
    };
  }
}
