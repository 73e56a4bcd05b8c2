/**
 * How a conference change is committed (DESIGN.md §7 "Publishing through an outbox: a change and its new
 * schedule version commit together, then publish"): ONE transaction holds the entry change (headend/
 * scheduling `applyChange`, with its own `entry.*` audit row), the new document version of every station it
 * touches (`issueDocuments`), the conference row, each target station's required version, and the
 * `conference.*` audit row with before/after. The documents are published after the commit; listeners
 * (SSE) hear of it last.
 */
import type { Logger } from 'pino';
import { type CommitTiming, commitPrepared } from '../scheduling/commit.js';
import type { CompileWarning } from '../scheduling/compile.js';
import {
  type IssuedVersion,
  type IssueOutcome,
  issueDocuments,
  prepareDocuments,
  writePrepared,
} from '../scheduling/documents.js';
import type { EntryChange, Scheduling } from '../scheduling/entries.js';
import type { Target } from '../scheduling/entry-schema.js';
import type { Store } from '../store/index.js';
import type { IssuedDoc } from '../store/schedules.js';
import type { AttendanceTracker } from './attendance-tracker.js';
import type { ConferenceTarget, ConferenceView } from './conference-schema.js';
import type { ConferenceStation, ConferencesRepo, StoredConference } from './conferences-repo.js';
import { ConferenceError } from './errors.js';
import { sunOutageWarnings } from './sun-warnings.js';

/** What a change did. */
export interface ConferenceSaveResult {
  conference: ConferenceView;
  /** Stations that got a new schedule document. */
  issued: IssuedVersion[];
  warnings: CompileWarning[];
  /** The read phase and the write transaction (headend/scheduling/commit.ts). */
  timing: CommitTiming;
}

/** A lifecycle change, for live listeners (SSE). */
export interface ConferenceChange {
  op: 'create' | 'update' | 'start-now' | 'extend' | 'end-now' | 'cancel';
  conference: ConferenceView;
}

/** Starts may lie this far in the past (the form's "now" reaches the headend a moment later). */
export const LATE_START_TOLERANCE_MS = 60_000;
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Instants the service makes are whole seconds (occurrence identities compare as strings, planner/iso.ts). */
export const ceilSecond = (ms: number) => Math.ceil(ms / 1000) * 1000;

/** zod issues → the layer's error. */
export function invalid(err: import('zod').ZodError): ConferenceError {
  const issues = err.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(body)',
    message: i.message,
  }));
  return new ConferenceError(
    'INVALID_INPUT',
    issues.map((i) => `${i.path}: ${i.message}`).join('; '),
    issues,
  );
}

export interface ChangeRunnerDeps {
  store: Store;
  scheduling: Pick<Scheduling, 'planChange' | 'entries'>;
  repo: ConferencesRepo;
  tracker: Pick<AttendanceTracker, 'changed'>;
  /** Publishes the stations' newest documents; `docs`: the ones just committed, bytes included. */
  publish(stationIds: readonly string[], docs?: readonly IssuedDoc[]): void;
  timeZone: string;
  now: () => Date;
  logger: Logger;
  view(c: StoredConference): ConferenceView;
  emit(change: ConferenceChange): void;
}

/** A conference's fields as a mutation computes them, with what else the audit row should say. */
export type Mutation = { next: StoredConference; details?: Record<string, unknown> };

export interface ChangeRunner {
  /** Runs a change: `run` is called inside the transaction and says what to store and which entry change to apply. */
  commit(
    op: ConferenceChange['op'],
    actor: string,
    before: StoredConference | null,
    run: () => Mutation & { change: EntryChange | null },
  ): ConferenceSaveResult;
  /** Edits a live conference: `mutate` computes the new fields; the entry patch is derived from the difference. */
  edit(
    id: string,
    actor: string,
    op: ConferenceChange['op'],
    mutate: (c: StoredConference, nowMs: number) => Mutation,
    expectedRev?: number,
  ): ConferenceSaveResult;
  /** The conference, or NOT_FOUND / CONFLICT when it was cancelled. */
  live(id: string): StoredConference;
  entryTarget(t: ConferenceTarget): Target;
}

export function createChangeRunner(deps: ChangeRunnerDeps): ChangeRunner {
  const { store, scheduling, repo, tracker, now, view } = deps;
  const log = deps.logger;
  // What each station's newest document holds, kept between changes (scheduling/documents.ts).
  const contentKeys = new Map<string, { sha256: string; key: string }>();

  /** The scheduling target of a conference target (several counties become their stations). */
  const entryTarget = (t: ConferenceTarget): Target => {
    if (t.type === 'all') return { type: 'all' };
    if (t.type === 'stations') return { type: 'stations', stationIds: t.stationIds };
    for (const county of t.counties) {
      if (store.groups.get(county)?.kind !== 'county')
        throw new ConferenceError('NOT_FOUND', `no county ${county}`, [
          { path: 'target.counties', message: `no county ${county}` },
        ]);
    }
    if (t.counties.length === 1) return { type: 'county', county: t.counties[0] as string };
    const ids = [...new Set(t.counties.flatMap((c) => store.groups.members(c)))]
      .filter((id) => store.stations.get(id)?.revokedAt === null)
      .sort();
    if (ids.length === 0)
      throw new ConferenceError('INVALID_INPUT', 'the counties have no active station', [
        { path: 'target.counties', message: 'no active station' },
      ]);
    return { type: 'stations', stationIds: ids };
  };

  const live = (id: string): StoredConference => {
    const c = repo.get(id);
    if (!c) throw new ConferenceError('NOT_FOUND', `no conference ${id}`);
    if (c.cancelledAt)
      throw new ConferenceError('CONFLICT', `conference ${id} was cancelled at ${c.cancelledAt}`);
    return c;
  };

  const warningsFor = (c: StoredConference, stationIds: readonly string[]) => {
    const mhz = store.lineup.service(c.service)?.transponder.frequencyMHz;
    if (mhz === undefined) return [];
    const sites = stationIds.flatMap((id) => {
      const s = store.stations.get(id);
      return s ? [{ id, lat: s.lat, lon: s.lon, dishM: s.dishM }] : [];
    });
    return sunOutageWarnings(sites, mhz, Date.parse(c.start) - c.preRollMs, Date.parse(c.end));
  };

  /**
   * Runs one change: the entry change (if any), the documents, the conference row as `next` returns it, the
   * stations' required versions and the audit row commit together; publishes after the commit. Validated
   * and compiled from a read snapshot, then written in a short transaction (headend/scheduling/commit.ts).
   */
  const commit = (
    op: ConferenceChange['op'],
    actor: string,
    before: StoredConference | null,
    run: () => { next: StoredConference; change: EntryChange | null; details?: Record<string, unknown> },
  ): ConferenceSaveResult => {
    const at = now();
    const atIso = at.toISOString();
    const docs = { store, entries: scheduling.entries, timeZone: deps.timeZone, contentKeys };

    /** The conference's own rows, after the entry and its documents, in the same write transaction. */
    const writeConference = (
      r: { next: StoredConference; details?: Record<string, unknown> },
      outcome: IssueOutcome,
    ) => {
      const entry = scheduling.entries.get(r.next.id);
      const targets =
        op === 'cancel' ? repo.stations(r.next.id).map((s) => s.stationId) : (entry?.stations ?? []);
      const issuedAt = new Map(outcome.issued.map((i) => [i.stationId, i.version]));
      const previous = new Map(repo.stations(r.next.id).map((s) => [s.stationId, s]));
      const stations: ConferenceStation[] = targets.map((id) => {
        const prev = previous.get(id);
        const version = issuedAt.get(id) ?? store.schedules.latest(id)?.version ?? { epoch: 0, n: 0 };
        const pushed = issuedAt.has(id) || !prev;
        return {
          stationId: id,
          required: version,
          pushedAt: pushed ? atIso : prev.pushedAt,
          appliedSeenAt: pushed ? null : prev.appliedSeenAt,
        };
      });
      // The entry holds the pre-roll it was given or the profile's default (headend/scheduling).
      const next = { ...r.next, updatedAt: atIso, preRollMs: entry?.spec.preRollMs ?? r.next.preRollMs };
      if (before) repo.update(next);
      else repo.insert(next);
      repo.setStations(next.id, stations);
      store.audit.record({
        actor,
        action: `conference.${op}`,
        target: `conference:${next.id}`,
        details: {
          ...(before ? { before: auditForm(before) } : {}),
          after: auditForm(next),
          stations: stations.length,
          issued: outcome.issued.length,
          ...r.details,
        },
      });
      return { next, targets, issued: outcome.issued, docs: outcome.docs, warnings: outcome.warnings };
    };

    const { result, timing } = commitPrepared(
      store,
      () => {
        const r = run();
        const plan = r.change ? scheduling.planChange(r.change, actor) : null;
        const prepared =
          plan && !plan.resolvesGuide
            ? prepareDocuments(docs, plan.affected, at, { overlay: { id: plan.entryId, entry: plan.after } })
            : null;
        return { r, plan, prepared };
      },
      ({ r, plan, prepared }) => {
        plan?.write();
        const outcome = prepared
          ? writePrepared(store, prepared)
          : issueDocuments(docs, plan?.affected ?? new Set<string>(), at);
        return writeConference(r, outcome);
      },
    );
    const { next, targets, issued, docs: written, warnings } = result;
    // Committed (unless a caller's transaction is still open): the new documents are the stations' heads,
    // and the publisher sends their bytes without reading them back.
    if (!store.db.inTransaction) store.schedules.committed(written);
    if (issued.length > 0)
      deps.publish(
        issued.map((i) => i.stationId),
        written,
      );
    // Sun-outage warnings are derived data and cost up to ~1 ms a station near an equinox: computed after
    // the commit, so the change's transaction stays short (DESIGN.md §7: ≤ ~20 ms beside the broker).
    // The row was written with the warnings it had; a second write (a commit of its own, with an fsync)
    // only when they changed — an extend by a minute outside an outage season changes none.
    if (op !== 'cancel') {
      const warnings = warningsFor(next, targets);
      const changed = JSON.stringify(warnings) !== JSON.stringify(next.warnings);
      next.warnings = warnings;
      if (changed) repo.update(next);
    }
    tracker.changed(next.id);
    const v = view(next);
    log.info(
      {
        event: `conference-${op}`,
        conferenceId: next.id,
        actor,
        issued: issued.length,
        start: v.start,
        end: v.end,
        prepareMs: Math.round(timing.prepareMs * 10) / 10,
        writeMs: Math.round(timing.writeMs * 10) / 10,
        attempts: timing.attempts,
      },
      `conference ${op}: ${issued.length} station document(s) issued`,
    );
    deps.emit({ op, conference: v });
    return { conference: v, issued, warnings, timing };
  };

  /** Edits the times/fields of a live conference through the same path as `update`. */
  const edit = (
    id: string,
    actor: string,
    op: ConferenceChange['op'],
    mutate: (
      c: StoredConference,
      nowMs: number,
    ) => { next: StoredConference; details?: Record<string, unknown> },
    expectedRev?: number,
  ): ConferenceSaveResult => {
    const cur = live(id);
    return commit(op, actor, cur, () => {
      const nowMs = now().getTime();
      const { next, details } = mutate(cur, nowMs);
      const patch: Record<string, unknown> = {};
      if (next.title !== cur.title) patch.title = next.title;
      if (next.service !== cur.service) patch.service = next.service;
      if (next.start !== cur.start || next.end !== cur.end)
        patch.when = { type: 'once', start: next.start, end: next.end };
      if (JSON.stringify(next.target) !== JSON.stringify(cur.target)) patch.target = entryTarget(next.target);
      if (next.record !== cur.record) patch.record = next.record;
      if (next.preRollMs !== cur.preRollMs) patch.preRollMs = next.preRollMs;
      if (expectedRev !== undefined) patch.expectedRev = expectedRev;
      const touches = Object.keys(patch).some((k) => k !== 'expectedRev');
      const rev = scheduling.entries.get(id)?.rev;
      if (!touches && expectedRev !== undefined && rev !== expectedRev)
        throw new ConferenceError(
          'CONFLICT',
          `conference ${id} is at revision ${rev}, not ${expectedRev}: reload and retry`,
        );
      return { next, change: touches ? { op: 'update', id, patch } : null, ...(details ? { details } : {}) };
    });
  };

  return { commit, edit, live, entryTarget };
}

/** Times of an edited conference: a start in the future (unless it already ran), end after start. */
export function checkTimes(next: StoredConference, cur: StoredConference, nowMs: number): void {
  const startMs = Date.parse(next.start);
  const endMs = Date.parse(next.end);
  if (next.start !== cur.start && startMs < nowMs - LATE_START_TOLERANCE_MS)
    throw new ConferenceError('INVALID_INPUT', 'start: in the past (start it now instead)', [
      { path: 'start', message: 'must not be in the past' },
    ]);
  if (next.end !== cur.end && endMs <= nowMs)
    throw new ConferenceError('INVALID_INPUT', 'end: in the past (end it now instead)', [
      { path: 'end', message: 'must be in the future' },
    ]);
  if (endMs <= startMs)
    throw new ConferenceError('INVALID_INPUT', 'end: must be after start', [
      { path: 'end', message: 'must be after start' },
    ]);
  if (endMs - startMs > 24 * 3_600_000)
    throw new ConferenceError('INVALID_INPUT', 'end: a conference may last at most 24 h', [
      { path: 'end', message: 'at most 24 h after the start' },
    ]);
}

/** What the audit log keeps of a conference (before/after of every control action, DESIGN.md §7). */
function auditForm(c: StoredConference): Record<string, unknown> {
  return {
    title: c.title,
    organiser: c.organiser,
    notes: c.notes,
    service: c.service,
    start: c.start,
    end: c.end,
    preRollMs: c.preRollMs,
    record: c.record,
    target: c.target,
    cancelledAt: c.cancelledAt,
  };
}
