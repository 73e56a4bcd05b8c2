/**
 * One declaration per API route: method, path, who may call it, and the zod schemas of its path parameters,
 * query, body and answer. The same declaration mounts the express handler (which validates with those
 * schemas) and produces the route's OpenAPI operation (openapi.ts), so the document can never drift from
 * what the server accepts (STYLE.md: "two sources of truth for one schema" is on the avoid list).
 */
import express, { type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { Permission } from '../users/roles.js';
import { type Principal, principalOf, requirePermission, requirePrincipal } from './auth.js';
import { HttpError, zodIssues } from './errors.js';

/** Who may call a route: anyone, any logged-in user, or holders of a permission. */
export type Access = 'public' | 'user' | Permission;

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What a handler gets. */
export interface HandlerContext<P, Q, B> {
  req: Request;
  res: Response;
  /** The caller (throws 401 on a public route called anonymously). */
  readonly me: Principal;
  /** The caller, or undefined on a public route. */
  principal: Principal | undefined;
  params: P;
  query: Q;
  body: B;
}

/** A raw (non-JSON) request body, e.g. an XMLTV upload. */
export interface RawBody {
  /** Accepted media types, e.g. `application/xml`. */
  contentTypes: string[];
  /** Largest body accepted, bytes. */
  limitBytes: number;
  /** Streamed: the handler reads `req` itself (the limit is then the handler's to enforce). */
  stream?: boolean;
}

/** One route. */
export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Express path below `/api/v1`, e.g. `/stations/:id`. */
  path: string;
  /** OpenAPI tag (resource name). */
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  rawBody?: RawBody;
  /** Schema of the success answer (documentation; the handler's result is sent as JSON). */
  response?: z.ZodType;
  /** Media type of a non-JSON answer (SSE, files). */
  responseType?: string;
  /** Success status (default 200; 204 when the handler returns undefined). */
  status?: number;
  /** Changes state: written to the audit log by the handler; documented as such. */
  audited?: boolean;
  handler(ctx: HandlerContext<P, Q, B>): unknown;
}

/** A route of any types (the registry stores them erased). */
// biome-ignore lint/suspicious/noExplicitAny: erased storage of heterogeneous generic route definitions
export type AnyRoute = RouteDef<any, any, any>;

function parseOr400<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = zodIssues(r.error).map((i) => ({ ...i, path: i.path ? `${where}.${i.path}` : where }));
    throw new HttpError(400, 'VALIDATION_FAILED', `invalid ${where}`, { issues });
  }
  return r.data;
}

/** false when a body was sent in another media type than JSON (no body at all is fine: the schema decides). */
function isJsonOrEmpty(req: Request): boolean {
  return req.is(['application/json', 'application/*+json']) !== false;
}

/** The routes of the API. */
export class ApiRegistry {
  readonly routes: AnyRoute[] = [];

  add<P, Q, B>(def: RouteDef<P, Q, B>): void {
    this.routes.push(def as AnyRoute);
  }

  /** Mounts every route on `router` (which is mounted at `/api/v1`). */
  mount(router: Router, opts: { jsonLimitBytes: number }): void {
    const json = express.json({ limit: opts.jsonLimitBytes, strict: true });
    for (const def of this.routes) {
      const pre: express.RequestHandler[] = [];
      if (def.rawBody && !def.rawBody.stream) {
        pre.push(express.raw({ type: def.rawBody.contentTypes, limit: def.rawBody.limitBytes }));
      } else if (def.body) {
        pre.push(json);
      }
      router[def.method](def.path, ...pre, async (req, res) => {
        let principal: Principal | undefined;
        if (def.access === 'public') principal = principalOf(res);
        else if (def.access === 'user') principal = requirePrincipal(res);
        else principal = requirePermission(res, def.access);
        if (def.body && !def.rawBody) {
          // Only JSON is accepted: a form post from another site cannot produce it without a CORS preflight.
          if (!isJsonOrEmpty(req))
            throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
        }
        if (def.rawBody && !def.rawBody.stream && !Buffer.isBuffer(req.body)) {
          throw new HttpError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `send the body as one of: ${def.rawBody.contentTypes.join(', ')}`,
          );
        }
        const ctx = {
          req,
          res,
          principal,
          get me(): Principal {
            return requirePrincipal(res);
          },
          params: parseOr400(def.params, req.params, 'params'),
          query: parseOr400(def.query, req.query, 'query'),
          body: def.rawBody ? req.body : parseOr400(def.body, req.body, 'body'),
        };
        const result = await def.handler(ctx);
        if (res.headersSent || res.writableEnded) return;
        if (result === undefined) {
          res.status(def.status === undefined || def.status === 200 ? 204 : def.status).end();
          return;
        }
        res.status(def.status ?? 200).json(result);
      });
    }
  }
}
