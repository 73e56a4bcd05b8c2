/**
 * Applying one change to the entries (create, edit, delete) inside the caller's transaction: validation
 * (zod at the edge, then what needs the store: line-up service, receiver pin, target), defaults from the
 * timing profile written explicitly, guide-linked entries resolved against the guide, the audit row with
 * before/after. Saving (entries.ts) and previewing (preview.ts, rolled back) share it, so a preview runs
 * exactly the code a save runs.
 */

import type { TimingProfile } from '../../protocol/timing.js';
import type { GuideLinkStore } from '../guide/guide-links.js';
import { type GuideLink, resolveGuideLinks } from '../guide/guide-links.js';
import { createGuideReader } from '../guide/guide-store.js';
import type { Store } from '../store/index.js';
import type { EntriesRepo, StoredEntry } from './entries-repo.js';
import {
  EntryInput,
  EntryPatch,
  type EntrySpec,
  fieldIssues,
  type ParsedEntryInput,
  type StoredWhen,
} from './entry-schema.js';
import { SchedulingError } from './errors.js';
import { describeTarget, resolveTarget } from './targets.js';

/** A change to preview or save. */
export type EntryChange =
  | { op: 'create'; input: unknown }
  | { op: 'update'; id: string; patch: unknown }
  | { op: 'delete'; id: string; expectedRev?: number };

/** What a change touched, shared by saving and previewing (preview.ts runs it and rolls back). */
export interface ChangeRun {
  entryId: string;
  /** Every station whose document may change: old targets ∪ new targets. */
  affected: Set<string>;
}

/**
 * A validated change not yet written: everything it reads is read, and `after` is the entry exactly as
 * `write` will store it, so the stations' documents can be compiled from a read snapshot with `after` in
 * place of the stored entry (documents.ts), and only the writes run in the short write transaction
 * (DESIGN.md §7).
 */
export interface PlannedChange extends ChangeRun {
  /** The entry as the change leaves it; null when it is deleted. */
  after: StoredEntry | null;
  /**
   * The write resolves a guide link (programme or series) that compiling reads back from the guide-link
   * store: such a change is compiled after its write, inside the transaction.
   */
  resolvesGuide: boolean;
  /** The entry row, guide link and audit row. Call once, inside the write transaction. */
  write(): void;
}

export interface EntryChangesDeps {
  store: Store;
  entries: EntriesRepo;
  guideLinks: GuideLinkStore;
  /** Default padding and conference pre-roll (DESIGN.md §5), written into each entry explicitly. */
  timing: Pick<TimingProfile, 'recordingPadBeforeMs' | 'recordingPadAfterMs' | 'conferencePreRollMs'>;
  now: () => Date;
  newId: () => string;
}

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

/** The functions that plan one change (reads only) and apply it (plan + write, inside a transaction). */
export interface EntryChanges {
  plan(change: EntryChange, actor: string): PlannedChange;
  apply(change: EntryChange, actor: string): ChangeRun;
}

export function createEntryChanges(deps: EntryChangesDeps): EntryChanges {
  const { store, entries, guideLinks, now, newId } = deps;

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

  const planCreate = (input: unknown, actor: string): PlannedChange => {
    const parsed = EntryInput.safeParse(input);
    if (!parsed.success) throw invalid(parsed.error);
    const p = parsed.data;
    const id = p.id ?? newId();
    if (entries.get(id)) throw new SchedulingError('CONFLICT', `entry ${id} already exists`);
    const spec = specOf(p);
    const stations = resolveTarget(store, p.target);
    checkSpec(spec, stations);
    const at = now();
    const createdAt = at.toISOString();
    const after: StoredEntry = {
      id,
      rev: 1,
      spec,
      target: p.target,
      stations: sorted(stations),
      createdBy: actor,
      createdAt,
      updatedAt: createdAt,
      deletedAt: null,
    };
    const write = () => {
      entries.insert({ id, spec, target: p.target, stations, createdBy: actor, createdAt });
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
    };
    return { entryId: id, affected: new Set(stations), after, resolvesGuide: !!guideLinkOf(spec), write };
  };

  const planUpdate = (id: string, patchInput: unknown, actor: string): PlannedChange => {
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
    const updatedAt = at.toISOString();
    const after: StoredEntry = {
      ...cur,
      rev: cur.rev + 1,
      spec: next,
      target,
      stations: sorted(stations),
      updatedAt,
    };
    const write = () => {
      const oldLink = JSON.stringify(guideLinkOf(s));
      if (JSON.stringify(guideLinkOf(next)) !== oldLink) guideLinks.forget(id); // a new link starts afresh
      entries.update(id, cur.rev + 1, next, target, stations, updatedAt);
      resolveLink(id, next, at);
      store.audit.record({
        actor,
        action: 'entry.update',
        target: `entry:${id}`,
        details: { rev: cur.rev + 1, before: { ...s, target: cur.target }, after: { ...next, target } },
      });
    };
    return {
      entryId: id,
      affected: new Set([...cur.stations, ...stations]),
      after,
      resolvesGuide: !!guideLinkOf(next),
      write,
    };
  };

  const planDelete = (id: string, actor: string, expectedRev?: number): PlannedChange => {
    const cur = live(id);
    checkRev(cur, expectedRev);
    const at = now().toISOString();
    const write = () => {
      entries.softDelete(id, at);
      guideLinks.forget(id);
      store.audit.record({
        actor,
        action: 'entry.delete',
        target: `entry:${id}`,
        details: { before: { ...cur.spec, target: cur.target } },
      });
    };
    return { entryId: id, affected: new Set(cur.stations), after: null, resolvesGuide: false, write };
  };

  const plan = (change: EntryChange, actor: string): PlannedChange => {
    switch (change.op) {
      case 'create':
        return planCreate(change.input, actor);
      case 'update':
        return planUpdate(change.id, change.patch, actor);
      case 'delete':
        return planDelete(change.id, actor, change.expectedRev);
    }
  };

  return {
    plan,
    apply(change, actor) {
      const p = plan(change, actor);
      p.write();
      return { entryId: p.entryId, affected: p.affected };
    },
  };
}

/** Station ids in the order `entry_stations` returns them. */
const sorted = (ids: readonly string[]) => [...ids].sort();
