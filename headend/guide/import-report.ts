/**
 * What an XMLTV import tells its user (issue 5: "a report of what changed"): per service what was added,
 * moved, removed, updated or left unchanged and which local days that touched; channels that mapped and
 * those that did not; suspicious time offsets; every refused programme with its reason and line. Plain
 * data, structured-clone safe (it crosses the worker boundary) and stored as JSON with the run.
 */
import type { MappedBy } from './xmltv-channels.js';
import type { Reject, RejectCode } from './xmltv-programme.js';

/** A programme as the report shows it. */
export interface ReportProgramme {
  programmeId: string;
  title: string;
  start: string;
  stop: string;
}

/** One service's outcome. */
export interface ServiceReport {
  service: string;
  /** The replaced window: [first start, last stop) of the imported programmes. */
  window: { start: string; end: string };
  added: number;
  moved: number;
  removed: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** Local dates (in the headend's time zone) whose programmes changed: republish these guide days. */
  changedDates: string[];
  /** The moves (first {@link REPORT_DETAIL_CAP}), from → to. */
  moves: { programmeId: string; title: string; from: { start: string; stop: string }; to: ReportProgramme }[];
  /** The removals (first {@link REPORT_DETAIL_CAP}). */
  removals: ReportProgramme[];
}

/** A channel offset worth a look (DOMAIN.md §5: real feeds get offsets wrong). */
export interface SuspiciousOffset {
  channel: string;
  /** `missing`: no offset (taken as UTC); `unexpected`: not the time zone's offset; `out-of-range`: refused. */
  kind: 'missing' | 'unexpected' | 'out-of-range';
  /** The offset as written, e.g. `+0900`; null when none was written. */
  offset: string | null;
  /** What the headend's time zone expected at that time, e.g. `+0800`. */
  expected: string | null;
  count: number;
  /** First programme affected. */
  example: { line: number; start?: string; title?: string };
}

/** The whole report of one import. */
export interface ImportReport {
  runId: number;
  source: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Bytes read from the source (after decompression). */
  bytes: number;
  channels: {
    /** Channels that had programmes in the file. */
    total: number;
    mapped: { channel: string; service: string; by: MappedBy }[];
    unmapped: { channel: string; reason: string; programmes: number }[];
  };
  services: ServiceReport[];
  totals: {
    /** `<programme>` elements read. */
    programmes: number;
    /** Programmes now in the guide from this file. */
    imported: number;
    added: number;
    moved: number;
    removed: number;
    updated: number;
    unchanged: number;
    rejected: number;
    /** Programmes of channels that map to no service (skipped, not rejected). */
    unmapped: number;
    /** Missing stops filled with the next programme's start. */
    stopsFilled: number;
    /** Programmes cut back to the next one's start. */
    overlapsTrimmed: number;
    /** Old programmes deleted by the retention rule. */
    pruned: number;
  };
  suspiciousOffsets: SuspiciousOffset[];
  /** Refused programmes (first {@link REPORT_REJECT_CAP}); `rejectCounts` has them all. */
  rejects: Reject[];
  rejectCounts: Partial<Record<RejectCode, number>>;
  /** Recoverable oddities of the file (unknown entities…), one line each. */
  warnings: string[];
}

/** Detail rows kept per service for moves and removals. */
export const REPORT_DETAIL_CAP = 50;
/** Refused programmes listed in full. */
export const REPORT_REJECT_CAP = 200;

/** Why an import did not happen at all (nothing was changed). */
export type GuideImportErrorCode =
  | 'XML_SYNTAX'
  | 'NOT_XMLTV'
  | 'ENCODING'
  | 'SOURCE'
  | 'TOO_LARGE'
  | 'TIMEOUT'
  | 'NOT_LAN'
  | 'ABORTED'
  | 'WORKER';

/** An import that changed nothing, with a code and (for XML errors) where in the file it failed. */
export class GuideImportError extends Error {
  override readonly name = 'GuideImportError';
  constructor(
    readonly code: GuideImportErrorCode,
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }

  /** Structured-clone form for the worker's reply. */
  toJSON(): { code: GuideImportErrorCode; message: string; line?: number; column?: number } {
    const o: { code: GuideImportErrorCode; message: string; line?: number; column?: number } = {
      code: this.code,
      message: this.message,
    };
    if (this.line !== undefined) o.line = this.line;
    if (this.column !== undefined) o.column = this.column;
    return o;
  }
}
