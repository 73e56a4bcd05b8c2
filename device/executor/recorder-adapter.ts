/**
 * Binds the executor's `RecorderPort` to the recorder (device/recorder): one `Recorder` per part the
 * occurrence gets, all writing into the occurrence's one catalogued recording (DESIGN.md §6). A later
 * part, or a resume after a crash, continues from the segments already in the catalogue, so the final
 * manifest lists every segment and the time missing between them.
 *
 * Segments left `writing` by a crash (their ffmpeg was killed by recovery) are measured and verified with
 * ffprobe before anything continues from them, so a power cut loses at most the segment being written.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RecordingOutcome } from '../../protocol/registry.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Clock } from '../link/clock.js';
import type { SpaceGuard } from '../recorder/disk.js';
import { probeSegment } from '../recorder/probe.js';
import { Recorder, type RecorderResult } from '../recorder/recorder.js';
import {
  manifestSegments,
  type RecordingSummary,
  type SegmentRecord,
  segmentIndexOf,
  summarise,
} from '../recorder/segments.js';
import { catalogueSink, segmentRecordsFromCatalogue } from '../recorder/sink.js';
import type { SpawnFn } from '../recorder/spawn.js';
import type { StationStore } from '../store/db.js';
import type { RecorderPort, RecordingFigures, RecordingRun, RunResult, RunSpec } from './ports.js';

export interface RecorderAdapterDeps {
  store: StationStore;
  spawn: SpawnFn;
  clock: Clock;
  logger: Logger;
  timing: Pick<TimingProfile, 'recorderStallMs' | 'recorderSegmentMs' | 'recorderStopGraceMs'>;
  /** Absolute recordings root. */
  root: string;
  space?: SpaceGuard;
  clockTrusted: () => boolean;
  /** Headend time (the executor's time base), for windows. */
  now: () => number;
  ffmpegPath?: string;
  ffprobePath?: string;
}

const RANK: Record<RecordingOutcome, number> = { completed: 0, completed_with_errors: 1, failed: 2 };

export class RecorderAdapter implements RecorderPort {
  /** Results of the parts recorded by this process, per recording. */
  private readonly results = new Map<number, RecorderResult[]>();
  private readonly live = new Map<number, Recorder>();
  /** Content issues detectors noted per recording (RecordingRun.note), for the manifest. */
  private readonly issues = new Map<number, Set<string>>();

  constructor(private readonly deps: RecorderAdapterDeps) {}

  /** Recorders running now (telemetry). */
  running(): number {
    return this.live.size;
  }

  start(spec: RunSpec): RecordingRun {
    const d = this.deps;
    const rec = d.store.recordings.get(spec.recordingId);
    const recorder = new Recorder({
      spawn: d.spawn,
      clock: d.clock,
      logger: d.logger.child({ recordingId: spec.recordingId }),
      timing: d.timing,
      sink: catalogueSink(d.store, {
        id: spec.recordingId,
        entryId: rec?.entryId ?? 'unknown',
        nominalStart: rec?.nominalStart ?? new Date(spec.plannedStartMs).toISOString(),
      }),
      ...(d.space ? { space: d.space } : {}),
      ...(d.ffmpegPath ? { ffmpegPath: d.ffmpegPath } : {}),
      ...(d.ffprobePath ? { ffprobePath: d.ffprobePath } : {}),
    });
    // Input bitrate "over the last period" (protocol telemetry): bytes written between two samples. The
    // segment is written as packets arrive (flush_packets), so a frozen input reads 0 at the next sample.
    let sampleBytes = 0;
    let sampleAt = d.clock.monotonic();
    let rateBps = 0;
    if (spec.onStall) recorder.on('stall', spec.onStall);
    let ccErrors = 0;
    recorder.on('segment', (s) => {
      ccErrors += s.ccErrors;
    });
    this.live.set(spec.recordingId, recorder);
    const done = (async (): Promise<RunResult> => {
      try {
        const previous = await this.cataloguedSegments(spec.recordingId, spec.serviceId);
        // Windows are in headend time; the recorder's clock is the local one: convert by the offset.
        const shift = d.clock.now() - d.now();
        await recorder.start({
          url: spec.url,
          serviceId: spec.serviceId,
          root: d.root,
          dir: path.relative(d.root, spec.dir),
          plannedStart: spec.plannedStartMs + shift,
          end: spec.endMs + shift,
          previous,
          clockTrusted: d.clockTrusted,
        });
      } catch (err) {
        this.live.delete(spec.recordingId);
        return { ok: false, reason: (err as Error).message };
      }
      const result = await recorder.finished;
      this.live.delete(spec.recordingId);
      const list = this.results.get(spec.recordingId) ?? [];
      list.push(result);
      this.results.set(spec.recordingId, list);
      return {
        ok: result.outcome !== 'failed',
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.firstByteAt !== null ? { firstByteAtMs: result.firstByteAt } : {}),
      };
    })();
    return {
      extend: (endMs) => {
        try {
          recorder.extend(endMs + (d.clock.now() - d.now()));
        } catch (err) {
          d.logger.warn({ err: (err as Error).message }, 'extend refused');
        }
      },
      stop: async () => {
        await recorder.stop();
        await done;
      },
      done,
      note: (issue) => {
        const set = this.issues.get(spec.recordingId) ?? new Set<string>();
        set.add(issue.slice(0, 200));
        this.issues.set(spec.recordingId, set);
      },
      figures: () => {
        const now = recorder.status().bytes;
        const mono = d.clock.monotonic();
        if (mono - sampleAt >= 250) {
          // A segment being closed can read low for an instant: keep the last rate, never a negative one.
          if (now >= sampleBytes) rateBps = ((now - sampleBytes) * 8 * 1000) / (mono - sampleAt);
          sampleBytes = now;
          sampleAt = mono;
        }
        return { bitrateBps: Math.max(0, Math.round(rateBps)), bytes: now, ccErrors };
      },
    };
  }

  async finalize(recordingId: number, window: { startMs: number; endMs: number }): Promise<RecordingFigures> {
    const results = this.results.get(recordingId) ?? [];
    this.results.delete(recordingId);
    const last = results[results.length - 1];
    let summary: RecordingSummary;
    let outcome: RecordingOutcome;
    let reason: string | undefined;
    let gapsMs: number;
    let quality: number;
    if (last) {
      // Each part's recorder judged its own window; the parts together are the recording.
      summary = last;
      gapsMs = results.reduce((n, r) => n + r.gapsMs, 0);
      quality = Math.min(...results.map((r) => r.quality));
      const worst = results.reduce(
        (w, r) => (RANK[r.outcome] > RANK[w] ? r.outcome : w),
        'completed' as RecordingOutcome,
      );
      outcome =
        worst === 'failed' && results.some((r) => r.outcome !== 'failed') ? 'completed_with_errors' : worst;
      reason =
        [...new Set(results.map((r) => r.reason).filter((x): x is string => !!x))].join('; ') || undefined;
    } else {
      // Nothing recorded by this process (the window closed while the agent was down): from the catalogue.
      const rec = this.deps.store.recordings.get(recordingId);
      const segments = await this.cataloguedSegments(recordingId, rec?.serviceId ?? 0);
      const shift = this.deps.clock.now() - this.deps.now();
      summary = summarise({
        window: { from: window.startMs + shift, to: window.endMs + shift },
        segments,
        clockTrusted: this.deps.clockTrusted(),
      });
      ({ gapsMs, quality, outcome } = summary);
      reason = summary.reason;
    }
    const issues = this.issues.get(recordingId);
    this.issues.delete(recordingId);
    if (issues && issues.size > 0) {
      // Named first so the headend's recording alarm points at the right failure-table row.
      reason = [...issues, reason].filter(Boolean).join('; ');
      if (outcome === 'completed') outcome = 'completed_with_errors';
    }
    return {
      segments: manifestSegments(summary),
      bytes: summary.bytes,
      durationMs: summary.durationMs,
      gapsMs,
      quality,
      outcome,
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
    };
  }

  /** Stops every running recorder (shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live.values()].map((r) => r.stop()));
  }

  /**
   * The recording's catalogued segments as recorder records; segments a crash left `writing` are measured
   * and probed first and their rows updated.
   */
  private async cataloguedSegments(recordingId: number, serviceId: number): Promise<SegmentRecord[]> {
    const repo = this.deps.store.recordings;
    await this.adoptOrphanSegments(recordingId);
    for (const s of repo.segments(recordingId)) {
      if (s.state !== 'writing') continue;
      const abs = path.join(this.deps.root, s.file);
      const bytes = await stat(abs).then(
        (st) => st.size,
        () => 0,
      );
      const probe =
        bytes > 0
          ? await probeSegment(abs, {
              spawn: this.deps.spawn,
              serviceId,
              ...(this.deps.ffprobePath ? { ffprobePath: this.deps.ffprobePath } : {}),
            })
          : { ok: false, durationMs: 0, programmeFound: false, streams: [], error: 'empty file' };
      const start = Date.parse(s.start);
      repo.updateSegment(s.id, {
        bytes,
        durationMs: probe.durationMs,
        end: new Date(start + probe.durationMs).toISOString(),
        state: probe.ok ? 'verified' : 'damaged',
        probe,
      });
      this.deps.logger.info({ file: s.file, bytes, ok: probe.ok }, 'segment left by a crash verified');
    }
    return segmentRecordsFromCatalogue(repo.segments(recordingId));
  }

  /**
   * Segment files an orphaned ffmpeg went on writing after the agent died (it crossed a segment boundary
   * nobody catalogued) are added to the catalogue, verified and counted like the rest. Their start is the
   * file's last write minus its probed duration; the segment number tells the order.
   */
  private async adoptOrphanSegments(recordingId: number): Promise<void> {
    const repo = this.deps.store.recordings;
    const rec = repo.get(recordingId);
    if (!rec) return;
    const known = new Set(repo.segments(recordingId).map((s) => path.basename(s.file)));
    let names: string[];
    try {
      names = await readdir(path.join(this.deps.root, rec.dir));
    } catch {
      return;
    }
    const last = repo.segments(recordingId).at(-1);
    const lastIndex = last ? (segmentIndexOf(path.basename(last.file)) ?? -1) : -1;
    for (const name of names.sort()) {
      const index = segmentIndexOf(name);
      if (index === null || index <= lastIndex || known.has(name)) continue;
      const abs = path.join(this.deps.root, rec.dir, name);
      const st = await stat(abs).catch(() => null);
      if (!st || st.size === 0) continue;
      const probe = await probeSegment(abs, {
        spawn: this.deps.spawn,
        serviceId: rec.serviceId,
        ...(this.deps.ffprobePath ? { ffprobePath: this.deps.ffprobePath } : {}),
      });
      // The file was written up to its last modification: it started its duration before that.
      const startMs = st.mtimeMs - probe.durationMs;
      const row = repo.addSegment(recordingId, {
        file: path.join(rec.dir, name),
        start: new Date(startMs).toISOString(),
      });
      repo.updateSegment(row.id, {
        bytes: st.size,
        durationMs: probe.durationMs,
        end: new Date(st.mtimeMs).toISOString(),
        state: probe.ok ? 'verified' : 'damaged',
        probe,
      });
      this.deps.logger.info(
        { file: name, bytes: st.size },
        'segment written by an orphaned recorder adopted',
      );
    }
  }
}
