/**
 * The OpenAPI 3.1 document of `/api/v1`, generated from the route declarations (api.ts) and their zod
 * schemas with zod 4's `z.toJSONSchema` — the same schemas the server validates with, so the document
 * cannot drift. OpenAPI 3.1 uses JSON Schema 2020-12, zod's default target. Served at `/api/v1/openapi.json`.
 */
import { z } from 'zod';
import { PERMISSIONS } from '../users/roles.js';
import type { AnyRoute, ApiRegistry } from './api.js';
import { CSRF_HEADER, SESSION_COOKIE } from './auth.js';

type Json = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline', cycles: 'ref' }) as Json;
  delete s.$schema;
  return s;
}

/** `/stations/:id` → `/stations/{id}`. */
function openapiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Object schema → one parameter per property. */
function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const js = schemaOf(schema, 'input');
  const props = (js.properties ?? {}) as Record<string, Json>;
  const required = new Set((js.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
  }));
}

const PROBLEM: Json = {
  type: 'object',
  required: ['code', 'message', 'status', 'title'],
  properties: {
    code: { type: 'string', description: 'stable machine code, e.g. VALIDATION_FAILED, FORBIDDEN' },
    message: { type: 'string' },
    status: { type: 'integer' },
    title: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    retryAfterS: { type: 'integer' },
    details: { type: 'object' },
  },
};

const problemRef = (description: string): Json => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

function operation(r: AnyRoute): Json {
  const responses: Json = {};
  const status = r.status ?? 200;
  if (r.responseType) {
    responses[String(status)] = { description: 'success', content: { [r.responseType]: {} } };
  } else if (r.response) {
    responses[String(status)] = {
      description: 'success',
      content: { 'application/json': { schema: schemaOf(r.response, 'output') } },
    };
  } else {
    responses[status === 200 ? '204' : String(status)] = { description: 'success' };
  }
  if (r.params || r.query || r.body || r.rawBody)
    responses['400'] = problemRef('invalid request (field errors in `issues`)');
  if (r.access !== 'public') {
    responses['401'] = problemRef('not logged in, or the bearer token is invalid');
    responses['403'] = problemRef(
      'the role may not do this, the station is not yours, or the CSRF token is missing',
    );
  }
  if (r.path.includes(':')) responses['404'] = problemRef('no such resource');
  const op: Json = {
    operationId: `${r.method}${openapiPath(r.path)
      .replace(/[{}]/g, '')
      .replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    tags: [r.tag],
    summary: r.summary,
    description: [
      r.description,
      r.access === 'public'
        ? 'Access: anyone.'
        : r.access === 'user'
          ? 'Access: any logged-in user (operators see their own stations only).'
          : `Access: permission \`${r.access}\` (see the roles table in the README).`,
      r.audited ? 'Recorded in the audit log (who, what, when, before/after).' : undefined,
    ]
      .filter(Boolean)
      .join('\n\n'),
    parameters: [...parametersOf(r.params, 'path'), ...parametersOf(r.query, 'query')],
    responses,
  };
  if (r.access !== 'public') op.security = [{ session: [], csrf: [] }, { bearer: [] }];
  if (r.body) {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: schemaOf(r.body, 'input') } },
    };
  } else if (r.rawBody) {
    op.requestBody = {
      required: true,
      description: `at most ${r.rawBody.limitBytes} bytes`,
      content: Object.fromEntries(
        r.rawBody.contentTypes.map((t) => [t, { schema: { type: 'string', format: 'binary' } }]),
      ),
    };
  }
  return op;
}

/** Builds the document. */
export function openapiDocument(api: ApiRegistry, info: { version: string }): Json {
  const paths: Record<string, Json> = {};
  for (const r of api.routes) {
    const p = `/api/v1${openapiPath(r.path)}`;
    paths[p] ??= {};
    (paths[p] as Json)[r.method] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ruralsat headend API',
      version: info.version,
      description:
        'The headend API of the township satellite stations. Browser sessions use an HttpOnly SameSite=Strict ' +
        `cookie \`${SESSION_COOKIE}\` and must send the session's CSRF token in \`${CSRF_HEADER}\` on every change; ` +
        'scripts use `Authorization: Bearer rsat_…`. Every error is a JSON problem with a stable `code`. ' +
        `Permissions: ${PERMISSIONS.join(', ')}.`,
    },
    servers: [{ url: '/' }],
    tags: [...new Set(api.routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Problem: PROBLEM },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        csrf: { type: 'apiKey', in: 'header', name: CSRF_HEADER },
        bearer: { type: 'http', scheme: 'bearer', description: 'API token `rsat_…` created by an admin' },
      },
    },
  };
}
