/**
 * Builds the `stream.probe` answer (pure): the raw-byte analysis (ts-analyze.ts) says what is on the wire —
 * PAT/PMT, continuity errors, scrambling, bitrate — and ffprobe's JSON of the same bytes adds what a
 * demuxer decodes better (codec names, service names when the SDT is missing). ffprobe's output is parsed
 * with zod at this edge; anything it does not say is taken from the analysis, never invented.
 */
import { z } from 'zod';
import type { RpcResult } from '../../protocol/messages/rpc-methods.js';
import { type EsKind, programmeScrambled, type TsAnalysis } from './ts-analyze.js';

const FfprobeStream = z.object({
  index: z.number().optional(),
  codec_name: z.string().optional(),
  codec_type: z.string().optional(),
  /** ffprobe writes the PID as a hex string, e.g. "0x100". */
  id: z.string().optional(),
});

const FfprobeJson = z.object({
  programs: z
    .array(
      z.object({
        program_id: z.number(),
        pmt_pid: z.number().optional(),
        tags: z.record(z.string(), z.string()).optional(),
        streams: z.array(FfprobeStream).optional(),
      }),
    )
    .optional(),
  streams: z.array(FfprobeStream).optional(),
});

/** What ffprobe found, by programme number and PID. */
export interface FfprobeView {
  programmes: Map<number, { name: string | null; provider: string | null }>;
  /** PID → codec and kind as ffprobe names them. */
  streams: Map<number, { codec: string | null; kind: EsKind | null }>;
}

const KINDS: Record<string, EsKind> = { video: 'video', audio: 'audio', subtitle: 'subtitle', data: 'data' };

/** Parses `ffprobe -show_programs -show_streams -of json` output; null when it is not that. */
export function parseFfprobe(text: string): FfprobeView | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const r = FfprobeJson.safeParse(json);
  if (!r.success) return null;
  const view: FfprobeView = { programmes: new Map(), streams: new Map() };
  const addStream = (s: z.infer<typeof FfprobeStream>) => {
    if (!s.id || !/^0x[0-9a-f]+$/i.test(s.id)) return;
    const pid = Number.parseInt(s.id, 16);
    if (pid < 0 || pid > 8191) return;
    view.streams.set(pid, {
      codec: s.codec_name && s.codec_name !== 'none' ? s.codec_name.slice(0, 32) : null,
      kind: s.codec_type ? (KINDS[s.codec_type] ?? null) : null,
    });
  };
  for (const p of r.data.programs ?? []) {
    view.programmes.set(p.program_id, {
      name: p.tags?.service_name?.slice(0, 120) ?? null,
      provider: p.tags?.service_provider?.slice(0, 120) ?? null,
    });
    for (const s of p.streams ?? []) addStream(s);
  }
  for (const s of r.data.streams ?? []) addStream(s);
  return view;
}

export type StreamProbeResult = RpcResult<'stream.probe'>;

/** The RPC result from a capture's analysis, ffprobe's view of it (if any) and the capture length. */
export function probeResult(
  url: string,
  a: TsAnalysis,
  capturedMs: number,
  ff: FfprobeView | null,
): StreamProbeResult {
  const seconds = Math.max(capturedMs, 1) / 1000;
  const services = a.programmes
    .filter((p) => p.serviceId >= 1 && p.serviceId <= 65535)
    .slice(0, 256)
    .map((p) => {
      const named = ff?.programmes.get(p.serviceId);
      return {
        serviceId: p.serviceId,
        name: (p.name ?? named?.name ?? null)?.slice(0, 120) ?? null,
        provider: (p.provider ?? named?.provider ?? null)?.slice(0, 120) ?? null,
        scrambled: programmeScrambled(p),
        pmtPresent: p.pmtPresent,
        streams: p.streams.slice(0, 64).map((s) => {
          const f = ff?.streams.get(s.pid);
          return {
            pid: s.pid,
            type: s.kind === 'data' && f?.kind ? f.kind : s.kind,
            codec: f?.codec ?? s.codec,
            ccErrors: s.ccErrors,
            scrambledRatio: s.packets === 0 ? 0 : Math.round((s.scrambledPackets / s.packets) * 1000) / 1000,
          };
        }),
      };
    });
  return {
    url: url.slice(0, 500),
    bitrateBps: Math.round((a.bytes * 8) / seconds),
    ccErrors: a.ccErrors,
    capturedMs: Math.round(capturedMs),
    packets: a.packets,
    syncLossBytes: a.syncLossBytes,
    transportErrors: a.transportErrors,
    patPresent: a.patPresent,
    missingPids: a.missingPids.slice(0, 64),
    services,
  };
}
