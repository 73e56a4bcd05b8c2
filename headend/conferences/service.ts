/**
 * Video conferences (issue 7; DESIGN.md §1, §5): create, edit, start now, extend, end early, cancel. A
 * conference is carried to its stations by a schedule entry of kind `conference` (class `conference`, the
 * highest: colliding operator recordings are cut by the planner and their operators see it in advance).
 * Every change is ONE transaction: the entry change (headend/scheduling `applyChange`, which writes its
 * own `entry.*` audit row), the new document version of every station it touches (`issueDocuments`, the
 * outbox), the conference row with the version each station needs, and a `conference.*` audit row with
 * before/after; the documents are published after the commit (DESIGN.md §7).
 *
 * Extending or ending early moves the end of the running occurrence in place (same entry, same start: one
 * continuous recording, DESIGN.md §5). "Start now" moves the start, which is the occurrence's identity:
 * allowed only before the conference started, when nothing of it ran yet.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import type { EntryChange, Scheduling } from '../scheduling/entries.js';
import type { Store } from '../store/index.js';
import type { IssuedDoc } from '../store/schedules.js';
import {
  type AttendanceTracker,
  createAttendanceTracker,
  type FleetView,
  type RowsListener,
} from './attendance-tracker.js';
import {
  type ConferenceChange,
  type ConferenceSaveResult,
  ceilSecond,
  checkTimes,
  createChangeRunner,
  invalid,
  iso,
  LATE_START_TOLERANCE_MS,
} from './change-runner.js';
import {
  ConferenceInput,
  ConferencePatch,
  type ConferencePhase,
  type ConferenceView,
  ExtendInput,
} from './conference-schema.js';
import { createConferencesRepo, type StoredConference } from './conferences-repo.js';
import { ConferenceError } from './errors.js';
import { boardOf, type ConferenceBoard, reportOf } from './queries.js';
import type { ConferenceReport } from './report.js';

export type { ConferenceChange, ConferenceSaveResult } from './change-runner.js';

export interface ConferenceServiceDeps {
  store: Store;
  scheduling: Pick<Scheduling, 'planChange' | 'entries'>;
  /** Publishes the newest document of these stations (the publisher's `kickSchedules`). */
  publish(stationIds: readonly string[], docs?: readonly IssuedDoc[]): void;
  fleet: FleetView;
  timing: Pick<TimingProfile, 'tunePreRollMs' | 'receiverLockTimeoutMs'>;
  timeZone: string;
  logger: Logger;
  now?: () => Date;
  newId?: () => string;
  /** Attendance recompute period (default 1000 ms). */
  tickMs?: number;
}

/** Push → applied of one station (issue 7's measurement). */
export interface ApplyTime {
  stationId: string;
  pushedAt: string;
  appliedSeenAt: string | null;
}

export interface Conferences {
  create(input: unknown, actor: string): ConferenceSaveResult;
  update(id: string, patch: unknown, actor: string): ConferenceSaveResult;
  startNow(id: string, actor: string): ConferenceSaveResult;
  extend(id: string, input: unknown, actor: string): ConferenceSaveResult;
  endNow(id: string, actor: string): ConferenceSaveResult;
  cancel(id: string, actor: string): ConferenceSaveResult;
  get(id: string): ConferenceView | undefined;
  /** Newest first; `stationId` keeps those reaching that station. */
  list(opts?: { stationId?: string; phase?: ConferencePhase; limit?: number }): ConferenceView[];
  board(id: string): ConferenceBoard;
  report(id: string): ConferenceReport;
  applyTimes(id: string): ApplyTime[];
  onChange(listener: (c: ConferenceChange) => void): () => void;
  onRows(listener: RowsListener): () => void;
  readonly attendance: AttendanceTracker;
  start(): void;
  stop(): void;
}

export function createConferenceService(deps: ConferenceServiceDeps): Conferences {
  const { store, scheduling } = deps;
  const now = deps.now ?? (() => new Date());
  const repo = createConferencesRepo(store.db);
  const log = deps.logger;
  const newId = deps.newId ?? (() => `conf-${randomBytes(6).toString('base64url')}`);
  const changeListeners = new Set<(c: ConferenceChange) => void>();
  const tracker = createAttendanceTracker({
    store,
    repo,
    fleet: deps.fleet,
    timing: deps.timing,
    now,
    logger: log,
    ...(deps.tickMs === undefined ? {} : { tickMs: deps.tickMs }),
  });

  const phaseOf = (c: StoredConference, nowMs: number): ConferencePhase => {
    if (c.cancelledAt) return 'cancelled';
    if (nowMs >= Date.parse(c.end)) return 'ended';
    if (nowMs >= Date.parse(c.start)) return 'live';
    return nowMs >= Date.parse(c.start) - c.preRollMs ? 'pre-roll' : 'scheduled';
  };

  const view = (c: StoredConference): ConferenceView => ({
    id: c.id,
    rev: scheduling.entries.get(c.id)?.rev ?? 0,
    title: c.title,
    organiser: c.organiser,
    notes: c.notes,
    service: c.service,
    serviceName: store.lineup.service(c.service)?.name ?? null,
    start: c.start,
    end: c.end,
    preRollMs: c.preRollMs,
    record: c.record,
    target: c.target,
    stations: repo.stations(c.id).map((s) => s.stationId),
    phase: phaseOf(c, now().getTime()),
    createdBy: c.createdBy,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    cancelledAt: c.cancelledAt,
    cancelledBy: c.cancelledBy,
    startedNowAt: c.startedNowAt,
    endedEarlyAt: c.endedEarlyAt,
    warnings: c.warnings,
  });
  const runner = createChangeRunner({
    store,
    scheduling,
    repo,
    tracker,
    publish: deps.publish,
    timeZone: deps.timeZone,
    now,
    logger: log,
    view,
    emit(change) {
      for (const l of changeListeners) {
        try {
          l(change);
        } catch (err) {
          log.error({ event: 'conference-listener-failed', err: (err as Error).message }, 'a listener threw');
        }
      }
    },
  });
  const { commit, edit, live, entryTarget } = runner;

  const service: Conferences = {
    attendance: tracker,
    create(input, actor) {
      const parsed = ConferenceInput.safeParse(input);
      if (!parsed.success) throw invalid(parsed.error);
      const p = parsed.data;
      const nowMs = now().getTime();
      if (Date.parse(p.end) <= nowMs)
        throw new ConferenceError('INVALID_INPUT', 'end: the conference would already be over', [
          { path: 'end', message: 'must be in the future' },
        ]);
      if (Date.parse(p.start) < nowMs - LATE_START_TOLERANCE_MS)
        throw new ConferenceError('INVALID_INPUT', 'start: in the past (start it now instead)', [
          { path: 'start', message: 'must not be in the past' },
        ]);
      const id = p.id ?? newId();
      if (repo.get(id)) throw new ConferenceError('CONFLICT', `conference ${id} already exists`);
      return commit('create', actor, null, () => {
        const change: EntryChange = {
          op: 'create',
          input: {
            id,
            kind: 'conference',
            title: p.title,
            service: p.service,
            when: { type: 'once', start: p.start, end: p.end },
            target: entryTarget(p.target),
            record: p.record,
            padBeforeMs: 0,
            padAfterMs: 0,
            ...(p.preRollMs === undefined ? {} : { preRollMs: p.preRollMs }),
          },
        };
        const at = now().toISOString();
        const next: StoredConference = {
          id,
          title: p.title,
          organiser: p.organiser,
          notes: p.notes,
          service: p.service,
          start: p.start,
          end: p.end,
          preRollMs: p.preRollMs ?? 0,
          record: p.record,
          target: p.target,
          warnings: [],
          createdBy: actor,
          createdAt: at,
          updatedAt: at,
          cancelledAt: null,
          cancelledBy: null,
          startedNowAt: null,
          endedEarlyAt: null,
        };
        return { next, change };
      });
    },
    update(id, patchInput, actor) {
      const parsed = ConferencePatch.safeParse(patchInput);
      if (!parsed.success) throw invalid(parsed.error);
      const p = parsed.data;
      return edit(
        id,
        actor,
        'update',
        (cur, nowMs) => {
          const started = nowMs >= Date.parse(cur.start);
          const ended = nowMs >= Date.parse(cur.end);
          const changes = (k: 'service' | 'start' | 'record' | 'preRollMs') =>
            p[k] !== undefined && p[k] !== cur[k];
          if (
            ended &&
            (changes('service') || changes('start') || p.end !== undefined || p.target !== undefined)
          )
            throw new ConferenceError(
              'CONFLICT',
              'the conference has ended: only title, organiser and notes can change',
            );
          if (
            started &&
            (changes('service') || changes('start') || changes('record') || changes('preRollMs'))
          )
            throw new ConferenceError(
              'CONFLICT',
              'the conference is running: its service, start, recording and pre-roll cannot change (extend or end it instead)',
            );
          const next: StoredConference = {
            ...cur,
            title: p.title ?? cur.title,
            organiser: p.organiser ?? cur.organiser,
            notes: p.notes ?? cur.notes,
            service: p.service ?? cur.service,
            start: p.start ?? cur.start,
            end: p.end ?? cur.end,
            target: p.target ?? cur.target,
            record: p.record ?? cur.record,
            preRollMs: p.preRollMs ?? cur.preRollMs,
          };
          checkTimes(next, cur, nowMs);
          return { next };
        },
        p.expectedRev,
      );
    },
    startNow(id, actor) {
      return edit(id, actor, 'start-now', (cur, nowMs) => {
        if (nowMs >= Date.parse(cur.start))
          throw new ConferenceError('CONFLICT', `conference ${id} already started at ${cur.start}`);
        const next = { ...cur, start: iso(ceilSecond(nowMs)), startedNowAt: new Date(nowMs).toISOString() };
        checkTimes(next, cur, nowMs);
        return { next, details: { from: cur.start, to: next.start } };
      });
    },
    extend(id, input, actor) {
      const parsed = ExtendInput.safeParse(input);
      if (!parsed.success) throw invalid(parsed.error);
      const x = parsed.data;
      return edit(id, actor, 'extend', (cur, nowMs) => {
        const endMs = Date.parse(cur.end);
        if (nowMs >= endMs)
          throw new ConferenceError('CONFLICT', `conference ${id} already ended at ${cur.end}`);
        const to = 'minutes' in x ? iso(endMs + x.minutes * 60_000) : x.end;
        if (Date.parse(to) <= endMs)
          throw new ConferenceError('INVALID_INPUT', `end: ${to} is not after the current end ${cur.end}`, [
            { path: 'end', message: 'must be after the current end (end it now to shorten it)' },
          ]);
        const next = { ...cur, end: to };
        checkTimes(next, cur, nowMs);
        return { next, details: { from: cur.end, to } };
      });
    },
    endNow(id, actor) {
      return edit(id, actor, 'end-now', (cur, nowMs) => {
        if (nowMs < Date.parse(cur.start))
          throw new ConferenceError('CONFLICT', `conference ${id} has not started yet: cancel it instead`);
        if (nowMs >= Date.parse(cur.end))
          throw new ConferenceError('CONFLICT', `conference ${id} already ended at ${cur.end}`);
        const to = iso(Math.max(ceilSecond(nowMs), Date.parse(cur.start) + 1000));
        return {
          next: { ...cur, end: to, endedEarlyAt: new Date(nowMs).toISOString() },
          details: { from: cur.end, to },
        };
      });
    },
    cancel(id, actor) {
      const cur = live(id);
      return commit('cancel', actor, cur, () => {
        if (now().getTime() >= Date.parse(cur.end))
          throw new ConferenceError('CONFLICT', `conference ${id} already ended at ${cur.end}`);
        const at = now().toISOString();
        return { next: { ...cur, cancelledAt: at, cancelledBy: actor }, change: { op: 'delete', id } };
      });
    },
    get(id) {
      const c = repo.get(id);
      return c ? view(c) : undefined;
    },
    list(opts = {}) {
      const nowMs = now().getTime();
      return repo
        .list({
          ...(opts.stationId === undefined ? {} : { stationId: opts.stationId }),
          limit: opts.limit ?? 200,
        })
        .filter((c) => opts.phase === undefined || phaseOf(c, nowMs) === opts.phase)
        .map(view);
    },
    board(id) {
      const c = repo.get(id);
      if (!c) throw new ConferenceError('NOT_FOUND', `no conference ${id}`);
      return boardOf(store, view(c), tracker.rows(c), now());
    },
    report(id) {
      const c = repo.get(id);
      if (!c) throw new ConferenceError('NOT_FOUND', `no conference ${id}`);
      return reportOf(store, repo, c, tracker.rows(c), now());
    },
    applyTimes: (id) =>
      repo
        .stations(id)
        .map((s) => ({ stationId: s.stationId, pushedAt: s.pushedAt, appliedSeenAt: s.appliedSeenAt })),
    onChange(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    onRows: (listener) => tracker.onRows(listener),
    start: () => tracker.start(),
    stop: () => tracker.stop(),
  };
  return service;
}
