/**
 * ffprobe on a live UDP output: which programmes (service ids) and streams it carries. Used to prove the
 * simulated receiver's stream is real MPEG-TS with the right programme number (DOMAIN.md §4).
 */
import { execFile } from 'node:child_process';

export interface ProbedProgram {
  /** Programme number = DVB service id. */
  programNumber: number;
  serviceName: string | null;
  codecs: string[];
}

interface FfprobeJson {
  programs?: {
    program_num?: number;
    tags?: { service_name?: string };
    streams?: { codec_name?: string }[];
  }[];
}

/** Probe `udp://127.0.0.1:<port>`; rejects when nothing arrives within `timeoutMs`. */
export function probeUdp(port: number, timeoutMs = 8000): Promise<ProbedProgram[]> {
  const url = `udp://127.0.0.1:${port}?timeout=${timeoutMs * 1000}&overrun_nonfatal=1`;
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      [
        '-v',
        'error',
        '-analyzeduration',
        '1000000',
        '-probesize',
        '1000000',
        '-show_programs',
        '-of',
        'json',
        url,
      ],
      { timeout: timeoutMs + 5000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`ffprobe ${url} failed: ${stderr.trim() || err.message}`));
          return;
        }
        const json = JSON.parse(stdout) as FfprobeJson;
        resolve(
          (json.programs ?? []).map((p) => ({
            programNumber: p.program_num ?? -1,
            serviceName: p.tags?.service_name ?? null,
            codecs: (p.streams ?? []).map((s) => s.codec_name ?? '?'),
          })),
        );
      },
    );
  });
}
