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
import { createGuideReader } from '../guide/guide-store.js';
import type { Store } from '../store/index.js';
import type { CompileWarning } from './compile.js';
import { type IssuedVersion, issueDocuments } from './documents.js';
import { createEntriesRepo, type EntriesRepo, type StoredEntry } from './entries-repo.js';
import {
  EntryInput,
  EntryPatch,
  type EntrySpec,
  fieldIssues,
  type ParsedEntryInput,
  type StoredWhen,
  type Target,
} from './entry-schema.js';
import { SchedulingError } from './errors.js';
import { describeTarget, resolveTarget } from './targets.js';

export interface SchedulingDeps {
  store: Store;
  /** Default padding and conference pre-roll (DESIGN.md §5), written into each entry explicitly. */
  timing: Pick<TimingProfile, 'recordingPadBeforeMs' | 'recordingPadAfterMs' | 'conferencePreRollMs'>;
  /** The stations' time zone (the prefecture's, DOMAIN.md §1). */
  timeZone: string;
  logger: Logger;
  now?: () => Date;
  /** After a commit: the stations that got a new document (the publisher sends them). */
  onIssued?: (issued: readonly IssuedVersion[]) => void;
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
}

/** The mutation half of a change, shared by saving and previewing (preview.ts runs it and rolls back). */
export interface ChangeRun {
  entryId: string;
  /** Every station whose document may change: old targets ∪ new targets. */
  affected: Set<string>;
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
  /** Recompiles stations (all when omitted) and issues the documents that changed (line-up edit, start-up). */
  recompile(stationIds?: readonly string[], opts?: { force?: boolean; reason?: string }): IssuedVersion[];
  /** Re-resolves every guide-linked entry (after an XMLTV import) and reissues the stations whose entries moved. */
  onGuideChanged(): IssuedVersion[];
  /** Re-resolves county / group / all targets (after a station was added or moved) and reissues. */
  refreshTargets(actor: string): IssuedVersion[];
}

/** A change to preview or save. */
export type EntryChange =
  | { op: 'create'; input: unknown }
  | { op: 'update'; id: string; patch: unknown }
  | { op: 'delete'; id: string; expectedRev?: number };

const DAY = 86_400_000;

function invalid(err: import('zod').ZodError): SchedulingError {
  const issues = fieldIssues(err);
  return new SchedulingError(
    'INVALID_INPUT',
    issues.map((i) => `${i.path}: ${i.message}`).join('; '),
    issues,
  );
}

/** The guide link of a stored `when`, or null for time-based entries. */
export function guideLinkOf(spec: EntrySpec): GuideLink | null {
  const w = spec.when;
  if (w.type === 'programme') {
    return {
      kind: 'programme',
      service: spec.service,
      programmeId: w.programmeId,
      title: w.title,
      start: w.start,
      stop: w.stop,
    };
  }
  if (w.type === 'series') {
    return {
      kind: 'series',
      service: spec.service,
      title: w.title,
      ...(w.from === undefined ? {} : { from: w.from }),
      ...(w.until === undefined ? {} : { until: w.until }),
      dedupe: w.dedupe,
    };
  }
  return null;
}

export function createScheduling(deps: SchedulingDeps): Scheduling {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  const entries = createEntriesRepo(store.db);
  const guideLinks = createGuideLinkStore(store.db);
  const docs = { store, entries, timeZone: deps.timeZone };
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

  /** A user's `when` → the stored form (a programme is looked up in the guide now). */
  const storedWhen = (when: ParsedEntryInput['when'], service: string): StoredWhen => {
    if (when.type !== 'programme') return when;
    const p = createGuideReader(store.db).get(service, when.programmeId);
    if (!p)
      throw new SchedulingError('NOT_FOUND', `no programme ${when.programmeId} of ${service} in the guide`);
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
    return {
      type: 'programme',
      programmeId: p.programmeId,
      title: p.title,
      start: iso(p.startMs),
      stop: iso(p.stopMs),
    };
  };

  /** Cross-field checks that need the store. */
  const checkSpec = (spec: EntrySpec, stations: string[]) => {
    if (!store.lineup.service(spec.service)) {
      throw new SchedulingError('INVALID_INPUT', `service: ${spec.service} is not in the line-up`, [
        { path: 'service', message: `${spec.service} is not in the line-up` },
      ]);
    }
    if (spec.receiverId !== undefined) {
      const only = stations.length === 1 ? store.stations.get(stations[0] as string) : undefined;
      const ids = only ? (only.receivers.length > 0 ? only.receivers.map((r) => r.id) : ['rx1']) : [];
      if (!ids.includes(spec.receiverId)) {
        const message = only
          ? `${only.id} has no receiver ${spec.receiverId} (it has ${ids.join(', ')})`
          : 'a receiver can be pinned only for a single-station target';
        throw new SchedulingError('INVALID_INPUT', `receiverId: ${message}`, [
          { path: 'receiverId', message },
        ]);
      }
    }
  };

  const specOf = (p: ParsedEntryInput): EntrySpec => {
    const conference = p.kind === 'conference';
    return {
      kind: p.kind,
      class: conference ? 'conference' : p.class,
      title: p.title,
      service: p.service,
      priority: p.priority ?? 0,
      padBeforeMs: p.padBeforeMs ?? (conference ? 0 : deps.timing.recordingPadBeforeMs),
      padAfterMs: p.padAfterMs ?? (conference ? 0 : deps.timing.recordingPadAfterMs),
      preRollMs: conference ? (p.preRollMs ?? deps.timing.conferencePreRollMs) : 0,
      record: conference ? p.record : true,
      ...(p.receiverId === undefined ? {} : { receiverId: p.receiverId }),
      ...(p.keep === undefined ? {} : { keep: p.keep }),
      when: storedWhen(p.when, p.service),
    };
  };

  const resolveLink = (id: string, spec: EntrySpec, at: Date) => {
    const link = guideLinkOf(spec);
    if (link) resolveGuideLinks(store.db, [{ id, link }], at.getTime());
  };

  const live = (id: string): StoredEntry => {
    const e = entries.get(id);
    if (!e) throw new SchedulingError('NOT_FOUND', `no entry ${id}`);
    if (e.deletedAt) throw new SchedulingError('CONFLICT', `entry ${id} was deleted at ${e.deletedAt}`);
    return e;
  };

  const checkRev = (e: StoredEntry, expectedRev: number | undefined) => {
    if (expectedRev !== undefined && expectedRev !== e.rev) {
      throw new SchedulingError(
        'CONFLICT',
        `entry ${e.id} is at revision ${e.rev}, not ${expectedRev}: reload and retry`,
      );
    }
  };

  const applyCreate = (input: unknown, actor: string): ChangeRun => {
    const parsed = EntryInput.safeParse(input);
    if (!parsed.success) throw invalid(parsed.error);
    const p = parsed.data;
    const id = p.id ?? newId();
    if (entries.get(id)) throw new SchedulingError('CONFLICT', `entry ${id} already exists`);
    const spec = specOf(p);
    const stations = resolveTarget(store, p.target);
    checkSpec(spec, stations);
    const at = now();
    entries.insert({ id, spec, target: p.target, stations, createdBy: actor, createdAt: at.toISOString() });
    resolveLink(id, spec, at);
    store.audit.record({
      actor,
      action: 'entry.create',
      target: `entry:${id}`,
      details: {
        after: { ...spec, target: p.target },
        stations: stations.length,
        to: describeTarget(p.target),
      },
    });
    return { entryId: id, affected: new Set(stations) };
  };

  const applyUpdate = (id: string, patchInput: unknown, actor: string): ChangeRun => {
    const parsed = EntryPatch.safeParse(patchInput);
    if (!parsed.success) throw invalid(parsed.error);
    const patch = parsed.data;
    const cur = live(id);
    checkRev(cur, patch.expectedRev);
    const s = cur.spec;
    const conference = s.kind === 'conference';
    if (conference && patch.class !== undefined)
      throw new SchedulingError('INVALID_INPUT', 'class: a conference is always of class conference', [
        { path: 'class', message: 'not allowed for a conference' },
      ]);
    if (!conference && (patch.record !== undefined || patch.preRollMs !== undefined))
      throw new SchedulingError('INVALID_INPUT', 'record/preRollMs: only for conferences', [
        { path: patch.record !== undefined ? 'record' : 'preRollMs', message: 'only for conferences' },
      ]);
    const service = patch.service ?? s.service;
    let when: StoredWhen = s.when;
    if (patch.when !== undefined) when = storedWhen(patch.when, service);
    else if (patch.service !== undefined && s.when.type === 'programme')
      when = storedWhen({ type: 'programme', programmeId: s.when.programmeId }, service);
    const next: EntrySpec = {
      ...s,
      title: patch.title ?? s.title,
      service,
      class: conference ? 'conference' : (patch.class ?? s.class),
      priority: patch.priority ?? s.priority,
      padBeforeMs: patch.padBeforeMs ?? s.padBeforeMs,
      padAfterMs: patch.padAfterMs ?? s.padAfterMs,
      preRollMs: patch.preRollMs ?? s.preRollMs,
      record: patch.record ?? s.record,
      when,
    };
    if (patch.receiverId === null) delete next.receiverId;
    else if (patch.receiverId !== undefined) next.receiverId = patch.receiverId;
    if (patch.keep === null) delete next.keep;
    else if (patch.keep !== undefined) next.keep = patch.keep;
    const target = patch.target ?? cur.target;
    const stations = patch.target === undefined ? cur.stations : resolveTarget(store, target);
    checkSpec(next, stations);
    const at = now();
    const oldLink = JSON.stringify(guideLinkOf(s));
    if (JSON.stringify(guideLinkOf(next)) !== oldLink) guideLinks.forget(id); // a new link starts afresh
    entries.update(id, cur.rev + 1, next, target, stations, at.toISOString());
    resolveLink(id, next, at);
    store.audit.record({
      actor,
      action: 'entry.update',
      target: `entry:${id}`,
      details: { rev: cur.rev + 1, before: { ...s, target: cur.target }, after: { ...next, target } },
    });
    return { entryId: id, affected: new Set([...cur.stations, ...stations]) };
  };

  const applyDelete = (id: string, actor: string, expectedRev?: number): ChangeRun => {
    const cur = live(id);
    checkRev(cur, expectedRev);
    entries.softDelete(id, now().toISOString());
    guideLinks.forget(id);
    store.audit.record({
      actor,
      action: 'entry.delete',
      target: `entry:${id}`,
      details: { before: { ...cur.spec, target: cur.target } },
    });
    return { entryId: id, affected: new Set(cur.stations) };
  };

  const applyChange = (change: EntryChange, actor: string): ChangeRun => {
    switch (change.op) {
      case 'create':
        return applyCreate(change.input, actor);
      case 'update':
        return applyUpdate(change.id, change.patch, actor);
      case 'delete':
        return applyDelete(change.id, actor, change.expectedRev);
    }
  };

  const afterCommit = (issued: IssuedVersion[]) => {
    if (issued.length > 0) deps.onIssued?.(issued);
  };

  const save = (change: EntryChange, actor: string): SaveResult => {
    const at = now();
    const { run, outcome } = store.transaction(() => {
      const run = applyChange(change, actor);
      return { run, outcome: issueDocuments(docs, run.affected, at) };
    });
    afterCommit(outcome.issued);
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
      },
      `entry ${change.op}: ${outcome.issued.length} station document(s) issued`,
    );
    return {
      entry: view(e),
      issued: outcome.issued,
      unchanged: outcome.unchanged,
      warnings: outcome.warnings,
    };
  };

  const recompile: Scheduling['recompile'] = (stationIds, opts = {}) => {
    const ids = stationIds ?? store.stations.list().map((s) => s.id);
    const at = now();
    const outcome = store.transaction(() => issueDocuments(docs, ids, at, { force: opts.force ?? false }));
    afterCommit(outcome.issued);
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
    applyChange,
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
      afterCommit(outcome.issued);
      return outcome.issued;
    },
  };
}
