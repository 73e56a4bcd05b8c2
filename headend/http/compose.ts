/**
 * Builds the API's context from the running headend's parts (called by headend/main.ts, the composition
 * root): the users store, the live-update hub, the guide importer (worker thread), and the control plane's
 * fleet and scheduling modules as the API's ports. Kept here so main.ts stays a short list of parts.
 */
import type { Logger } from 'pino';
import type { TechnicianPort } from '../diagnostics/port.js';
import type { AlarmBoard } from '../fleet/alarm-board.js';
import { createGuideImporter } from '../guide/import-worker.js';
import type { ControlPlane } from '../mqtt/control-plane.js';
import type { Store } from '../store/index.js';
import { createUserStore, type UserStoreOptions } from '../users/index.js';
import { DEFAULT_SESSION_OPTIONS } from '../users/sessions.js';
import type { LoginLimitOptions } from './auth.js';
import type { ApiContext, RpcPort } from './context.js';
import { SseHub } from './sse.js';

export interface ApiComposeDeps {
  store: Store;
  /** The headend database file (the guide import worker opens its own connection to it). */
  dbPath: string;
  dataDir: string;
  timeZone: string;
  version: string;
  logger: Logger;
  controlPlane?: ControlPlane;
  rpc?: RpcPort;
  now?: () => Date;
  users?: UserStoreOptions;
  loginLimits?: Partial<LoginLimitOptions>;
  /** SSE heartbeat interval (tests shorten it). */
  sseHeartbeatMs?: number;
  /** Diagnostics, alarm service, sun-outage calendar (headend/main.ts builds them). */
  technician?: TechnicianPort;
  /** The alarms the fleet board and SSE show (the alarm engine's, headend/alarm-wiring.ts); default the board. */
  alarms?: Pick<AlarmBoard, 'list' | 'subscribe'>;
}

/** The API context and what to stop at shutdown. */
export function composeApi(deps: ApiComposeDeps): { ctx: ApiContext; close(): void } {
  const now = deps.now ?? (() => new Date());
  const users = createUserStore(deps.store.db, { now, ...deps.users });
  const sse = new SseHub({
    logger: deps.logger.child({ module: 'headend/http/sse' }),
    ...(deps.sseHeartbeatMs === undefined ? {} : { heartbeatMs: deps.sseHeartbeatMs }),
  });
  const cp = deps.controlPlane;
  const importer = createGuideImporter({
    dbPath: deps.dbPath,
    timeZone: deps.timeZone,
    lineup: () => deps.store.lineup.snapshot().services.map((s) => ({ key: s.key, name: s.name })),
    logger: deps.logger.child({ module: 'headend/guide/import' }),
  });
  // Expired sessions are deleted once an hour (a read of an expired one deletes it anyway).
  const prune = setInterval(() => {
    try {
      users.sessions.prune();
    } catch (err) {
      deps.logger.warn(
        { event: 'session-prune-failed', err: (err as Error).message },
        'could not prune sessions',
      );
    }
  }, 3_600_000);
  prune.unref();
  const ctx: ApiContext = {
    store: deps.store,
    users,
    logger: deps.logger,
    sse,
    timeZone: deps.timeZone,
    version: deps.version,
    now,
    sessionMaxAgeMs: deps.users?.sessions?.absoluteMs ?? DEFAULT_SESSION_OPTIONS.absoluteMs,
    dataDir: deps.dataDir,
    guide: { importer, ...(cp ? { onImported: (r) => cp.guideImported(r) } : {}) },
    ...(deps.loginLimits ? { loginLimits: deps.loginLimits } : {}),
    ...(deps.technician ? { technician: deps.technician } : {}),
    // Station RPC: the control plane's client (diagnostics, protect/delete forwarded to the station).
    ...(deps.rpc || cp?.rpc ? { rpc: (deps.rpc ?? cp?.rpc) as RpcPort } : {}),
    ...(cp
      ? {
          fleet: {
            presence: cp.presence,
            tracker: cp.tracker,
            telemetry: cp.telemetry,
            alarms: deps.alarms ?? cp.alarms,
            ingest: cp.ingest,
          },
          scheduling: { scheduling: cp.scheduling, preview: cp.preview },
          conferences: cp.conferences,
          onLineupChanged: () => cp.lineupChanged(),
          onStationsChanged: (actor: string) => cp.stationsChanged(actor),
        }
      : {}),
  };
  return {
    ctx,
    close: () => {
      clearInterval(prune);
      sse.close();
    },
  };
}
