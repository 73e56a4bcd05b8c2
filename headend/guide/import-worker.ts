/**
 * Runs XMLTV imports in a worker thread (DESIGN.md §7, issue 5): the headend's event loop — and the
 * embedded MQTT broker in it — keeps answering while a 49-service × 14-day file is parsed and written,
 * because the import runs on its own thread with its OWN SQLite connection (WAL lets both work; each
 * service window is one short transaction). One import at a time. The thread is started on demand,
 * kept while imports follow each other (its JIT stays warm) and let go after an idle period, so its
 * memory is returned; its heap is capped. A streamed upload (an HTTP body) is spooled to a temporary
 * file first, with the same size cap.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ImportOptions } from './guide-import.js';
import { DEFAULT_SOURCE_LIMITS, type GuideSource, type SourceLimits, sourceLabel } from './guide-sources.js';
import { GuideImportError, type GuideImportErrorCode, type ImportReport } from './import-report.js';
import type { LineupService } from './xmltv-channels.js';

/** Import options that cross into the worker (no functions). */
export type WorkerImportOptions = Omit<ImportOptions, 'now' | 'signal'>;

/** What the worker is given (structured-cloned). */
export interface WorkerRequest {
  dbPath: string;
  busyTimeoutMs: number;
  source: GuideSource;
  limits: Partial<SourceLimits>;
  options: WorkerImportOptions;
}

/** Messages to the worker. */
export type WorkerMessage =
  | { type: 'import'; id: number; request: WorkerRequest }
  | { type: 'abort'; id: number };

/** What the worker answers (as `{id, reply}`). */
export type WorkerReply =
  | { ok: true; report: ImportReport }
  | { ok: false; error: { code: GuideImportErrorCode; message: string; line?: number; column?: number } };

/** A source, or a streamed upload (e.g. an HTTP request body) that is spooled to disk first. */
export type ImportSource = GuideSource | { kind: 'stream'; name?: string; stream: AsyncIterable<Uint8Array> };

/** What the importer needs (STYLE.md 5: passed in). */
export interface GuideImporterDeps {
  /** The headend database file (the worker opens its own connection to it). */
  dbPath: string;
  /** The headend's IANA time zone (local guide days, expected offsets). */
  timeZone: string;
  /** The current line-up, read at the start of each import. */
  lineup: () => readonly LineupService[];
  logger: Logger;
  /** Import options besides source, line-up and time zone. */
  options?: Partial<Omit<WorkerImportOptions, 'source' | 'lineup' | 'timeZone'>>;
  /** Size/timeout/LAN limits of sources. */
  limits?: Partial<SourceLimits>;
  /** How long the worker's connection waits for the main connection's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * V8 old-space cap of the worker, MiB. The import needs little live memory (one channel run at a time;
   * the rest is in SQLite), so a small cap keeps its peak flat in the file size — V8 would otherwise let
   * garbage pile up to a size that grows with the file — and a runaway import dies alone. Default 64.
   */
  maxWorkerHeapMb?: number;
  /** Where streamed uploads are spooled. Default the OS temp dir. */
  tmpDir?: string;
  /** How long an idle worker thread is kept for the next import, ms. Default 60 000. */
  idleMs?: number;
}

/** Imports XMLTV in a worker thread, one at a time. */
export interface GuideImporter {
  /** Resolves with the report; rejects with {@link GuideImportError} (the guide is then unchanged). */
  import(source: ImportSource, opts?: { signal?: AbortSignal }): Promise<ImportReport>;
  /** True while an import runs or waits. */
  readonly busy: boolean;
  /** Stops the worker thread (an import in progress fails with WORKER). For shutdown and tests. */
  close(): Promise<void>;
}

/**
 * The worker's entry. Under a TypeScript loader (tests, `node --import=tsx`) this module is a `.ts` file and
 * worker threads do not inherit the loader's hooks in Node 20, so the worker first registers tsx and then
 * imports the entry; the built headend (`dist/`) loads the compiled `.js` directly.
 */
function startWorker(maxHeapMb: number): Worker {
  const running = new URL(import.meta.url);
  const ts = running.pathname.endsWith('.ts');
  const entry = new URL(`./import-worker-main.${ts ? 'ts' : 'js'}`, running);
  const resourceLimits = { maxOldGenerationSizeMb: maxHeapMb };
  if (!ts) return new Worker(entry, { resourceLimits });
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, resourceLimits });
}

async function spool(stream: AsyncIterable<Uint8Array>, dir: string, maxBytes: number): Promise<string> {
  const path = join(dir, `ruralsat-xmltv-${randomUUID()}.xml`);
  async function* capped() {
    let total = 0;
    for await (const chunk of stream) {
      total += chunk.length;
      if (total > maxBytes)
        throw new GuideImportError('TOO_LARGE', `the upload is larger than the ${maxBytes}-byte limit`);
      yield chunk;
    }
  }
  try {
    await pipeline(capped(), createWriteStream(path, { flags: 'wx' }));
    return path;
  } catch (err) {
    await unlink(path).catch(() => undefined);
    if (err instanceof GuideImportError) throw err;
    throw new GuideImportError('SOURCE', `could not receive the upload: ${(err as Error).message}`);
  }
}

/** The one worker thread, started on demand and let go when idle. */
class WorkerHost {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (r: ImportReport) => void; reject: (e: Error) => void }
  >();
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxHeapMb: number,
    private readonly idleMs: number,
  ) {}

  run(req: WorkerRequest, signal?: AbortSignal): Promise<ImportReport> {
    if (signal?.aborted) return Promise.reject(new GuideImportError('ABORTED', 'the import was cancelled'));
    const worker = this.ensure();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const id = this.nextId++;
    return new Promise<ImportReport>((resolve, reject) => {
      // Cancelling stops the import between chunks, before anything is applied; once it is applying (a
      // fraction of a second), it finishes, so the guide is never left half-imported.
      const onAbort = () => worker.postMessage({ type: 'abort', id } satisfies WorkerMessage);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        this.waiting.delete(id);
        if (this.waiting.size === 0) this.idle();
      };
      this.waiting.set(id, {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      worker.postMessage({ type: 'import', id, request: req } satisfies WorkerMessage);
    });
  }

  private ensure(): Worker {
    if (this.worker) {
      this.worker.ref();
      return this.worker;
    }
    const w = startWorker(this.maxHeapMb);
    this.worker = w;
    w.on('message', (m: { id: number; reply: WorkerReply }) => {
      const waiter = this.waiting.get(m.id);
      if (!waiter) return;
      if (m.reply.ok) waiter.resolve(m.reply.report);
      else {
        const e = m.reply.error;
        waiter.reject(new GuideImportError(e.code, e.message, e.line, e.column));
      }
    });
    const fail = (message: string) => {
      if (this.worker === w) this.worker = null;
      for (const waiter of [...this.waiting.values()]) waiter.reject(new GuideImportError('WORKER', message));
    };
    w.on('error', (err) => fail(`the import worker failed: ${err.message}`));
    w.on('exit', (code) => fail(`the import worker exited (code ${code}) without a result`));
    return w;
  }

  private idle(): void {
    const w = this.worker;
    if (!w) return;
    w.unref(); // an idle worker never keeps the process alive
    this.idleTimer = setTimeout(() => {
      if (this.waiting.size === 0 && this.worker === w) {
        this.worker = null;
        void w.terminate();
      }
    }, this.idleMs);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

export function createGuideImporter(deps: GuideImporterDeps): GuideImporter {
  const log = deps.logger;
  const limits = { ...DEFAULT_SOURCE_LIMITS, ...deps.limits };
  let queue: Promise<unknown> = Promise.resolve();
  let pending = 0;
  const host = new WorkerHost(deps.maxWorkerHeapMb ?? 64, deps.idleMs ?? 60_000);

  const one = async (source: ImportSource, signal?: AbortSignal): Promise<ImportReport> => {
    let spooled: string | null = null;
    let src: GuideSource;
    if (source.kind === 'stream') {
      spooled = await spool(source.stream, deps.tmpDir ?? tmpdir(), limits.maxBytes);
      src = { kind: 'file', path: spooled };
    } else src = source;
    const label = source.kind === 'stream' ? `upload:${source.name ?? 'xmltv'}` : sourceLabel(source);
    const req: WorkerRequest = {
      dbPath: deps.dbPath,
      busyTimeoutMs: deps.busyTimeoutMs ?? 5000,
      source: src,
      limits,
      options: { ...deps.options, source: label, lineup: [...deps.lineup()], timeZone: deps.timeZone },
    };
    log.info({ source: label }, 'guide import started');
    try {
      const report = await host.run(req, signal);
      log.info(
        { source: label, durationMs: report.durationMs, totals: report.totals },
        'guide import finished',
      );
      return report;
    } catch (err) {
      const e = err as GuideImportError;
      log.warn(
        { source: label, code: e.code, err: e.message },
        'guide import failed; the guide is unchanged',
      );
      throw err;
    } finally {
      if (spooled !== null) await unlink(spooled).catch(() => undefined);
    }
  };

  return {
    import(source, opts = {}) {
      pending++;
      const run = queue.then(() => one(source, opts.signal));
      queue = run.catch(() => undefined);
      return run.finally(() => {
        pending--;
      });
    },
    get busy() {
      return pending > 0;
    },
    close: () => host.close(),
  };
}
