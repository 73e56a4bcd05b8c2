/**
 * XMLTV import (issue 5 Guide, DESIGN.md §7, DOMAIN.md §5): stream the file into a staging table,
 * then, only if the whole file parsed, replace each service's window in ONE transaction per service and
 * return a report of what changed. Broken XML changes nothing. Runs on whatever connection it is given —
 * in the headend that is the import worker's own connection (import-worker.ts), so the main event loop
 * (and the embedded broker in it) keeps answering while this works.
 */
import type { Database } from 'better-sqlite3';
import { createChannelMapRepo } from './guide-store.js';
import { type MoveCandidate, type MoveMatchOptions, pairMoves } from './guide-validate.js';
import {
  ChannelGrouper,
  type ChannelResult,
  ReadState,
  readIntoStaging,
  toImportError,
} from './import-read.js';
import {
  GuideImportError,
  type ImportReport,
  REPORT_DETAIL_CAP,
  REPORT_REJECT_CAP,
  type ServiceReport,
} from './import-report.js';
import { type AppliedWindow, ImportStatements } from './import-staging.js';
import { createLocalCalendar, type LocalCalendar } from './local-day.js';
import { ChannelMapper, type LineupService } from './xmltv-channels.js';
import type { ChunkSource, XmltvParserOptions } from './xmltv-parse.js';
import type { RejectCode } from './xmltv-programme.js';

/** Options of {@link importGuide}. */
export interface ImportOptions {
  /** What the run is called in the report and the runs table: a path, `upload:name`, a URL. */
  source: string;
  /** The line-up services programmes may be mapped to. */
  lineup: readonly LineupService[];
  /** The headend's IANA time zone: local days of the guide documents and the expected offset. */
  timeZone: string;
  /**
   * Offset every time is expected to carry, minutes east of UTC: `'time-zone'` (default) = the time
   * zone's offset at that instant (+0800 for Asia/Shanghai); a number; or null to expect nothing.
   */
  expectedOffset?: 'time-zone' | number | null;
  /** Preferred languages for the stored title and description. Default `['zh', 'en']`. */
  preferredLangs?: readonly string[];
  /** Longest programme accepted. Default 24 h. */
  maxDurationMs?: number;
  /** How moved programmes are recognised in the report (see pairMoves). */
  moveMatch?: MoveMatchOptions;
  /** Programmes that ended longer ago than this are deleted after the import. Default 7 days; null keeps all. */
  keepPastMs?: number | null;
  /** Clock (epoch ms). */
  now?: () => number;
  /** Cancels the import before anything is applied. */
  signal?: AbortSignal;
  /** Parser limits. */
  parser?: XmltvParserOptions;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Imports one XMLTV source. Resolves with the report; rejects with {@link GuideImportError} (nothing changed). */
export async function importGuide(
  db: Database,
  source: ChunkSource,
  opts: ImportOptions,
): Promise<ImportReport> {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const calendar = createLocalCalendar(opts.timeZone);
  const stmts = new ImportStatements(db);
  const runId = stmts.beginRun(opts.source, startedAt);
  const state = new ReadState(calendar, opts);
  const grouper = new ChannelGrouper(
    stmts,
    calendar,
    opts.maxDurationMs === undefined ? {} : { maxDurationMs: opts.maxDurationMs },
  );
  try {
    await readIntoStaging(source, state, grouper, opts);
  } catch (err) {
    stmts.dropStaging();
    const e = toImportError(err);
    stmts.endRun(runId, now(), 'failed', `${e.code}: ${e.message}`, null);
    throw e;
  }
  try {
    if (opts.signal?.aborted) throw new GuideImportError('ABORTED', 'the import was cancelled');
    const report = applyStaged(db, stmts, state, grouper, opts, calendar, runId, startedAt, now);
    stmts.endRun(runId, now(), 'ok', null, JSON.stringify(report));
    return report;
  } catch (err) {
    const e = err instanceof GuideImportError ? err : new GuideImportError('SOURCE', (err as Error).message);
    stmts.endRun(runId, now(), 'failed', `${e.code}: ${e.message}`, null);
    throw e;
  } finally {
    stmts.dropStaging();
  }
}

function applyStaged(
  db: Database,
  stmts: ImportStatements,
  state: ReadState,
  grouper: ChannelGrouper,
  opts: ImportOptions,
  calendar: LocalCalendar,
  runId: number,
  startedAt: number,
  now: () => number,
): ImportReport {
  const mapper = new ChannelMapper(createChannelMapRepo(db).list(), opts.lineup);
  const report: ImportReport = {
    runId,
    source: opts.source,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: '',
    durationMs: 0,
    bytes: state.bytes,
    channels: { total: 0, mapped: [], unmapped: [] },
    services: [],
    totals: {
      programmes: state.programmes,
      imported: 0,
      added: 0,
      moved: 0,
      removed: 0,
      updated: 0,
      unchanged: 0,
      rejected: 0,
      unmapped: 0,
      stopsFilled: 0,
      overlapsTrimmed: 0,
      pruned: 0,
    },
    suspiciousOffsets: [...state.offsets.values()].sort((a, b) => a.channel.localeCompare(b.channel)),
    rejects: state.rejects,
    rejectCounts: state.rejectCounts,
    warnings: state.warnings,
  };
  report.totals.rejected = Object.values(state.rejectCounts).reduce((a, b) => a + b, 0);

  // Channel → service. One channel per service: a second channel mapping to a taken service is reported.
  const feeding = new Map<string, string>();
  const read = [...grouper.counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  report.channels.total = read.length;
  for (const [channel, n] of read) {
    const res = mapper.resolve({ id: channel, displayNames: state.channels.get(channel) ?? [] });
    const taken = res.ok ? feeding.get(res.service) : undefined;
    if (!res.ok || taken !== undefined) {
      const reason = res.ok
        ? `also maps to service "${res.service}", which channel "${taken}" already feeds`
        : res.detail;
      report.channels.unmapped.push({ channel, reason, programmes: n });
      report.totals.unmapped += n;
      continue;
    }
    feeding.set(res.service, channel);
    report.channels.mapped.push({ channel, service: res.service, by: res.by });
  }

  const importedAt = now();
  for (const [service, channel] of [...feeding].sort((a, b) => a[0].localeCompare(b[0]))) {
    const v = grouper.results.get(channel);
    if (v === undefined) continue;
    for (const r of v.rejects) if (report.rejects.length < REPORT_REJECT_CAP) report.rejects.push(r);
    for (const [code, n] of Object.entries(v.counts) as [RejectCode, number][]) {
      report.rejectCounts[code] = (report.rejectCounts[code] ?? 0) + n;
    }
    report.totals.rejected += v.rejected;
    report.totals.stopsFilled += v.stopsFilled;
    report.totals.overlapsTrimmed += v.overlapsTrimmed;
    if (v.window === null || v.staged === null) continue;
    const applied = stmts.applyWindow(service, v.window, v.staged, opts.source, importedAt);
    const svc = serviceReport(service, v, applied, calendar, opts.moveMatch);
    report.services.push(svc);
    report.totals.imported += applied.accepted;
    report.totals.added += svc.added;
    report.totals.moved += svc.moved;
    report.totals.removed += svc.removed;
    report.totals.updated += svc.updated;
    report.totals.unchanged += svc.unchanged;
  }
  const keepPast = opts.keepPastMs === undefined ? 7 * 86_400_000 : opts.keepPastMs;
  if (keepPast !== null) report.totals.pruned = stmts.prune(importedAt - keepPast);
  const finished = now();
  report.finishedAt = new Date(finished).toISOString();
  report.durationMs = finished - startedAt;
  return report;
}

function serviceReport(
  service: string,
  v: ChannelResult,
  a: AppliedWindow,
  calendar: LocalCalendar,
  moveMatch: MoveMatchOptions | undefined,
): ServiceReport {
  const win = v.window as { startMs: number; endMs: number };
  // Pair what vanished with what appeared (hashed ids change with the start) so moves read as moves.
  const paired =
    a.added !== null && a.removed.length > 0 && a.added.length > 0
      ? pairMoves(a.removed, a.added, moveMatch)
      : { moved: [], removed: a.removed, added: a.added };
  const moved = [...a.moved, ...paired.moved];
  const dates = new Set<string>(a.firstImport ? v.dates : []);
  for (const ms of a.addedStarts) dates.add(calendar.dateOf(ms));
  for (const ms of a.updatedStarts) dates.add(calendar.dateOf(ms));
  for (const r of a.removed) dates.add(calendar.dateOf(r.startMs));
  for (const m of a.moved) {
    dates.add(calendar.dateOf(m.from.startMs));
    dates.add(calendar.dateOf(m.to.startMs));
  }
  const show = (p: MoveCandidate) => ({
    programmeId: p.programmeId,
    title: p.title,
    start: iso(p.startMs),
    stop: iso(p.stopMs),
  });
  return {
    service,
    window: { start: iso(win.startMs), end: iso(win.endMs) },
    added: a.firstImport ? a.accepted : paired.added === null ? a.addedStarts.length : paired.added.length,
    moved: moved.length,
    removed: paired.removed.length,
    updated: a.updatedStarts.length,
    unchanged: a.firstImport
      ? 0
      : a.accepted - a.addedStarts.length - a.moved.length - a.updatedStarts.length,
    rejected: v.rejected,
    changedDates: [...dates].sort(),
    moves: moved.slice(0, REPORT_DETAIL_CAP).map((m) => ({
      programmeId: m.to.programmeId,
      title: m.to.title,
      from: { start: iso(m.from.startMs), stop: iso(m.from.stopMs) },
      to: show(m.to),
    })),
    removals: paired.removed.slice(0, REPORT_DETAIL_CAP).map(show),
  };
}
