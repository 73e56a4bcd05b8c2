/**
 * The streaming half of an XMLTV import: bytes → parsed items → normalised programmes, grouped into runs
 * of one channel, validated and staged (import-staging.ts), while channels, suspicious offsets and
 * refusals are collected for the report. Nothing here touches the guide itself.
 */
import type { ImportOptions } from './guide-import.js';
import { validateServiceWindow } from './guide-validate.js';
import {
  GuideImportError,
  type ImportReport,
  REPORT_REJECT_CAP,
  type SuspiciousOffset,
} from './import-report.js';
import type { ImportStatements, SeqRange } from './import-staging.js';
import type { LocalCalendar } from './local-day.js';
import { type ChunkSource, XmlSyntaxError, XmltvFormatError, XmltvStreamParser } from './xmltv-parse.js';
import { type NormalizedProgramme, normalizeProgramme, type Reject } from './xmltv-programme.js';
import { formatOffset } from './xmltv-time.js';

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** What streaming collects besides the staged rows: channels, offsets, refusals (all small). */
export class ReadState {
  bytes = 0;
  programmes = 0;
  readonly channels = new Map<string, string[]>();
  readonly offsets = new Map<string, SuspiciousOffset>();
  readonly rejects: Reject[] = [];
  readonly rejectCounts: ImportReport['rejectCounts'] = {};
  warnings: string[] = [];

  constructor(
    private readonly calendar: LocalCalendar,
    private readonly opts: ImportOptions,
  ) {}

  reject(r: Reject): void {
    this.rejectCounts[r.code] = (this.rejectCounts[r.code] ?? 0) + 1;
    if (this.rejects.length < REPORT_REJECT_CAP) this.rejects.push(r);
    if (r.code === 'OFFSET_OUT_OF_RANGE') {
      const m = /offset ([+-]\d{4})/.exec(r.message);
      const ex: SuspiciousOffset['example'] = { line: r.line };
      if (r.title !== undefined) ex.title = r.title;
      this.noteOffset(r.channel, 'out-of-range', m?.[1] ?? null, null, ex);
    }
  }

  checkOffset(p: NormalizedProgramme): void {
    const mode = this.opts.expectedOffset ?? 'time-zone';
    if (mode === null) return;
    const expected = mode === 'time-zone' ? this.calendar.offsetAt(p.startMs) : mode;
    if (p.offsetMinutes === expected) return;
    const kind = p.offsetMinutes === null ? 'missing' : 'unexpected';
    const written = p.offsetMinutes === null ? null : formatOffset(p.offsetMinutes);
    this.noteOffset(p.channel, kind, written, formatOffset(expected), {
      line: p.line,
      start: iso(p.startMs),
      title: p.title,
    });
  }

  private noteOffset(
    channel: string,
    kind: SuspiciousOffset['kind'],
    offset: string | null,
    expected: string | null,
    example: SuspiciousOffset['example'],
  ): void {
    const key = `${channel}\u0000${kind}\u0000${offset}`;
    const o = this.offsets.get(key);
    if (o) o.count++;
    else this.offsets.set(key, { channel, kind, offset, expected, count: 1, example });
  }
}

/** One channel's validation outcome (rejects capped; counts complete). */
export interface ChannelResult {
  rejects: Reject[];
  counts: ImportReport['rejectCounts'];
  rejected: number;
  /** Programmes accepted (staged). */
  accepted: number;
  /** Where they were staged; null when none was accepted. */
  staged: SeqRange | null;
  /** Local dates of their starts (a first import changes all of them; nothing is read back). */
  dates: string[];
  stopsFilled: number;
  overlapsTrimmed: number;
  window: { startMs: number; endMs: number } | null;
}

/** Largest run of one channel held in memory; beyond it the channel takes the re-read path. */
const MAX_GROUP = 5000;

/**
 * Groups the stream into runs of one channel. XMLTV files are normally ordered by channel, then time:
 * such a run is the channel's whole window, validated in memory and its accepted programmes staged once.
 * A channel that shows up again later (time-ordered files) is "split": its programmes are staged as
 * read and validated at the end from the staging table — slower, but just as correct, and memory stays
 * bounded either way.
 */
export class ChannelGrouper {
  private current: string | null = null;
  private group: NormalizedProgramme[] = [];
  private readonly seen = new Set<string>();
  readonly split = new Set<string>();
  readonly results = new Map<string, ChannelResult>();
  /** Programmes read per channel (those that parsed; the report's unmapped counts use them). */
  readonly counts = new Map<string, number>();

  constructor(
    private readonly stmts: ImportStatements,
    private readonly calendar: LocalCalendar,
    private readonly validateOpts: { maxDurationMs?: number },
  ) {}

  push(p: NormalizedProgramme): void {
    if (p.channel !== this.current) {
      this.flush();
      this.current = p.channel;
      if (this.seen.has(p.channel)) this.markSplit(p.channel);
      this.seen.add(p.channel);
    }
    this.group.push(p);
    if (this.group.length >= MAX_GROUP) {
      this.markSplit(p.channel);
      this.flush();
    }
  }

  /** A channel seen before (or too long to hold): everything it staged so far goes back to raw rows. */
  private markSplit(channel: string): void {
    if (this.split.has(channel)) return;
    this.split.add(channel);
    const earlier = this.results.get(channel);
    this.results.delete(channel);
    // Its earlier run was validated alone; validation must see the channel whole (overlaps, duplicates
    // and missing stops across the runs), so that run is staged again as the file said it.
    if (earlier !== undefined) this.stmts.unstage(channel, earlier.staged);
  }

  /** Ends the current run. */
  flush(): void {
    const group = this.group;
    const channel = this.current;
    this.group = [];
    if (group.length === 0 || channel === null) return;
    this.counts.set(channel, (this.counts.get(channel) ?? 0) + group.length);
    if (this.split.has(channel)) {
      this.stmts.stageRaw(group);
      return;
    }
    this.validateAndStage(channel, group);
  }

  /** Validates every split channel from what was staged for it. */
  finishSplit(): void {
    for (const channel of this.split) this.validateAndStage(channel, this.stmts.stagedSources(channel), true);
  }

  private validateAndStage(channel: string, input: NormalizedProgramme[], final = false): void {
    const v = validateServiceWindow(channel, input, this.validateOpts);
    const staged = this.stmts.stage(v.programmes, v.sources);
    // Refused programmes are kept as written in case the channel turns up again later in the file.
    if (!final) this.stmts.stageRaw(v.rejectedSources);
    const counts: ImportReport['rejectCounts'] = {};
    for (const r of v.rejects) counts[r.code] = (counts[r.code] ?? 0) + 1;
    const dates: string[] = [];
    let lastDate = '';
    for (const p of v.programmes) {
      const d = this.calendar.dateOf(p.startMs);
      if (d !== lastDate && !dates.includes(d)) dates.push(d);
      lastDate = d;
    }
    this.results.set(channel, {
      rejects: v.rejects.slice(0, REPORT_REJECT_CAP),
      counts,
      rejected: v.rejects.length,
      accepted: v.programmes.length,
      staged,
      dates,
      stopsFilled: v.stopsFilled,
      overlapsTrimmed: v.overlapsTrimmed,
      window: v.window,
    });
  }
}

/** Streams `source` into the staging tables (through `grouper`); throws on broken XML or a bad source. */
export async function readIntoStaging(
  source: ChunkSource,
  state: ReadState,
  grouper: ChannelGrouper,
  opts: ImportOptions,
): Promise<void> {
  const parser = new XmltvStreamParser(opts.parser);
  const normOpts = opts.preferredLangs === undefined ? {} : { preferredLangs: opts.preferredLangs };
  const take = (items: ReturnType<XmltvStreamParser['write']>) => {
    for (const item of items) {
      if (item.kind === 'channel') {
        if (item.id === '') continue;
        const names = state.channels.get(item.id) ?? [];
        for (const n of item.displayNames) if (!names.includes(n.text)) names.push(n.text);
        state.channels.set(item.id, names);
        continue;
      }
      state.programmes++;
      const r = normalizeProgramme(item, normOpts);
      if (!r.ok) {
        state.reject(r.reject);
        continue;
      }
      state.checkOffset(r.value);
      grouper.push(r.value);
    }
  };
  for await (const chunk of source) {
    if (opts.signal?.aborted) throw new GuideImportError('ABORTED', 'the import was cancelled');
    state.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    take(parser.write(chunk));
  }
  take(parser.end());
  grouper.flush();
  grouper.finishSplit();
  state.warnings = parser.warnings.map(
    (w) => `${w.code}: ${w.count}× (first on line ${w.firstLine}: ${w.example}) — kept as written`,
  );
}

export function toImportError(err: unknown): GuideImportError {
  if (err instanceof GuideImportError) return err;
  if (err instanceof XmlSyntaxError) {
    const code = err.code === 'ENCODING' ? 'ENCODING' : 'XML_SYNTAX';
    return new GuideImportError(code, `not well-formed XML: ${err.message}`, err.line, err.column);
  }
  if (err instanceof XmltvFormatError) return new GuideImportError('NOT_XMLTV', err.message, err.line);
  const e = err as Error & { code?: string };
  return new GuideImportError('SOURCE', `could not read the source: ${e.message ?? String(err)}`);
}
