/**
 * `stream.probe` on the station (DESIGN.md §6 Diagnostics RPC; DOMAIN.md §4 "Health"): a few seconds of the
 * receiver's output, captured raw (stream-capture.ts), analysed byte by byte (ts-analyze.ts) and shown to
 * ffprobe (the same bytes, from a scratch file) for codec and service names. The answer says what a
 * technician needs before driving out: is anything arriving, at what bitrate, are PAT/PMT there, which
 * services, are they scrambled, how many continuity errors.
 */
import { spawn as nodeSpawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SpawnFn } from '../recorder/spawn.js';
import { type FfprobeView, parseFfprobe, probeResult, type StreamProbeResult } from './probe-result.js';
import { type Capture, CaptureError, captureStream } from './stream-capture.js';
import { analyzeTs } from './ts-analyze.js';

export interface StreamProbeDeps {
  /** Spawns ffprobe (node:child_process `spawn`). */
  spawn?: SpawnFn;
  ffprobePath?: string;
  /** Where the capture is written for ffprobe (the agent's data dir); removed afterwards. */
  scratchDir: string;
  /** Kill ffprobe after this long. */
  ffprobeTimeoutMs?: number;
  /** Test seam: capture implementation. */
  capture?: typeof captureStream;
}

/** Bytes handed to ffprobe: enough for tables and a few key frames, small enough for a slow box. */
const FFPROBE_BYTES = 4 * 1024 * 1024;

/** Probes `url` for `durationMs`. Throws `CaptureError` when nothing could be captured at all. */
export async function probeStream(
  url: string,
  durationMs: number,
  deps: StreamProbeDeps,
): Promise<StreamProbeResult & { firstByteMs: number | null }> {
  const cap: Capture = await (deps.capture ?? captureStream)(url, { durationMs });
  const analysis = analyzeTs(cap.chunks);
  let ff: FfprobeView | null = null;
  if (analysis.packets > 0) ff = await ffprobeBytes(cap, deps);
  return { ...probeResult(url, analysis, cap.capturedMs, ff), firstByteMs: cap.firstByteMs };
}

/** Runs ffprobe on the first few MB of the capture; null when ffprobe is missing or says nothing useful. */
async function ffprobeBytes(cap: Capture, deps: StreamProbeDeps): Promise<FfprobeView | null> {
  const file = path.join(deps.scratchDir, `.probe-${randomBytes(6).toString('hex')}.ts`);
  const parts: Uint8Array[] = [];
  let n = 0;
  for (const c of cap.chunks) {
    if (n >= FFPROBE_BYTES) break;
    parts.push(c);
    n += c.length;
  }
  try {
    await writeFile(file, Buffer.concat(parts));
    const out = await run(
      deps.spawn ?? nodeSpawn,
      deps.ffprobePath ?? 'ffprobe',
      [
        '-v',
        'error',
        '-analyzeduration',
        '3000000',
        '-probesize',
        String(FFPROBE_BYTES),
        '-show_programs',
        '-show_streams',
        '-of',
        'json',
        file,
      ],
      deps.ffprobeTimeoutMs ?? 10_000,
    );
    return out === null ? null : parseFfprobe(out);
  } finally {
    await rm(file, { force: true });
  }
}

/** stdout of a process, or null when it fails to start, exits non-zero or runs too long. */
function run(spawn: SpawnFn, cmd: string, args: string[], timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let out = '';
    let settled = false;
    const done = (v: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(v);
    };
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(null);
    }, timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      if (out.length < 4_000_000) out += d;
    });
    child.on('error', () => done(null));
    child.on('close', (code) => done(code === 0 ? out : null));
  });
}

export { CaptureError };
