/**
 * Where an XMLTV file comes from (issue 5: "from a file path, an upload, or a URL on the LAN"), as a
 * stream of byte chunks with limits: a size cap (also on the decompressed size of a gzipped file — grabbers
 * often publish `.xml.gz`), a whole-download timeout, and for URLs a LAN-only rule so the headend cannot be
 * turned into a fetcher of arbitrary internet addresses. Errors are {@link GuideImportError}s.
 */
import { lookup } from 'node:dns/promises';
import { createReadStream } from 'node:fs';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GuideImportError } from './import-report.js';

/** One import source. Uploads are bytes in memory; a streamed upload is spooled to a file first. */
export type GuideSource =
  | { kind: 'file'; path: string }
  | { kind: 'upload'; name?: string; data: Uint8Array }
  | { kind: 'url'; url: string };

/** Limits applied to every source. */
export interface SourceLimits {
  /** Largest accepted file in bytes, after decompression. Default 512 MiB. */
  maxBytes: number;
  /** Whole-download timeout for URLs, ms. Default 60 s. */
  timeoutMs: number;
  /** Refuse URLs whose host resolves to a public address. Default true. */
  lanOnly: boolean;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxBytes: 512 * 1024 * 1024,
  timeoutMs: 60_000,
  lanOnly: true,
};

/** Read size for files and uploads: large enough to keep per-chunk overhead low, small next to memory. */
const CHUNK = 256 * 1024;

/** How the source is named in the report and the runs table. */
export function sourceLabel(src: GuideSource): string {
  if (src.kind === 'file') return src.path;
  if (src.kind === 'upload') return `upload:${src.name ?? 'xmltv'}`;
  return src.url;
}

/**
 * Loopback, RFC 1918, CGNAT (RFC 6598), link-local, IPv6 unique-local and link-local addresses: what
 * "on the LAN" means for a prefecture network, where the guide comes from a server in the control room.
 */
export function isLanAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (v === 6) {
    const x = address.toLowerCase();
    if (x === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(x);
    if (mapped) return isLanAddress(mapped[1] as string);
    return /^f[cd][0-9a-f]{2}:/.test(x) || /^fe[89ab][0-9a-f]:/.test(x);
  }
  return false;
}

async function checkLan(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (err) {
    throw new GuideImportError('SOURCE', `cannot resolve ${host}: ${(err as Error).message}`);
  }
  const outside = addresses.filter((a) => !isLanAddress(a));
  if (addresses.length === 0 || outside.length > 0) {
    throw new GuideImportError(
      'NOT_LAN',
      `${host} resolves to ${outside.join(', ') || 'nothing'}, which is not a LAN address; guide URLs must be on the LAN`,
    );
  }
}

/** Counts bytes and stops at the cap. */
async function* capped(chunks: AsyncIterable<Uint8Array>, maxBytes: number, what: string) {
  let total = 0;
  for await (const c of chunks) {
    total += c.length;
    if (total > maxBytes) {
      throw new GuideImportError('TOO_LARGE', `${what} is larger than the ${maxBytes}-byte limit`);
    }
    yield c;
  }
}

/** Gunzips when the stream starts with the gzip magic (1f 8b), else passes it through. */
async function* maybeGunzip(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => it,
  };
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
    yield head;
    yield* rest;
    return;
  }
  async function* all() {
    yield head;
    yield* rest;
  }
  const gunzip = Readable.from(all(), { objectMode: false }).pipe(createGunzip({ chunkSize: CHUNK }));
  try {
    for await (const c of gunzip) yield c as Buffer;
  } catch (err) {
    if (err instanceof GuideImportError) throw err;
    throw new GuideImportError('SOURCE', `bad gzip data: ${(err as Error).message}`);
  }
}

async function* uploadChunks(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
}

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const c of createReadStream(path, { highWaterMark: CHUNK })) yield c as Buffer;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new GuideImportError('SOURCE', `cannot read ${path}: ${e.code ?? e.message}`);
  }
}

async function* urlChunks(
  raw: string,
  limits: SourceLimits,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GuideImportError('SOURCE', `not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GuideImportError('SOURCE', `only http and https URLs are fetched, not ${url.protocol}`);
  }
  if (limits.lanOnly) await checkLan(url);
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
  const fail = (err: unknown): never => {
    if (err instanceof GuideImportError) throw err;
    if (timeout.aborted) {
      throw new GuideImportError('TIMEOUT', `${url.href} did not finish within ${limits.timeoutMs} ms`);
    }
    if (signal?.aborted) throw new GuideImportError('ABORTED', 'the import was cancelled');
    throw new GuideImportError('SOURCE', `fetching ${url.href} failed: ${(err as Error).message}`);
  };
  let res: Response;
  try {
    // No redirects: one could lead off the LAN after the check above.
    res = await fetch(url, { signal: combined, redirect: 'error' });
  } catch (err) {
    return fail(err);
  }
  if (!res.ok || res.body === null) {
    throw new GuideImportError('SOURCE', `${url.href} answered HTTP ${res.status} ${res.statusText}`);
  }
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > limits.maxBytes) {
    await res.body.cancel().catch(() => undefined);
    throw new GuideImportError(
      'TOO_LARGE',
      `${url.href} is ${length} bytes, over the ${limits.maxBytes}-byte limit`,
    );
  }
  try {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) yield c;
  } catch (err) {
    fail(err);
  }
}

/** Opens a source as a capped, gunzipped-if-needed stream of byte chunks. */
export function openSource(
  src: GuideSource,
  limits: Partial<SourceLimits> = {},
  signal?: AbortSignal,
): AsyncIterable<Uint8Array> {
  const l = { ...DEFAULT_SOURCE_LIMITS, ...limits };
  const what = sourceLabel(src);
  const raw =
    src.kind === 'file'
      ? fileChunks(src.path)
      : src.kind === 'upload'
        ? uploadChunks(src.data)
        : capped(urlChunks(src.url, l, signal), l.maxBytes, what);
  return capped(maybeGunzip(raw), l.maxBytes, what);
}
