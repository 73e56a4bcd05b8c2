/**
 * What the station does with a schedule document arriving on `st/{id}/schedule` (DESIGN.md §4, "Desired
 * state, not commands"):
 * - applied only when its version `{epoch, n}` is NEWER than the applied one (a new epoch — the headend was
 *   restored or reinstalled — counts as newer); an older or equal version is ignored, so applying is
 *   idempotent and a redelivered retained copy changes nothing;
 * - validated first (size cap, JSON, schema, planner version, receivers this station has); an invalid
 *   document is rejected with a reason in the state and the previous schedule stays in force;
 * - the station reports the applied version and the SHA-256 of the exact payload bytes it applied.
 *
 * `decideSchedule` is the pure decision; `takeSchedule` carries it out against the store.
 */
import { createHash } from 'node:crypto';
import { compareVersions, type ScheduleVersion } from '../../protocol/messages/common.js';
import { decodePayload } from '../../protocol/messages/decode.js';
import { ScheduleDocument } from '../../protocol/messages/schedule.js';
import { isPlannerVersionSupported, PLANNER_VERSION } from '../../protocol/planner/types.js';
import type { ScheduleRejectCode } from '../../protocol/registry.js';
import type { EventBody } from '../store/outbox.js';
import type { StoreTx } from '../store/tx.js';

/** SHA-256 of the payload bytes, lower-case hex (DESIGN.md §4). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The applied document as the decision needs it. */
export interface AppliedRef {
  version: ScheduleVersion;
  hash: string;
}

export type ScheduleDecision =
  | {
      action: 'apply';
      doc: ScheduleDocument;
      version: ScheduleVersion;
      hash: string;
      previous: ScheduleVersion | null;
    }
  | {
      action: 'ignore';
      why: 'stale' | 'same' | 'already-rejected';
      version: ScheduleVersion | null;
      hash: string;
    }
  | {
      action: 'reject';
      code: ScheduleRejectCode;
      reason: string;
      /** Absent when the payload was too unreadable to find a version in. */
      version: ScheduleVersion | null;
      hash: string;
    };

export interface DecideContext {
  applied: AppliedRef | null;
  /** Hash of the last rejected payload: the same bytes redelivered on reconnect are not re-reported. */
  lastRejectedHash: string | null;
  /** Receiver ids this station has (config). */
  receiverIds: readonly string[];
}

/** Best-effort version of an invalid payload, for the rejection report. */
function sniffVersion(bytes: Uint8Array): ScheduleVersion | null {
  try {
    const v = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { version?: unknown }).version as
      | { epoch?: unknown; n?: unknown }
      | undefined;
    if (
      v &&
      Number.isSafeInteger(v.epoch) &&
      Number.isSafeInteger(v.n) &&
      (v.epoch as number) >= 0 &&
      (v.n as number) >= 0
    ) {
      return { epoch: v.epoch as number, n: v.n as number };
    }
  } catch {
    // not JSON: no version to report
  }
  return null;
}

/** Decides what to do with one schedule payload. Pure; never throws. */
export function decideSchedule(bytes: Uint8Array, ctx: DecideContext): ScheduleDecision {
  const hash = sha256Hex(bytes);
  const reject = (
    code: ScheduleRejectCode,
    reason: string,
    version: ScheduleVersion | null,
  ): ScheduleDecision => {
    // An invalid document older than (or as old as) the applied one is just a stale copy: nothing to report.
    if (version && ctx.applied && compareVersions(version, ctx.applied.version) <= 0) {
      return { action: 'ignore', why: 'stale', version, hash };
    }
    if (hash === ctx.lastRejectedHash) return { action: 'ignore', why: 'already-rejected', version, hash };
    return { action: 'reject', code, reason: reason.slice(0, 1000), version, hash };
  };
  const decoded = decodePayload(ScheduleDocument, bytes);
  if (!decoded.ok) {
    const version = decoded.error.code === 'TOO_LARGE' ? null : sniffVersion(bytes);
    return reject(decoded.error.code, decoded.error.message, version);
  }
  const doc = decoded.value;
  if (ctx.applied) {
    const cmp = compareVersions(doc.version, ctx.applied.version);
    if (cmp < 0) return { action: 'ignore', why: 'stale', version: doc.version, hash };
    if (cmp === 0) return { action: 'ignore', why: 'same', version: doc.version, hash };
  }
  if (!isPlannerVersionSupported(doc.plannerVersion)) {
    return reject(
      'UNSUPPORTED_PLANNER',
      `document written for planner ${doc.plannerVersion}; this agent runs planner ${PLANNER_VERSION}`,
      doc.version,
    );
  }
  const unknown = doc.receivers.map((r) => r.id).filter((id) => !ctx.receiverIds.includes(id));
  if (unknown.length > 0) {
    return reject(
      'UNKNOWN_RECEIVER',
      `receivers ${unknown.join(', ')} are not installed here (this station has ${ctx.receiverIds.join(', ') || 'none'})`,
      doc.version,
    );
  }
  return { action: 'apply', doc, version: doc.version, hash, previous: ctx.applied?.version ?? null };
}

/** What `takeSchedule` needs from the station store. */
export interface ScheduleStore {
  schedule: {
    applied(): { version: ScheduleVersion; hash: string; bytes: Buffer; appliedAt: string } | null;
    rejection(): { hash: string | null } | null;
    apply(
      tx: StoreTx,
      doc: { bytes: Uint8Array; version: ScheduleVersion; appliedAt: string },
    ): { ok: true; hash: string; previous: ScheduleVersion | null } | { ok: false };
    reject(
      tx: StoreTx,
      r: { version?: ScheduleVersion; bytes?: Uint8Array; code: string; reason: string; at: string },
    ): void;
  };
  outbox: { appendEvent(tx: StoreTx, body: EventBody): unknown };
  transaction<T>(fn: (tx: StoreTx) => T): T;
}

/**
 * Carries out the decision for one delivered payload: the applied document (or the rejection) and the
 * `schedule.applied` / `schedule.rejected` event commit in one transaction. Returns the document to execute
 * when a new one was applied, `changed` when the state must be republished.
 */
export function takeSchedule(
  payload: Uint8Array,
  deps: {
    store: ScheduleStore;
    receiverIds: readonly string[];
    now: () => number;
    log: {
      info(o: object, m: string): void;
      warn(o: object, m: string): void;
      debug(o: object, m: string): void;
    };
  },
): { changed: boolean; doc?: ScheduleDocument; appliedAtMs?: number } {
  const { store, log } = deps;
  const applied = store.schedule.applied();
  const decision = decideSchedule(payload, {
    applied: applied && { version: applied.version, hash: applied.hash },
    lastRejectedHash: store.schedule.rejection()?.hash ?? null,
    receiverIds: deps.receiverIds,
  });
  const at = new Date(deps.now()).toISOString();
  if (decision.action === 'ignore') {
    if (decision.why === 'same' && decision.hash !== applied?.hash) {
      log.warn(
        { version: decision.version },
        'same version, different bytes: the headend re-issued a version',
      );
    } else {
      log.debug({ why: decision.why, version: decision.version }, 'schedule ignored');
    }
    return { changed: false };
  }
  if (decision.action === 'reject') {
    const version = decision.version ? { version: decision.version } : {};
    store.transaction((tx) => {
      store.schedule.reject(tx, {
        ...version,
        bytes: payload,
        code: decision.code,
        reason: decision.reason,
        at,
      });
      store.outbox.appendEvent(tx, {
        type: 'schedule.rejected',
        at,
        ...version,
        code: decision.code,
        reason: decision.reason,
      });
    });
    log.warn(
      { code: decision.code, reason: decision.reason },
      'schedule rejected; the previous stays in force',
    );
    return { changed: true };
  }
  const r = store.transaction((tx) => {
    const res = store.schedule.apply(tx, { bytes: payload, version: decision.version, appliedAt: at });
    if (res.ok) {
      store.outbox.appendEvent(tx, {
        type: 'schedule.applied',
        at,
        version: decision.version,
        hash: res.hash,
        ...(res.previous ? { previous: res.previous } : {}),
      });
    }
    return res;
  });
  if (!r.ok) return { changed: false };
  log.info({ version: decision.version, hash: decision.hash }, 'schedule applied');
  return { changed: true, doc: decision.doc, appliedAtMs: Date.parse(at) };
}

/** The stored document, validated again (a newer agent may be stricter): null when none or invalid. */
export function storedSchedule(
  store: Pick<ScheduleStore, 'schedule'>,
  log: { error(o: object, m: string): void },
): { doc: ScheduleDocument; appliedAtMs: number } | null {
  const applied = store.schedule.applied();
  if (!applied) return null;
  const d = decodePayload(ScheduleDocument, applied.bytes);
  if (!d.ok) {
    log.error({ err: d.error.message }, 'stored schedule no longer validates; executing nothing');
    return null;
  }
  return { doc: d.value, appliedAtMs: Date.parse(applied.appliedAt) };
}
