/**
 * Scheduling entries (issue 5 "Scheduling"; DESIGN.md §1, §5): create, edit and delete recordings
 * (one-off, weekly, one guide programme, a series by title; operator or mandated) and conferences,
 * targeted at a station, a county or group, a list of stations, or all. Every change runs in ONE
 * transaction with its audit row and the new document version of every station it touches (old targets
 * and new), so a change is never committed without its documents or published before it is committed;
 * `onIssued` is called after the commit to publish them (publisher.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import {
  createGuideLinkStore,
  type GuideLink,
  type LinkWarning,
  resolveGuideLinks,
} from '../guide/guide-links.js';
import type { Store } from '../store/index.js';
import type { IssuedDoc } from '../store/schedules.js';
import { type CommitTiming, commitPrepared } from './commit.js';
import type { CompileWarning } from './compile.js';
import {
  type DocumentsDeps,
  type IssuedVersion,
  type IssueOutcome,
  issueDocuments,
  prepareDocuments,
  writePrepared,
} from './documents.js';
import { createEntriesRepo, type EntriesRepo, type StoredEntry } from './entries-repo.js';
import {
  type ChangeRun,
  createEntryChanges,
  type EntryChange,
  type EntryChanges,
  guideLinkOf,
  type PlannedChange,
} from './entry-changes.js';
import type { EntrySpec, Target } from './entry-schema.js';
import { resolveTarget } from './targets.js';

export interface SchedulingDeps {
  store: Store;
  /** Default padding and conference pre-roll (DESIGN.md §5), written into each entry explicitly. */
  timing: Pick<TimingProfile, 'recordingPadBeforeMs' | 'recordingPadAfterMs' | 'conferencePreRollMs'>;
  /** The stations' time zone (the prefecture's, DOMAIN.md §1). */
  timeZone: string;
  logger: Logger;
  now?: () => Date;
  /** After a commit: the stations that got a new document (the publisher sends them). */
  /** `docs`: the committed documents with their bytes (the publisher sends them without reading back). */
  onIssued?: (issued: readonly IssuedVersion[], docs: readonly IssuedDoc[]) => void;
  newId?: () => string;
}

/** An entry as the API shows it. */
export interface EntryView extends EntrySpec {
  id: string;
  rev: number;
  target: Target;
  stations: string[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  /** Guide-linked entries: the last resolution (DESIGN.md §5: "not listed" is shown, never dropped silently). */
  guide: { status: 'listed' | 'not_listed'; warnings: LinkWarning[] } | null;
}

/** What a save did. */
export interface SaveResult {
  entry: EntryView;
  issued: IssuedVersion[];
  /** Stations in the change whose document did not change. */
  unchanged: string[];
  warnings: CompileWarning[];
  /** How long the read phase and the write transaction took (commit.ts). */
  timing: CommitTiming;
}

export interface Scheduling {
  readonly entries: EntriesRepo;
  create(input: unknown, actor: string): SaveResult;
  update(id: string, patch: unknown, actor: string): SaveResult;
  remove(id: string, actor: string, opts?: { expectedRev?: number }): SaveResult;
  get(id: string): EntryView | undefined;
  list(opts?: { stationId?: string; includeDeleted?: boolean }): EntryView[];
  /** Applies a change without committing (preview.ts): returns what it touched. Call inside a transaction. */
  applyChange(change: EntryChange, actor: string): ChangeRun;
  /** Validates a change and reads what it needs, writing nothing (commit.ts: the read phase). */
  planChange(change: EntryChange, actor: string): PlannedChange;
  /** Recompiles stations (all when omitted) and issues the documents that changed (line-up edit, start-up). */
  recompile(stationIds?: readonly string[], opts?: { force?: boolean; reason?: string }): IssuedVersion[];
  /** Re-resolves every guide-linked entry (after an XMLTV import) and reissues the stations whose entries moved. */
  onGuideChanged(): IssuedVersion[];
  /** Re-resolves county / group / all targets (after a station was added or moved) and reissues. */
  refreshTargets(actor: string): IssuedVersion[];
}

export { type ChangeRun, type EntryChange, guideLinkOf, type PlannedChange } from './entry-changes.js';

const DAY = 86_400_000;
const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Commits one entry change and the documents it changes (commit.ts): validated and compiled from a
 * snapshot with the changed entry in place, then written in a short transaction. A change that resolves a
 * guide link is compiled after its write (the compile reads the resolution back), inside the transaction.
 */
export function commitChange(
  docs: DocumentsDeps,
  changes: Pick<EntryChanges, 'plan'>,
  change: EntryChange,
  actor: string,
  at: Date,
): { result: { run: PlannedChange; outcome: IssueOutcome }; timing: CommitTiming } {
  return commitPrepared(
    docs.store,
    () => {
      const run = changes.plan(change, actor);
      const prepared = run.resolvesGuide
        ? null
        : prepareDocuments(docs, run.affected, at, { overlay: { id: run.entryId, entry: run.after } });
      return { run, prepared };
    },
    ({ run, prepared }) => {
      run.write();
      const outcome = prepared ? writePrepared(docs.store, prepared) : issueDocuments(docs, run.affected, at);
      return { run, outcome };
    },
  );
}

export function createScheduling(deps: SchedulingDeps): Scheduling {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  const entries = createEntriesRepo(store.db);
  const guideLinks = createGuideLinkStore(store.db);
  const docs = {
    store,
    entries,
    timeZone: deps.timeZone,
    stationCache: new Map(),
    contentKeys: new Map<string, { sha256: string; key: string }>(),
  };
  const newId = deps.newId ?? (() => randomBytes(9).toString('base64url'));

  const view = (e: StoredEntry): EntryView => {
    const g = guideLinkOf(e.spec) ? guideLinks.get(e.id) : undefined;
    return {
      id: e.id,
      rev: e.rev,
      ...e.spec,
      target: e.target,
      stations: e.stations,
      createdBy: e.createdBy,
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
      deletedAt: e.deletedAt,
      guide: guideLinkOf(e.spec) ? { status: g?.status ?? 'listed', warnings: g?.warnings ?? [] } : null,
    };
  };

  const changes = createEntryChanges({ store, entries, guideLinks, timing: deps.timing, now, newId });

  const afterCommit = ({ issued, docs: written }: IssueOutcome) => {
    // Committed unless a caller's transaction is still open (it may roll back): only then are they heads.
    if (!store.db.inTransaction) store.schedules.committed(written);
    if (issued.length > 0) deps.onIssued?.(issued, written);
  };

  const save = (change: EntryChange, actor: string): SaveResult => {
    const at = now();
    const { result, timing } = commitChange(docs, changes, change, actor, at);
    const { run, outcome } = result;
    afterCommit(outcome);
    const e = entries.get(run.entryId) as StoredEntry;
    log.info(
      {
        event: `entry-${change.op}`,
        entryId: run.entryId,
        rev: e.rev,
        actor,
        issued: outcome.issued.length,
        unchanged: outcome.unchanged.length,
        warnings: outcome.warnings.length,
        prepareMs: round(timing.prepareMs),
        writeMs: round(timing.writeMs),
        attempts: timing.attempts,
      },
      `entry ${change.op}: ${outcome.issued.length} station document(s) issued`,
    );
    return {
      entry: view(e),
      issued: outcome.issued,
      unchanged: outcome.unchanged,
      warnings: outcome.warnings,
      timing,
    };
  };

  const recompile: Scheduling['recompile'] = (stationIds, opts = {}) => {
    const ids = stationIds ?? store.stations.list().map((s) => s.id);
    const at = now();
    const outcome = store.transaction(() => issueDocuments(docs, ids, at, { force: opts.force ?? false }));
    afterCommit(outcome);
    if (outcome.issued.length > 0 || outcome.warnings.length > 0) {
      log.info(
        {
          event: 'recompile',
          reason: opts.reason ?? 'requested',
          issued: outcome.issued.length,
          warnings: outcome.warnings,
        },
        `recompiled ${ids.length} station(s): ${outcome.issued.length} new document(s)`,
      );
    }
    return outcome.issued;
  };

  return {
    entries,
    create: (input, actor) => save({ op: 'create', input }, actor),
    update: (id, patch, actor) => save({ op: 'update', id, patch }, actor),
    remove: (id, actor, opts = {}) =>
      save(
        { op: 'delete', id, ...(opts.expectedRev === undefined ? {} : { expectedRev: opts.expectedRev }) },
        actor,
      ),
    get(id) {
      const e = entries.get(id);
      return e ? view(e) : undefined;
    },
    list: (opts) => entries.list(opts).map(view),
    applyChange: changes.apply,
    planChange: changes.plan,
    recompile,
    onGuideChanged() {
      const linked = entries.guideLinked();
      if (linked.length === 0) return [];
      const at = now();
      const results = resolveGuideLinks(
        store.db,
        linked.map((e) => ({ id: e.id, link: guideLinkOf(e.spec) as GuideLink })),
        at.getTime(),
        { horizonMs: 14 * DAY },
      );
      const changed = new Set(results.filter((r) => r.changed).map((r) => r.entryId));
      const stations = new Set(linked.filter((e) => changed.has(e.id)).flatMap((e) => e.stations));
      for (const r of results.filter((x) => x.warnings.length > 0)) {
        log.warn(
          { event: 'guide-link-warnings', entryId: r.entryId, status: r.status, warnings: r.warnings },
          'guide-linked entry changed',
        );
      }
      return stations.size > 0 ? recompile([...stations], { reason: 'guide changed' }) : [];
    },
    refreshTargets(actor) {
      const at = now();
      const outcome = store.transaction(() => {
        const affected = new Set<string>();
        for (const e of entries.list()) {
          if (e.target.type === 'station' || e.target.type === 'stations') continue;
          let next: string[];
          try {
            next = resolveTarget(store, e.target);
          } catch {
            next = [];
          }
          if (JSON.stringify(next) === JSON.stringify(e.stations)) continue;
          entries.update(e.id, e.rev, e.spec, e.target, next, e.updatedAt);
          for (const s of [...e.stations, ...next]) affected.add(s);
          store.audit.record({
            actor,
            action: 'entry.retarget',
            target: `entry:${e.id}`,
            details: { before: e.stations, after: next },
          });
        }
        return issueDocuments(docs, affected, at);
      });
      afterCommit(outcome);
      return outcome.issued;
    },
  };
}
