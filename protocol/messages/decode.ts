/**
 * Decoding an MQTT payload at the edge (DESIGN.md §4: oversized or invalid payloads are logged, counted
 * and dropped, never crash a process). Never throws.
 */
import type { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from '../limits.js';

/** Codes of a payload that could not be decoded. */
export type DecodeErrorCode = 'TOO_LARGE' | 'NOT_JSON' | 'INVALID';

/** One schema issue: where, and what is wrong. */
export interface DecodeIssue {
  path: string;
  message: string;
}

export interface DecodeError {
  code: DecodeErrorCode;
  message: string;
  /** Schema issues (INVALID only), at most `MAX_ISSUES`. */
  issues?: DecodeIssue[];
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

/** Issues reported at most (a hostile payload could produce thousands). */
export const MAX_ISSUES = 20;

export interface DecodeOptions {
  /** Payload cap in bytes (default `MAX_PAYLOAD_BYTES`, 256 KiB). */
  maxBytes?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => String(p)).join('.');
}

/**
 * Decodes `payload` (bytes as received, or a string) as UTF-8 JSON and validates it with `schema`.
 * Size is checked on the raw bytes before anything is parsed.
 */
export function decodePayload<S extends z.ZodType>(
  schema: S,
  payload: Uint8Array | string,
  options: DecodeOptions = {},
): DecodeResult<z.infer<S>> {
  const maxBytes = options.maxBytes ?? MAX_PAYLOAD_BYTES;
  const size = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  if (size > maxBytes) {
    return {
      ok: false,
      error: { code: 'TOO_LARGE', message: `payload is ${size} bytes, cap is ${maxBytes}` },
    };
  }
  let data: unknown;
  try {
    const text = typeof payload === 'string' ? payload : utf8.decode(payload);
    data = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { code: 'NOT_JSON', message: `payload is not UTF-8 JSON: ${why}` } };
  }
  try {
    const parsed = schema.safeParse(data);
    if (parsed.success) return { ok: true, value: parsed.data };
    const issues = parsed.error.issues
      .slice(0, MAX_ISSUES)
      .map((i) => ({ path: issuePath(i.path), message: i.message }));
    const first = issues[0];
    const more = parsed.error.issues.length > 1 ? ` (+${parsed.error.issues.length - 1} more)` : '';
    return {
      ok: false,
      error: {
        code: 'INVALID',
        message: first ? `${first.path}: ${first.message}${more}` : 'invalid payload',
        issues,
      },
    };
  } catch (err) {
    // A refinement that throws on hostile input must not take the process down.
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { code: 'INVALID', message: `validation failed: ${why}`, issues: [] } };
  }
}
