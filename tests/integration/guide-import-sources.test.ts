/**
 * Where a guide comes from (issue 5: a file path, an upload, or a URL on the LAN), through the worker:
 * a real HTTP server on loopback, gzip, a streamed upload, and the limits — size cap, timeout, LAN-only,
 * no redirects, HTTP errors, missing files. Every refusal is a typed error and leaves the guide unchanged.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { isLanAddress, openSource } from '../../headend/guide/guide-sources.js';
import { GuideImportError } from '../../headend/guide/import-report.js';
import { createGuideImporter, type GuideImporter } from '../../headend/guide/import-worker.js';
import { silentLogger } from '../../headend/log.js';
import { openStore, type Store } from '../../headend/store/index.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'xmltv', 'moved-before.xml');
const LINEUP = [{ key: 'cctv1', name: 'CCTV-1 综合' }];

async function setup(t: Test, limits = {}): Promise<{ store: Store; importer: GuideImporter; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-guide-src-'));
  const dbPath = join(dir, 'headend.db');
  const store = openStore(dbPath);
  t.teardown(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const importer = createGuideImporter({
    dbPath,
    timeZone: 'Asia/Shanghai',
    lineup: () => LINEUP,
    logger: silentLogger(),
    limits,
    tmpDir: dir,
  });
  t.teardown(() => importer.close());
  return { store, importer, dir };
}

async function serve(t: Test, handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer((req, res) => {
    res.on('error', () => undefined); // the importer hangs up on purpose (caps, timeouts)
    handler?.(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const a = server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

function programmes(store: Store): number {
  return (store.db.prepare('SELECT COUNT(*) AS n FROM guide_programmes').get() as { n: number }).n;
}

async function refusal(p: Promise<unknown>): Promise<GuideImportError> {
  const r = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(r instanceof GuideImportError)) throw new Error(`expected a GuideImportError, got ${String(r)}`);
  return r;
}

t.test('a URL on the LAN, plain and gzipped', async (t) => {
  const { store, importer } = await setup(t);
  const xml = await readFile(FIXTURE);
  const base = await serve(t, (req, res) => {
    if (req.url === '/guide.xml') res.end(xml);
    else if (req.url === '/guide.xml.gz') res.end(gzipSync(xml));
    else {
      res.statusCode = 404;
      res.end('not here');
    }
  });
  const plain = await importer.import({ kind: 'url', url: `${base}/guide.xml` });
  t.equal(plain.totals.imported, 8);
  t.equal(plain.source, `${base}/guide.xml`);
  const gz = await importer.import({ kind: 'url', url: `${base}/guide.xml.gz` });
  t.equal(gz.totals.unchanged, 8, 'the gzipped copy is the same guide');
  t.equal(gz.bytes, xml.length, 'bytes counted after decompression');
  const missing = await refusal(importer.import({ kind: 'url', url: `${base}/nope.xml` }));
  t.match(missing, { code: 'SOURCE', message: /HTTP 404/ });
  t.equal(programmes(store), 8);
});

t.test('URL limits: timeout, size cap, redirects, public hosts, schemes', async (t) => {
  const { store, importer } = await setup(t, { timeoutMs: 400, maxBytes: 2000 });
  const base = await serve(t, (req, res) => {
    if (req.url === '/slow') {
      res.write('<tv>');
      return; // never finishes
    }
    if (req.url === '/big') {
      res.setHeader('content-length', '5000');
      res.end('x'.repeat(5000));
      return;
    }
    if (req.url === '/big-chunked') {
      for (let i = 0; i < 10; i++) res.write('<!--'.padEnd(500, '-'));
      res.end();
      return;
    }
    res.statusCode = 302;
    res.setHeader('location', 'http://example.com/guide.xml');
    res.end();
  });
  t.match(await refusal(importer.import({ kind: 'url', url: `${base}/slow` })), { code: 'TIMEOUT' });
  t.match(await refusal(importer.import({ kind: 'url', url: `${base}/big` })), {
    code: 'TOO_LARGE',
    message: /5000 bytes/,
  });
  t.match(await refusal(importer.import({ kind: 'url', url: `${base}/big-chunked` })), { code: 'TOO_LARGE' });
  t.match(await refusal(importer.import({ kind: 'url', url: `${base}/redirect` })), { code: 'SOURCE' });
  t.match(await refusal(importer.import({ kind: 'url', url: 'http://8.8.8.8/guide.xml' })), {
    code: 'NOT_LAN',
    message: /8\.8\.8\.8.*not a LAN address/,
  });
  t.match(await refusal(importer.import({ kind: 'url', url: 'file:///etc/passwd' })), {
    code: 'SOURCE',
    message: /only http/,
  });
  t.match(await refusal(importer.import({ kind: 'url', url: 'not a url' })), { code: 'SOURCE' });
  t.equal(programmes(store), 0, 'nothing imported by any refusal');
});

t.test('uploads: bytes in memory, and a stream spooled to disk with the size cap', async (t) => {
  const { store, importer, dir } = await setup(t, { maxBytes: 100_000 });
  const xml = await readFile(FIXTURE);
  const up = await importer.import({ kind: 'upload', name: 'guide.xml', data: xml });
  t.equal(up.source, 'upload:guide.xml');
  t.equal(up.totals.imported, 8);
  const streamed = await importer.import({
    kind: 'stream',
    name: 'body',
    stream: Readable.from([xml.subarray(0, 100), xml.subarray(100)]),
  });
  t.equal(streamed.totals.unchanged, 8);
  const huge = Readable.from(
    (function* () {
      for (let i = 0; i < 200; i++) yield Buffer.alloc(1000, 32);
    })(),
  );
  t.match(await refusal(importer.import({ kind: 'stream', stream: huge })), { code: 'TOO_LARGE' });
  const left = (await import('node:fs/promises')).readdir(dir);
  t.same(
    (await left).filter((f) => f.startsWith('ruralsat-xmltv-')),
    [],
    'spooled files are removed',
  );
  t.equal(programmes(store), 8);
});

t.test('files: a missing path and a corrupt gzip are refused clearly', async (t) => {
  const { importer } = await setup(t);
  t.match(await refusal(importer.import({ kind: 'file', path: '/nonexistent/guide.xml' })), {
    code: 'SOURCE',
    message: /ENOENT/,
  });
  const badGz = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(40, 7)]);
  t.match(await refusal(importer.import({ kind: 'upload', data: badGz })), {
    code: 'SOURCE',
    message: /gzip/,
  });
});

t.test('what counts as the LAN', async (t) => {
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.10',
    '169.254.1.1',
    '100.64.0.1',
    '::1',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:192.168.0.1',
  ]) {
    t.ok(isLanAddress(a), a);
  }
  for (const a of [
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2001:4860::8888',
    '::ffff:8.8.8.8',
    'localhost',
  ]) {
    t.notOk(isLanAddress(a), a);
  }
  const chunks: number[] = [];
  for await (const c of openSource({ kind: 'upload', data: Buffer.alloc(600 * 1024) })) chunks.push(c.length);
  t.same(chunks, [262144, 262144, 90112], 'uploads are read in 256 KiB chunks');
});
