/**
 * The planner's outcome per station, before and after a change (issue 5 "Scheduling"; DESIGN.md §5): the
 * SAME pure `plan()` the station runs, over the same document bytes, so what the control room is shown is
 * what the station will do. A preview applies the change inside a transaction, compiles the touched
 * stations' documents and rolls everything back; nothing is saved or published.
 */
import {
  type ScheduleDocument,
  ScheduleDocument as ScheduleDocumentSchema,
} from '../../protocol/messages/schedule.js';
import {
  describeOutcome,
  type Plan,
  type PlannedOccurrence,
  PlannerError,
  type PlanReason,
  plan,
} from '../../protocol/planner/index.js';
import type { Store } from '../store/index.js';
import type { CompiledStation, CompileWarning } from './compile.js';
import { compileStations } from './documents.js';
import type { EntryChange, Scheduling } from './entries.js';
import { SchedulingError } from './errors.js';

/** Default preview window: the next 7 days (the station plans 14; the planner widens to chained overlaps). */
export const DEFAULT_PREVIEW_MS = 7 * 86_400_000;

/** One occurrence as a preview shows it. */
export interface PreviewOccurrence {
  entryId: string;
  title: string;
  nominalStart: string;
  nominalEnd: string;
  receiverId: string;
  outcome: PlannedOccurrence['outcome'];
  reason: PlanReason | null;
  /** `truncated (by "County meeting" at …)`. */
  text: string;
}

/** An occurrence whose outcome the change alters (null = it does not exist on that side). */
export interface PreviewChange {
  entryId: string;
  nominalStart: string;
  title: string;
  before: PreviewOccurrence | null;
  after: PreviewOccurrence | null;
}

export interface StationPreview {
  stationId: string;
  /** The changed entry's occurrences at this station after the change (empty: removed from it). */
  occurrences: PreviewOccurrence[];
  /** Every occurrence (any entry) whose outcome, reason or receiver the change alters. */
  changes: PreviewChange[];
  /** Occurrences after the change that are not plainly planned (truncated, dropped, shared), of the changed entry or altered by it. */
  conflicts: PreviewOccurrence[];
  warnings: CompileWarning[];
}

export interface PreviewResult {
  entryId: string;
  window: { from: string; to: string };
  stations: StationPreview[];
}

export interface PreviewDeps {
  store: Store;
  scheduling: Scheduling;
  timeZone: string;
  now?: () => Date;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** The window to plan: given, else now → now + 7 days. */
export function previewWindow(
  now: Date,
  w: { from?: string; to?: string } = {},
): { from: string; to: string } {
  const from = w.from ?? iso(now.getTime());
  const to = w.to ?? iso(Date.parse(from) + DEFAULT_PREVIEW_MS);
  return { from, to };
}

/** Plans a document over a window; planner errors become typed scheduling errors. */
export function planDocument(doc: ScheduleDocument, window: { from: string; to: string }): Plan {
  try {
    return plan(doc, window);
  } catch (err) {
    if (err instanceof PlannerError)
      throw new SchedulingError('INVALID_INPUT', `cannot plan: ${err.message}`);
    throw err;
  }
}

/** Parses stored document bytes (what was published). */
export function parseDocument(bytes: Buffer): ScheduleDocument {
  return ScheduleDocumentSchema.parse(JSON.parse(bytes.toString('utf8')));
}

function view(o: PlannedOccurrence): PreviewOccurrence {
  return {
    entryId: o.entryId,
    title: o.title,
    nominalStart: o.nominalStart,
    nominalEnd: o.nominalEnd,
    receiverId: o.receiverId,
    outcome: o.outcome,
    reason: o.reason,
    text: describeOutcome(o),
  };
}

const key = (o: { entryId: string; nominalStart: string }) => `${o.entryId}@${o.nominalStart}`;
const sig = (o: PreviewOccurrence) =>
  JSON.stringify([o.outcome, o.reason, o.receiverId, o.nominalEnd, o.title]);

/** Compares two plans of one station. */
export function comparePlans(
  entryId: string,
  before: Plan | null,
  after: Plan,
): Omit<StationPreview, 'stationId' | 'warnings'> {
  const b = new Map((before?.occurrences ?? []).map((o) => [key(o), view(o)]));
  const a = new Map(after.occurrences.map((o) => [key(o), view(o)]));
  const changes: PreviewChange[] = [];
  for (const k of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(k) ?? null;
    const y = a.get(k) ?? null;
    if (x && y && sig(x) === sig(y)) continue;
    const any = (y ?? x) as PreviewOccurrence;
    changes.push({
      entryId: any.entryId,
      nominalStart: any.nominalStart,
      title: any.title,
      before: x,
      after: y,
    });
  }
  changes.sort((p, q) => (p.nominalStart < q.nominalStart ? -1 : p.nominalStart > q.nominalStart ? 1 : 0));
  const occurrences = [...a.values()].filter((o) => o.entryId === entryId);
  const altered = new Set(changes.map((c) => key(c)));
  const conflicts = [...a.values()].filter(
    (o) => (o.entryId === entryId || altered.has(key(o))) && (o.outcome !== 'planned' || o.reason !== null),
  );
  return { occurrences, changes, conflicts };
}

class Rollback extends Error {
  constructor(readonly result: { entryId: string; compiled: CompiledStation[] }) {
    super('preview rollback');
  }
}

export interface Preview {
  /** The outcome per touched station, before and after `change`; nothing is saved. */
  previewChange(change: EntryChange, actor: string, window?: { from?: string; to?: string }): PreviewResult;
  /** The plan of the newest document issued to a station (what it was told to do). */
  stationPlan(stationId: string, window?: { from?: string; to?: string }): Plan | null;
}

export function createPreview(deps: PreviewDeps): Preview {
  const now = deps.now ?? (() => new Date());
  const { store } = deps;
  const latestDoc = (stationId: string): ScheduleDocument | null => {
    const d = store.schedules.latest(stationId);
    return d ? parseDocument(d.doc) : null;
  };
  return {
    previewChange(change, actor, w) {
      const at = now();
      const window = previewWindow(at, w);
      let result: { entryId: string; compiled: CompiledStation[] };
      try {
        store.transaction(() => {
          const run = deps.scheduling.applyChange(change, actor);
          const docs = { store, entries: deps.scheduling.entries, timeZone: deps.timeZone };
          throw new Rollback({ entryId: run.entryId, compiled: compileStations(docs, run.affected, at) });
        });
        throw new Error('unreachable: the preview transaction must roll back');
      } catch (err) {
        if (!(err instanceof Rollback)) throw err;
        result = err.result;
      }
      const stations = result.compiled.map((c): StationPreview => {
        const beforeDoc = latestDoc(c.stationId);
        const before = beforeDoc ? planDocument(beforeDoc, window) : null;
        const next = store.schedules.nextVersion(c.stationId);
        const afterDoc = ScheduleDocumentSchema.parse({
          version: next,
          issuedAt: iso(at.getTime() - (at.getTime() % 1000)),
          ...c.content,
        });
        return {
          stationId: c.stationId,
          ...comparePlans(result.entryId, before, planDocument(afterDoc, window)),
          warnings: c.warnings,
        };
      });
      return { entryId: result.entryId, window, stations };
    },
    stationPlan(stationId, w) {
      const doc = latestDoc(stationId);
      return doc ? planDocument(doc, previewWindow(now(), w)) : null;
    },
  };
}
