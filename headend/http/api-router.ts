/**
 * `/api/v1`: authentication, CSRF, every route (routes/*.ts), the OpenAPI document generated from them, and
 * the wiring that turns fleet changes into live messages (presence, alarms, applied events → SSE).
 */
import express, { type Router } from 'express';
import { ApiRegistry } from './api.js';
import { authenticate, csrfGuard } from './auth.js';
import type { ApiContext } from './context.js';
import { notFoundHandler } from './errors.js';
import { openapiDocument } from './openapi.js';
import { createRecordingRequests, type RecordingRequests } from './recording-requests.js';
import { alarmRoutes } from './routes/alarms.js';
import { authRoutes } from './routes/auth.js';
import { conferenceRoutes } from './routes/conferences.js';
import { diagnosticsRoutes } from './routes/diagnostics.js';
import { entryRoutes } from './routes/entries.js';
import { guideRoutes } from './routes/guide.js';
import { operationRoutes } from './routes/operations.js';
import { recordingRoutes } from './routes/recordings.js';
import { registryRoutes } from './routes/registry.js';
import { stationLive } from './routes/station-view.js';
import { stationRoutes } from './routes/stations.js';
import { userRoutes } from './routes/users.js';

/** Largest JSON body accepted (a whole line-up of 500 services fits comfortably). */
export const JSON_LIMIT_BYTES = 256 * 1024;

export interface Api {
  router: Router;
  registry: ApiRegistry;
  requests: RecordingRequests;
  /** The OpenAPI document. */
  openapi(): Record<string, unknown>;
  /** Stops listening to the fleet. */
  close(): void;
}

/** Builds every route of `/api/v1` over `ctx`. */
export function createApi(ctx: ApiContext): Api {
  const registry = new ApiRegistry();
  const requests = createRecordingRequests({
    store: ctx.store,
    logger: ctx.logger,
    now: ctx.now,
    ...(ctx.rpc ? { rpc: ctx.rpc } : {}),
  });
  authRoutes(registry, ctx);
  userRoutes(registry, ctx);
  stationRoutes(registry, ctx);
  registryRoutes(registry, ctx);
  guideRoutes(registry, ctx);
  entryRoutes(registry, ctx);
  recordingRoutes(registry, ctx, requests);
  operationRoutes(registry, ctx);
  diagnosticsRoutes(registry, ctx);
  alarmRoutes(registry, ctx);
  const conferencesOff = conferenceRoutes(registry, ctx);
  let doc: Record<string, unknown> | null = null;
  const openapi = () => {
    doc ??= openapiDocument(registry, { version: ctx.version });
    return doc;
  };
  registry.add({
    method: 'get',
    path: '/openapi.json',
    tag: 'meta',
    summary: 'This document (OpenAPI 3.1, generated from the zod schemas the server validates with)',
    access: 'public',
    handler: () => openapi(),
  });

  const router = express.Router();
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  router.use(authenticate(ctx.users));
  router.use(csrfGuard());
  registry.mount(router, { jsonLimitBytes: JSON_LIMIT_BYTES });
  // Unknown API paths are JSON 404s, never the UI's index.html.
  router.use(notFoundHandler());

  const offs: (() => void)[] = [conferencesOff];
  const fleet = ctx.fleet;
  if (fleet) {
    // A station's live view, at most once per station per turn of the event loop: after a fleet-wide push
    // every station's new birth AND its `schedule.applied` event arrive in the same burst (DESIGN.md §8,
    // 5 000 stations), and one view made after both says all that two would. The view itself is built only
    // when a client needs it (SseHub.publishLazy).
    const dueViews = new Set<string>();
    let viewsTimer: NodeJS.Immediate | null = null;
    const flushViews = () => {
      viewsTimer = null;
      const ids = [...dueViews];
      dueViews.clear();
      for (const stationId of ids) {
        ctx.sse.publishLazy({ type: 'station', stations: [stationId] }, () => {
          const s = ctx.store.stations.get(stationId);
          return s ? stationLive(ctx, s) : undefined;
        });
      }
    };
    const pushStation = (stationId: string) => {
      dueViews.add(stationId);
      viewsTimer ??= setImmediate(flushViews);
    };
    offs.push(() => {
      if (viewsTimer) clearImmediate(viewsTimer);
      viewsTimer = null;
      dueViews.clear();
    });
    // The connection each station had at its last change: presence also changes while a station stays
    // online (a new birth after every applied document — 5 000 of them per fleet-wide push), and only a
    // station that comes BACK can have missed requests.
    const lastConnection = new Map<string, string>();
    offs.push(
      fleet.presence.onChange((p) => {
        pushStation(p.stationId);
        const before = lastConnection.get(p.stationId);
        lastConnection.set(p.stationId, p.connection);
        // A station that is back gets the protect/delete requests it missed.
        if (p.connection === 'online' && before !== 'online') void requests.retryPending(p.stationId);
      }),
    );
    offs.push(
      fleet.alarms.subscribe((a) => {
        if (a.stationId === '') {
          // A fleet alarm: every board hears that it changed (no station ids or evidence in the message; the
          // board reloads /alarms, which applies the reader's scope).
          ctx.sse.publish({
            type: 'alarm',
            stations: 'all',
            data: { scope: 'fleet', action: a.action, kind: a.kind, severity: a.severity, at: a.at },
          });
          return;
        }
        ctx.sse.publish({ type: 'alarm', stations: [a.stationId], data: a });
        pushStation(a.stationId);
      }),
    );
    if (fleet.ingest) {
      offs.push(
        fleet.ingest.onApplied((stationId, e) => {
          const brief: Record<string, unknown> = {
            stationId,
            type: e.type,
            at: e.at,
            storeId: e.storeId,
            seq: e.seq,
          };
          if (e.type === 'occurrence.state')
            Object.assign(brief, {
              entryId: e.entryId,
              nominalStart: e.nominalStart,
              state: e.state,
              reason: e.reason ?? null,
            });
          if (e.type === 'recording.manifest')
            Object.assign(brief, { entryId: e.entryId, nominalStart: e.nominalStart, outcome: e.outcome });
          ctx.sse.publish({ type: 'event', stations: [stationId], data: brief });
          if (e.type === 'schedule.applied' || e.type === 'schedule.rejected') pushStation(stationId);
        }),
      );
    }
  }
  return {
    router,
    registry,
    requests,
    openapi,
    close: () => {
      for (const off of offs.splice(0)) off();
    },
  };
}
