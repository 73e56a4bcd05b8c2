/**
 * The headend's HTTP application (STYLE.md: built by a function that tests call without `listen`). This
 * first version serves `/healthz`; the API (`/api/v1`), the web UI and SSE are added to it by later work.
 * Errors reach ONE middleware that answers a JSON problem with a stable code (STYLE.md guideline 6).
 */
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Logger } from 'pino';

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
}

/** JSON problem body of every error answer. */
export interface Problem {
  code: string;
  message: string;
}

/** Builds the express app. */
export function createApp(deps: AppDeps): Express {
  const now = deps.now ?? (() => new Date());
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

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

  app.use((req, res) => {
    const body: Problem = { code: 'NOT_FOUND', message: `no route ${req.method} ${req.path}` };
    res.status(404).json(body);
  });

  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const e = err as {
      status?: number;
      statusCode?: number;
      code?: string;
      message?: string;
      expose?: boolean;
    };
    const status = e.status ?? e.statusCode ?? 500;
    if (status >= 500) deps.logger.error({ err, path: req.path }, 'request failed');
    const body: Problem =
      status >= 500
        ? { code: 'INTERNAL', message: 'internal error (see the headend log)' }
        : { code: typeof e.code === 'string' ? e.code : 'BAD_REQUEST', message: e.message ?? 'bad request' };
    res.status(status).json(body);
  };
  app.use(onError);
  return app;
}
