/**
 * Planner golden vectors (DESIGN.md §5: "golden vectors are checked by the test suite on both sides"):
 * JSON files under tests/golden/planner/, each a schedule document + window → the expected plan. The
 * planner's unit test checks every vector; the agent's executor and the headend's preview tests load the
 * same files through this helper, so all three agree on one set of answers.
 *
 * Also the small builders the vectors' documents were written with, for tests that need a document.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  ScheduleDocument,
  type ScheduleDocumentInput,
  type ScheduleEntry,
} from '../../protocol/messages/schedule.js';
import { type Plan, PlannedOccurrence, PlanWindow } from '../../protocol/planner/index.js';

/** Directory of the planner vectors. */
export const PLANNER_VECTOR_DIR = fileURLToPath(new URL('../golden/planner/', import.meta.url));

/**
 * What a vector pins down for each occurrence: identity, receiver, intervals, outcome and reason, parts and
 * cuts, title. Echoes of the entry (kind, class, service, rev) are left out to keep the files readable.
 */
export const GoldenOccurrence = PlannedOccurrence.pick({
  entryId: true,
  title: true,
  nominalStart: true,
  nominalEnd: true,
  paddedStart: true,
  paddedEnd: true,
  receiverId: true,
  outcome: true,
  reason: true,
  parts: true,
  cuts: true,
});
export type GoldenOccurrence = z.infer<typeof GoldenOccurrence>;

export const PlannerVector = z.strictObject({
  /** What the vector shows and why the expected plan is right, in a few sentences. */
  description: z.string().min(1),
  document: ScheduleDocument,
  window: PlanWindow,
  /** Occurrences in plan order (nominal start, then entry id). */
  expected: z.array(GoldenOccurrence),
});
export type PlannerVector = z.infer<typeof PlannerVector>;

export interface LoadedVector {
  /** File name without `.json`, e.g. `06-conference-splits-recording`. */
  name: string;
  vector: PlannerVector;
}

/** Loads and validates every vector; a malformed file throws with its name and the zod issues. */
export function loadPlannerVectors(dir: string = PLANNER_VECTOR_DIR): LoadedVector[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const parsed = PlannerVector.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (!parsed.success) throw new Error(`${f}: ${z.prettifyError(parsed.error)}`);
      return { name: f.slice(0, -'.json'.length), vector: parsed.data };
    });
}

/** A plan reduced to what the vectors pin down, for comparison with `expected`. */
export function goldenView(plan: Plan): GoldenOccurrence[] {
  return plan.occurrences.map((o) => ({
    entryId: o.entryId,
    title: o.title,
    nominalStart: o.nominalStart,
    nominalEnd: o.nominalEnd,
    paddedStart: o.paddedStart,
    paddedEnd: o.paddedEnd,
    receiverId: o.receiverId,
    outcome: o.outcome,
    reason: o.reason,
    parts: o.parts,
    cuts: o.cuts,
  }));
}

// ---- builders -------------------------------------------------------------------------------------------

const carrier = (frequencyMHz: number) =>
  ({
    frequencyMHz,
    polarisation: 'H',
    symbolRateKsps: 27500,
    system: 'DVB-S',
    modulation: 'QPSK',
    fec: '3/4',
    lnbLoMHz: 5150,
  }) as const;

/**
 * Sample tuning (DOMAIN.md §2, 2007 tables — sample data): `cctv1` and `cctv2` share the 3840 MHz
 * carrier; `gstv` is alone on 3880 MHz.
 */
export const SAMPLE_TUNING: ScheduleDocumentInput['tuning'] = {
  cctv1: { key: 'cctv1', name: 'CCTV-1', serviceId: 1, transponder: carrier(3840) },
  cctv2: { key: 'cctv2', name: 'CCTV-2', serviceId: 2, transponder: carrier(3840) },
  gstv: { key: 'gstv', name: 'Gansu TV', serviceId: 101, transponder: carrier(3880) },
};

type EntryInput = ScheduleDocumentInput['entries'][number];
type Common = Omit<Extract<EntryInput, { kind: 'recording' }>, 'kind' | 'class' | 'record'>;

/** An operator (or, with `cls`, mandated) recording with zero padding unless given. */
export function recording(
  fields: Partial<Common> & Pick<Common, 'id' | 'service' | 'when'>,
  cls: 'operator' | 'mandated' = 'operator',
): EntryInput {
  return {
    rev: 1,
    createdAt: '2026-02-01T00:00:00Z',
    title: fields.id,
    priority: 0,
    padBeforeMs: 0,
    padAfterMs: 0,
    ...fields,
    kind: 'recording',
    class: cls,
    record: true,
  };
}

/** A conference with zero padding and pre-roll unless given. */
export function conference(
  fields: Partial<Common> &
    Pick<Common, 'id' | 'service' | 'when'> & { preRollMs?: number; record?: boolean },
): EntryInput {
  return {
    rev: 1,
    createdAt: '2026-02-01T00:00:00Z',
    title: fields.id,
    priority: 0,
    padBeforeMs: 0,
    padAfterMs: 0,
    preRollMs: 0,
    record: true,
    ...fields,
    kind: 'conference',
    class: 'conference',
  };
}

/** A one-off `when`. */
export function once(start: string, end: string): ScheduleEntry['when'] {
  return { type: 'once', start, end };
}

/** A validated document: one service-sharing receiver, Asia/Shanghai and the sample tuning unless given. */
export function scheduleDocument(
  fields: Partial<ScheduleDocumentInput> & Pick<ScheduleDocumentInput, 'entries'>,
) {
  return ScheduleDocument.parse({
    version: { epoch: 1, n: 1 },
    issuedAt: '2026-02-01T00:00:00Z',
    plannerVersion: 1,
    timeZone: 'Asia/Shanghai',
    receivers: [{ id: 'r1', sharing: 'service' }],
    tuning: SAMPLE_TUNING,
    ...fields,
  });
}
