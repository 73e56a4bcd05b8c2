/**
 * What the API routes need (STYLE.md guideline 5: passed in, never imported as singletons). The fleet,
 * scheduling, guide import, alarms and RPC parts are built by other modules of the headend; the API sees
 * them through these narrow ports, so a test can build the app with only the parts it exercises and every
 * missing part answers 503 `NOT_AVAILABLE` instead of crashing.
 */
import type { Logger } from 'pino';
import type { RpcError } from '../../protocol/messages/rpc.js';
import type { RpcParams, RpcResult } from '../../protocol/messages/rpc-methods.js';
import type { RpcMethod } from '../../protocol/registry.js';
import type { Conferences } from '../conferences/index.js';
import type { TechnicianPort } from '../diagnostics/port.js';
import type { AlarmBoard } from '../fleet/alarm-board.js';
import type { EventIngest } from '../fleet/ingest.js';
import type { Presence } from '../fleet/presence.js';
import type { ScheduleTracker } from '../fleet/schedule-status.js';
import type { TelemetryIngest } from '../fleet/telemetry.js';
import type { ImportReport } from '../guide/import-report.js';
import type { GuideImporter } from '../guide/import-worker.js';
import type { Scheduling } from '../scheduling/entries.js';
import type { Preview } from '../scheduling/preview.js';
import type { Store } from '../store/index.js';
import type { UserStore } from '../users/index.js';
import type { LoginLimitOptions } from './auth.js';
import { HttpError } from './errors.js';
import type { SseHub } from './sse.js';

/** Live fleet state (headend/fleet). */
export interface FleetPort {
  presence: Pick<Presence, 'get' | 'list' | 'onChange'>;
  tracker: Pick<ScheduleTracker, 'status'>;
  telemetry: Pick<TelemetryIngest, 'latest' | 'rows'>;
  alarms: Pick<AlarmBoard, 'list' | 'subscribe'>;
  ingest?: Pick<EventIngest, 'onApplied'>;
}

/** Scheduling (headend/scheduling): entries and the planner preview. */
export interface SchedulingPort {
  scheduling: Scheduling;
  preview: Preview;
}

/** One RPC answer. */
export type RpcAnswer<M extends RpcMethod> =
  | { ok: true; result: RpcResult<M> }
  | { ok: false; error: RpcError };

/** Request/response to one station (DESIGN.md §4 RPC); answers DISCONNECTED at once for a station that is away. */
export interface RpcPort {
  call<M extends RpcMethod>(
    stationId: string,
    method: M,
    params: RpcParams<M>,
    opts?: { rid?: string; ttlMs?: number },
  ): Promise<RpcAnswer<M>>;
}

/** Guide import (headend/guide): the worker-thread importer and what to do after an import. */
export interface GuidePort {
  importer: GuideImporter;
  /** After a successful import: re-resolve guide-linked entries, republish the guide days that changed. */
  onImported?: (report: ImportReport) => void;
}

/** Everything the API routes use. */
export interface ApiContext {
  store: Store;
  users: UserStore;
  logger: Logger;
  sse: SseHub;
  /** The prefecture's time zone (DOMAIN.md §1); stations show times in it. */
  timeZone: string;
  version: string;
  now: () => Date;
  /** Session cookie lifetime, ms (the cookie's Max-Age). */
  sessionMaxAgeMs: number;
  loginLimits?: Partial<LoginLimitOptions>;
  /** The headend's data dir: `POST /backup` writes to `<dataDir>/backups/`. */
  dataDir: string;
  fleet?: FleetPort;
  scheduling?: SchedulingPort;
  guide?: GuidePort;
  rpc?: RpcPort;
  /** Video conferences and their live attendance (headend/conferences). */
  conferences?: Conferences;
  /** Diagnostics, alarms with causes, sun-outage calendar (headend/diagnostics, headend/alarms). */
  technician?: TechnicianPort;
  /** After the line-up changed: recompile documents and republish the line-up. */
  onLineupChanged?: () => void;
  /** After stations or groups changed: re-resolve county/group/all targets. */
  onStationsChanged?: (actor: string) => void;
}

/** The part, or 503 NOT_AVAILABLE naming it. */
export function need<T>(part: T | undefined, name: string): T {
  if (part === undefined) throw new HttpError(503, 'NOT_AVAILABLE', `${name} is not running in this headend`);
  return part;
}
