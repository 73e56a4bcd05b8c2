/**
 * The HTTP layer's errors (STYLE.md guideline 6): ONE middleware turns whatever a handler threw into a JSON
 * problem with a stable `code`, the HTTP status, a human message and, for validation failures, every field
 * error zod found. Typed errors of the inner layers (store, scheduling, users, guide import, planner,
 * alarms) keep their own codes; anything unknown is a 500 whose details stay in the headend log.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

/** One field problem: `path` is dotted (`when.weekdays.0`), empty for the whole body. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** JSON body of every error answer (`application/problem+json`, RFC 9457 fields `status`/`title` included). */
export interface ProblemBody {
  /** Stable machine code, e.g. `VALIDATION_FAILED`, `FORBIDDEN`, `NOT_FOUND`. */
  code: string;
  /** Human-readable message (English; the UI translates by `code`). */
  message: string;
  status: number;
  title: string;
  /** Field errors, for `VALIDATION_FAILED` and inner `INVALID_INPUT`. */
  issues?: FieldIssue[];
  /** Seconds to wait, for `RATE_LIMITED`. */
  retryAfterS?: number;
  /** Extra facts (e.g. the line of an XML syntax error). */
  details?: Record<string, unknown>;
}

/** An error with a status and a stable code, thrown by handlers. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { issues?: FieldIssue[]; retryAfterS?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, issues?: FieldIssue[]) =>
  new HttpError(400, 'VALIDATION_FAILED', message, issues ? { issues } : {});
export const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);
export const forbidden = (message = 'you may not do this') => new HttpError(403, 'FORBIDDEN', message);
export const unauthorized = (message = 'log in first') => new HttpError(401, 'UNAUTHENTICATED', message);
export const conflict = (message: string) => new HttpError(409, 'CONFLICT', message);

/** zod issues → field issues. */
export function zodIssues(err: z.ZodError): FieldIssue[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** Status of an inner layer's error code. */
const CODE_STATUS: Record<string, number> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  ALREADY_ACKNOWLEDGED: 409,
  NO_STATIONS: 422,
  DOCUMENT_TOO_LARGE: 422,
  HEADEND_RUNNING: 409,
  NOT_A_BACKUP: 400,
  // Guide import (headend/guide/import-report.ts): the guide is unchanged in every case.
  XML_SYNTAX: 422,
  NOT_XMLTV: 422,
  ENCODING: 422,
  SOURCE: 422,
  TOO_LARGE: 413,
  TIMEOUT: 504,
  NOT_LAN: 422,
  ABORTED: 409,
  WORKER: 500,
  // Planner (protocol/planner/types.ts).
  'invalid-window': 400,
  'unsupported-planner-version': 422,
  'unknown-service': 422,
  'unknown-receiver': 422,
  'invalid-time': 400,
};

/** Error classes of inner layers whose `code` is meant for callers. */
const TYPED = new Set([
  'StoreError',
  'SchedulingError',
  'UsersError',
  'GuideImportError',
  'PlannerError',
  'AlarmError',
]);

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function problemOf(err: unknown): ProblemBody {
  const make = (status: number, code: string, message: string, extra: Partial<ProblemBody> = {}) => ({
    code,
    message,
    status,
    title: TITLES[status] ?? 'Error',
    ...extra,
  });
  if (err instanceof HttpError) return make(err.status, err.code, err.message, err.extra);
  if (err instanceof z.ZodError)
    return make(400, 'VALIDATION_FAILED', 'the request is invalid', { issues: zodIssues(err) });
  const e = err as {
    name?: string;
    code?: unknown;
    message?: string;
    issues?: unknown;
    type?: string;
    status?: number;
    statusCode?: number;
    line?: number;
    column?: number;
  };
  if (typeof e === 'object' && e !== null && TYPED.has(e.name ?? '') && typeof e.code === 'string') {
    const status = CODE_STATUS[e.code] ?? 400;
    const issues = Array.isArray(e.issues) ? (e.issues as FieldIssue[]) : undefined;
    const details =
      e.line !== undefined
        ? { line: e.line, ...(e.column !== undefined ? { column: e.column } : {}) }
        : undefined;
    const code = e.code === 'INVALID_INPUT' ? 'VALIDATION_FAILED' : e.code.toUpperCase().replace(/-/g, '_');
    return make(status, code, e.message ?? code, {
      ...(issues && issues.length > 0 ? { issues } : {}),
      ...(details ? { details } : {}),
    });
  }
  // body-parser errors (express.json / express.raw): they carry `type` and `status`.
  if (typeof e === 'object' && e !== null && typeof e.type === 'string') {
    const status = e.status ?? e.statusCode ?? 400;
    if (e.type === 'entity.too.large') return make(413, 'PAYLOAD_TOO_LARGE', 'the request body is too large');
    if (e.type === 'entity.parse.failed')
      return make(400, 'INVALID_JSON', 'the request body is not valid JSON');
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return make(415, 'UNSUPPORTED_ENCODING', e.message ?? 'unsupported encoding');
    if (status < 500) return make(status, 'BAD_REQUEST', e.message ?? 'bad request');
  }
  return make(500, 'INTERNAL', 'internal error (see the headend log)');
}

/** Sends a problem. */
export function sendProblem(res: Parameters<RequestHandler>[1], problem: ProblemBody): void {
  if (problem.retryAfterS !== undefined) res.set('retry-after', String(problem.retryAfterS));
  res.status(problem.status).type('application/problem+json').json(problem);
}

/** The one error middleware. */
export function problemMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const problem = problemOf(err);
    if (problem.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    else logger.debug({ code: problem.code, method: req.method, path: req.path }, 'request refused');
    sendProblem(res, problem);
  };
}

/** 404 for anything no route matched. */
export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    sendProblem(res, problemOf(notFound(`no route ${req.method} ${req.path}`)));
  };
}
