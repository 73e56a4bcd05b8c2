/**
 * The headend's HTTP application (STYLE.md: built by a function that tests call without `listen`):
 * `/healthz`, the API under `/api/v1` (api-router.ts) with its live stream, and the web UI (headend/web,
 * served from memory by static.ts). Errors reach ONE middleware that answers a JSON problem with a stable
 * code (STYLE.md guideline 6, errors.ts).
 */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { type Api, createApi } from './api-router.js';
import type { ApiContext } from './context.js';
import { notFoundHandler, problemMiddleware } from './errors.js';
import { defaultWebDir, securityHeaders, serveWeb } from './static.js';

/** What one component reports to `/healthz`. */
export interface ComponentHealth {
  ok: boolean;
  [detail: string]: unknown;
}

/** Dependencies of the HTTP app. */
export interface AppDeps {
  logger: Logger;
  /** Named health checks; `/healthz` answers 503 when any is not ok. A throwing check counts as not ok. */
  health: Record<string, () => ComponentHealth>;
  /** Package version shown by `/healthz`. */
  version: string;
  startedAt: Date;
  now?: () => Date;
  /** Prometheus `/metrics` (headend/diagnostics/metrics.ts); not served when omitted. */
  metrics?: express.RequestHandler;
  /** The API's parts; without it only `/healthz` (and the UI's files) are served. */
  api?: ApiContext;
  /** Directory of the web UI; default `headend/web` beside this module; `null` serves no UI. */
  webDir?: string | null;
  /**
   * Trust `X-Forwarded-For` from this many proxies in front (express `trust proxy`): the login rate limit
   * keys on the client address, which behind a reverse proxy is only known from that header. Default 0.
   */
  trustProxyHops?: number;
}

/** JSON problem body of every error answer. */
export interface Problem {
  code: string;
  message: string;
}

/** The express app and, when the API is mounted, its handle (routes, OpenAPI document, close). */
export type HeadendApp = Express & { api?: Api };

/** Builds the express app. */
export function createApp(deps: AppDeps): HeadendApp {
  const now = deps.now ?? (() => new Date());
  const app: HeadendApp = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxyHops ?? 0);
  app.use(securityHeaders());

  app.get('/healthz', (_req, res) => {
    const components: Record<string, ComponentHealth> = {};
    for (const [name, check] of Object.entries(deps.health)) {
      try {
        components[name] = check();
      } catch (err) {
        components[name] = { ok: false, error: (err as Error).message };
      }
    }
    const ok = Object.values(components).every((c) => c.ok);
    res
      .status(ok ? 200 : 503)
      .set('cache-control', 'no-store')
      .json({
        status: ok ? 'ok' : 'degraded',
        version: deps.version,
        time: now().toISOString(),
        uptimeS: Math.round((now().getTime() - deps.startedAt.getTime()) / 1000),
        components,
      });
  });

  if (deps.metrics) app.get('/metrics', deps.metrics);
  if (deps.api) {
    const api = createApi(deps.api);
    app.api = api;
    app.use('/api/v1', api.router);
  }
  const webDir = deps.webDir === undefined ? defaultWebDir() : deps.webDir;
  if (webDir) app.use(serveWeb(webDir));

  app.use(notFoundHandler());
  app.use(problemMiddleware(deps.logger));
  return app;
}
