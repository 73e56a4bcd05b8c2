/**
 * ffprobe verification of a closed segment (DESIGN.md §6: "ffprobe verification of every segment"): the
 * file must be readable MPEG-TS with a positive duration, at least one audio or video stream, and the
 * recorded programme present under its service id (ffmpeg-args.ts sets `mpegts_service_id`). ffprobe's
 * JSON is parsed with zod at this edge; a crash, garbage or a timeout is a failed verdict, never a throw.
 */
import { z } from 'zod';
import type { SpawnFn } from './spawn.js';

export interface ProbeStream {
  index: number;
  type: string;
  codec: string | null;
}

export interface ProbeResult {
  ok: boolean;
  durationMs: number;
  /** The programme with the recorded service id is in the file. */
  programmeFound: boolean;
  streams: ProbeStream[];
  /** Why `ok` is false. */
  error?: string;
}

const FfprobeOutput = z.object({
  format: z.object({ duration: z.string().optional(), size: z.string().optional() }).optional(),
  streams: z
    .array(
      z.object({ index: z.number(), codec_type: z.string().optional(), codec_name: z.string().optional() }),
    )
    .optional(),
  programs: z.array(z.object({ program_id: z.number() })).optional(),
});

export interface ProbeOptions {
  spawn: SpawnFn;
  serviceId: number;
  ffprobePath?: string;
  /** Kill ffprobe after this long (a damaged file must not block the recorder). */
  timeoutMs?: number;
}

/** Runs ffprobe on `file` and judges it. */
export function probeSegment(file: string, opts: ProbeOptions): Promise<ProbeResult> {
  const args = [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    '-show_programs',
    file,
  ];
  const failed = (error: string): ProbeResult => ({
    ok: false,
    durationMs: 0,
    programmeFound: false,
    streams: [],
    error,
  });
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    let settled = false;
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child: ReturnType<SpawnFn>;
    try {
      child = opts.spawn(opts.ffprobePath ?? 'ffprobe', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve(failed(`cannot start ffprobe: ${String(e)}`));
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(failed(`ffprobe timed out after ${opts.timeoutMs ?? 15_000} ms`));
    }, opts.timeoutMs ?? 15_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 4_000_000) out += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 4000) err += d;
    });
    child.on('error', (e) => done(failed(`cannot start ffprobe: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        done(failed(`ffprobe exited ${code}: ${err.trim().split('\n').pop() ?? ''}`.trim()));
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(out);
      } catch {
        done(failed('ffprobe printed no JSON'));
        return;
      }
      done(judge(json, opts.serviceId));
    });
  });
}

/** The verdict on ffprobe's JSON (pure; exported for tests). */
export function judge(json: unknown, serviceId: number): ProbeResult {
  const parsed = FfprobeOutput.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      durationMs: 0,
      programmeFound: false,
      streams: [],
      error: 'unexpected ffprobe output',
    };
  }
  const p = parsed.data;
  const duration = Number(p.format?.duration);
  const durationMs = Number.isFinite(duration) && duration > 0 ? Math.round(duration * 1000) : 0;
  const streams: ProbeStream[] = (p.streams ?? []).map((s) => ({
    index: s.index,
    type: s.codec_type ?? 'unknown',
    codec: s.codec_name ?? null,
  }));
  const programmeFound = (p.programs ?? []).some((pr) => pr.program_id === serviceId);
  const media = streams.some((s) => s.type === 'video' || s.type === 'audio');
  const problems: string[] = [];
  if (durationMs === 0) problems.push('no duration');
  if (!media) problems.push('no audio or video stream');
  if (!programmeFound) problems.push(`programme ${serviceId} not in the file`);
  return {
    ok: problems.length === 0,
    durationMs,
    programmeFound,
    streams,
    ...(problems.length > 0 ? { error: problems.join('; ') } : {}),
  };
}
