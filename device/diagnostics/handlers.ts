/**
 * The diagnostics methods this module adds to the agent's RPC dispatcher (device/link/rpc.ts, which
 * validates params, judges expiry and journals the rids of side-effecting methods so a redelivery never
 * runs twice — DESIGN.md §4 "RPC"): `logs.tail`, `stream.probe` and `recordings.retention`. The receiver
 * methods (status, info, retune, reset, LNB) are in device/link/rpc-handlers.ts; the agent registers both
 * sets in one place.
 */
import type { Logger } from 'pino';
import type { RpcResult } from '../../protocol/messages/rpc-methods.js';
import { RpcFailure, type RpcHandlers } from '../link/rpc.js';
import type { SpawnFn } from '../recorder/spawn.js';
import type { LogRing } from './log-ring.js';
import type { RetentionService } from './retention-service.js';
import { CaptureError, isMulticast, parseStreamUrl } from './stream-capture.js';
import { probeStream } from './stream-probe.js';

/** A recorder reading a receiver's output now, with its live figures (for the BUSY answer). */
export interface ActiveReader {
  entryId: string;
  bitrateBps: number;
  ccErrors: number;
}

export interface DiagnosticsDeps {
  /** The agent's in-memory log; without one `logs.tail` is refused with a reason. */
  logs: LogRing | null;
  /** Receiver ids of the station (the first is the default). */
  receiverIds: () => string[];
  /** The receiver's output URL (DOMAIN.md §4). */
  streamUrl: (receiverId: string) => string;
  /** A recorder currently reading the receiver's output, if any. */
  readerOf: (receiverId: string) => ActiveReader | null;
  retention: RetentionService;
  spawn: SpawnFn;
  ffprobePath?: string;
  /** Scratch directory for the probe's capture file. */
  scratchDir: string;
  logger: Logger;
}

export function diagnosticsHandlers(deps: DiagnosticsDeps): RpcHandlers {
  return {
    'logs.tail': (p) => {
      if (!deps.logs) throw new RpcFailure('REFUSED', 'this agent was started without an in-memory log');
      return deps.logs.tail(p);
    },

    'stream.probe': async (p) => {
      const ids = deps.receiverIds();
      const receiverId = p.receiverId ?? ids[0];
      if (receiverId === undefined || !ids.includes(receiverId))
        throw new RpcFailure('NOT_FOUND', `no receiver ${p.receiverId ?? ''} on this station`);
      const url = deps.streamUrl(receiverId);
      let target: ReturnType<typeof parseStreamUrl>;
      try {
        target = parseStreamUrl(url);
      } catch (err) {
        throw new RpcFailure('REFUSED', (err as Error).message);
      }
      const reader = deps.readerOf(receiverId);
      // A unicast UDP output has one reader: probing it would steal the recording's datagrams.
      if (reader && target.kind !== 'http' && !isMulticast(target.host)) throw busy(url, reader);
      try {
        const r = await probeStream(url, p.durationMs, {
          spawn: deps.spawn,
          scratchDir: deps.scratchDir,
          ...(deps.ffprobePath ? { ffprobePath: deps.ffprobePath } : {}),
        });
        const { firstByteMs: _first, ...result } = r;
        deps.logger.info(
          { receiverId, url, bitrateBps: result.bitrateBps, ccErrors: result.ccErrors },
          'stream probed',
        );
        return result satisfies RpcResult<'stream.probe'>;
      } catch (err) {
        if (err instanceof CaptureError) {
          if (err.code === 'in-use') throw busy(url, reader);
          throw new RpcFailure('REFUSED', err.message);
        }
        throw err;
      }
    },

    'recordings.retention': async (p) => {
      const policy = p.policy ? await deps.retention.setPolicy(p.policy) : deps.retention.policy();
      if (!p.sweep) return { policy };
      const r = await deps.retention.sweep();
      return { policy, swept: { deleted: r.deleted, freedBytes: r.freedBytes } };
    },
  };
}

function busy(url: string, reader: ActiveReader | null): RpcFailure {
  const live = reader
    ? `; the recording of ${reader.entryId} receives ${(reader.bitrateBps / 1e6).toFixed(2)} Mbit/s with ${reader.ccErrors} CC errors so far`
    : '';
  return new RpcFailure(
    'BUSY',
    `${url} is being recorded and a unicast output has one reader, so it cannot be probed now${live}`,
    reader ? { recorder: reader } : undefined,
  );
}
