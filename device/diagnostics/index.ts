/**
 * The station's diagnostics and remedies, built in one call by the agent (device/agent.ts): the RPC handlers
 * of handlers.ts and the automatic retention sweep. The receiver remedies (re-apply, reset, LNB power cycle)
 * run automatically in the recovery ladder (device/receiver/recovery.ts: backoff and a daily cap) and on
 * request through the receiver RPC methods.
 */
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Clock } from '../link/clock.js';
import type { RpcHandlers } from '../link/rpc.js';
import type { DiskGuard, DiskPolicy } from '../recorder/disk.js';
import type { SpawnFn } from '../recorder/spawn.js';
import type { StationStore } from '../store/db.js';
import { type ActiveReader, diagnosticsHandlers } from './handlers.js';
import type { LogRing } from './log-ring.js';
import { RetentionService } from './retention-service.js';

export { LogRing } from './log-ring.js';

export interface StationDiagnosticsDeps {
  store: StationStore;
  disk: DiskGuard;
  /** The DiskGuard's policy object (the config's `disk`), edited by a retention policy change. */
  diskPolicy: DiskPolicy;
  recordingsRoot: string;
  dataDir: string;
  clock: Clock;
  /** Headend-corrected time. */
  now: () => number;
  timing: Pick<TimingProfile, 'retentionSweepMs'>;
  logs: LogRing | null;
  receiverIds: () => string[];
  streamUrl: (receiverId: string) => string;
  readerOf: (receiverId: string) => ActiveReader | null;
  spawn: SpawnFn;
  ffprobePath?: string;
  logger: Logger;
}

export interface StationDiagnostics {
  handlers: RpcHandlers;
  retention: RetentionService;
  /** Loads the saved retention policy and starts the periodic sweep. */
  start(): Promise<void>;
  stop(): void;
}

export function stationDiagnostics(deps: StationDiagnosticsDeps): StationDiagnostics {
  const retention = new RetentionService({
    recordings: deps.store.recordings,
    root: deps.recordingsRoot,
    disk: deps.diskPolicy,
    usage: () => deps.disk.usage(),
    dataDir: deps.dataDir,
    clock: deps.clock,
    now: deps.now,
    logger: deps.logger.child({ module: 'device/diagnostics/retention' }),
  });
  const handlers = diagnosticsHandlers({
    logs: deps.logs,
    receiverIds: deps.receiverIds,
    streamUrl: deps.streamUrl,
    readerOf: deps.readerOf,
    retention,
    spawn: deps.spawn,
    ...(deps.ffprobePath ? { ffprobePath: deps.ffprobePath } : {}),
    scratchDir: deps.dataDir,
    logger: deps.logger.child({ module: 'device/diagnostics' }),
  });
  return {
    handlers,
    retention,
    async start() {
      await retention.load();
      retention.start(deps.timing.retentionSweepMs);
    },
    stop: () => retention.stop(),
  };
}
