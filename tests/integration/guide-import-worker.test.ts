/**
 * A 49-service × 14-day XMLTV file imported in the worker thread (DESIGN.md §7, issue 5) while the
 * embedded broker in this process keeps answering an MQTT client with a 1 s keepalive: the client never
 * goes offline, and readers on the main connection only ever see a service's old window or its new one.
 * Also: the worker's memory stays flat when the file triples (measured in child processes, so each
 * peak RSS is the import's own).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { connect, type MqttClient } from 'mqtt';
import t, { type Test } from 'tap';
import type { GuideImportError } from '../../headend/guide/import-report.js';
import { createGuideImporter } from '../../headend/guide/import-worker.js';
import { silentLogger } from '../../headend/log.js';
import { openStore } from '../../headend/store/index.js';
import { generatedLineup, serviceKey, writeXmltvFile } from '../../scripts/gen-xmltv.js';
import { startTestBroker } from '../helpers/aedes.js';

const run = promisify(execFile);

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-guide-worker-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function connectClient(url: string, user: { username: string; password: string }): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = connect(url, {
      ...user,
      clientId: user.username,
      protocolVersion: 4,
      clean: true,
      keepalive: 1,
      reconnectPeriod: 0,
    });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

t.test('49 × 14 days imports in a worker while the broker keeps answering', async (t) => {
  const dir = await tempDir(t);
  const xml = join(dir, 'guide-49x14.xml');
  const bytes = await writeXmltvFile(xml, { services: 49, days: 14 });
  const dbPath = join(dir, 'headend.db');
  const store = openStore(dbPath);
  t.teardown(() => store.close());

  const { url, headend } = await startTestBroker(t);
  const client = await connectClient(url, headend);
  t.teardown(() => client.end(true));
  let offline = 0;
  let pingResponses = 0;
  client.on('offline', () => offline++);
  client.on('close', () => offline++);
  client.on('packetreceive', (p) => {
    if (p.cmd === 'pingresp') pingResponses++;
  });

  // Readers on the main connection during the import: a service has 0 programmes or all of them.
  const count = store.db.prepare('SELECT service, COUNT(*) AS n FROM guide_programmes GROUP BY service');
  const observed = new Map<string, Set<number>>();
  const poll = setInterval(() => {
    for (const r of count.all() as { service: string; n: number }[]) {
      const s = observed.get(r.service) ?? new Set<number>();
      s.add(r.n);
      observed.set(r.service, s);
    }
  }, 5);

  const importer = createGuideImporter({
    dbPath,
    timeZone: 'Asia/Shanghai',
    lineup: () => generatedLineup(49),
    logger: silentLogger(),
    options: { keepPastMs: null },
  });
  t.teardown(() => importer.close());
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const t0 = performance.now();
  const first = await importer.import({ kind: 'file', path: xml });
  const firstMs = performance.now() - t0;
  // Import again (a daily refresh: everything unchanged) and idle past two keepalives, to see pings answered.
  const second = await importer.import({ kind: 'file', path: xml });
  await new Promise((r) => setTimeout(r, 2200));
  lag.disable();
  clearInterval(poll);

  t.equal(first.totals.imported, first.totals.programmes, 'every programme imported');
  t.equal(first.totals.rejected, 0);
  t.equal(first.services.length, 49);
  t.equal(second.totals.unchanged, first.totals.imported);
  t.equal(offline, 0, 'the MQTT client never went offline');
  t.ok(pingResponses >= 2, `pings answered (${pingResponses})`);
  const final = new Map((count.all() as { service: string; n: number }[]).map((r) => [r.service, r.n]));
  for (const [service, seen] of observed) {
    const allowed = new Set([0, final.get(service)]);
    t.ok(
      [...seen].every((n) => allowed.has(n)),
      `${service}: never half-imported (saw ${[...seen].join(', ')})`,
    );
  }
  const maxLagMs = lag.max / 1e6;
  t.ok(maxLagMs < 1000, 'the event loop never stalled for a keepalive');
  t.comment(
    `49×14: ${bytes} bytes, ${first.totals.programmes} programmes; worker import ${firstMs.toFixed(0)} ms ` +
      `(in-worker ${first.durationMs} ms, re-import ${second.durationMs} ms); event-loop lag max ${maxLagMs.toFixed(1)} ms, ` +
      `p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms; pings answered ${pingResponses}`,
  );
});

t.test('an import in progress can be cancelled and changes nothing', async (t) => {
  const dir = await tempDir(t);
  const xml = join(dir, 'g.xml');
  await writeXmltvFile(xml, { services: 49, days: 14 });
  const dbPath = join(dir, 'headend.db');
  const store = openStore(dbPath);
  t.teardown(() => store.close());
  const importer = createGuideImporter({
    dbPath,
    timeZone: 'Asia/Shanghai',
    lineup: () => generatedLineup(49),
    logger: silentLogger(),
  });
  t.teardown(() => importer.close());
  const ac = new AbortController();
  const p = importer.import({ kind: 'file', path: xml }, { signal: ac.signal });
  t.ok(importer.busy);
  setTimeout(() => ac.abort(), 150);
  const err = await p.then(
    () => null,
    (e: unknown) => e as GuideImportError,
  );
  // On a fast machine the import may finish first; then it is complete, never partial.
  const n = (store.db.prepare('SELECT COUNT(*) AS n FROM guide_programmes').get() as { n: number }).n;
  if (err) {
    t.equal(err.code, 'ABORTED');
    t.equal(n, 0, 'nothing applied');
  } else t.ok(n > 25000, 'finished before the cancel arrived: complete');
  t.notOk(importer.busy);
});

t.test(
  'a worker that runs out of its heap cap fails alone; the headend and the guide carry on',
  async (t) => {
    const dir = await tempDir(t);
    const xml = join(dir, 'g.xml');
    await writeXmltvFile(xml, { services: 2, days: 1 });
    const dbPath = join(dir, 'headend.db');
    const store = openStore(dbPath);
    t.teardown(() => store.close());
    const tiny = createGuideImporter({
      dbPath,
      timeZone: 'Asia/Shanghai',
      lineup: () => generatedLineup(2),
      logger: silentLogger(),
      maxWorkerHeapMb: 2,
    });
    t.teardown(() => tiny.close());
    const err = await tiny.import({ kind: 'file', path: xml }).then(
      () => null,
      (e: unknown) => e as GuideImportError,
    );
    t.match(err, { code: 'WORKER' });
    const ok = createGuideImporter({
      dbPath,
      timeZone: 'Asia/Shanghai',
      lineup: () => generatedLineup(2),
      logger: silentLogger(),
    });
    t.teardown(() => ok.close());
    t.ok((await ok.import({ kind: 'file', path: xml })).totals.imported > 0, 'the next import works');
  },
);

t.test('worker memory stays flat when the file triples', async (t) => {
  const dir = await tempDir(t);
  const child = `
    import { openStore } from ${JSON.stringify(new URL('../../headend/store/index.ts', import.meta.url).href)};
    import { createGuideImporter } from ${JSON.stringify(new URL('../../headend/guide/import-worker.ts', import.meta.url).href)};
    import { silentLogger } from ${JSON.stringify(new URL('../../headend/log.ts', import.meta.url).href)};
    import { generatedLineup } from ${JSON.stringify(new URL('../../scripts/gen-xmltv.ts', import.meta.url).href)};
    const [xml, db] = process.argv.slice(-2);
    openStore(db).close();
    const before = process.memoryUsage().rss;
    const importer = createGuideImporter({ dbPath: db, timeZone: 'Asia/Shanghai', lineup: () => generatedLineup(49), logger: silentLogger(), options: { keepPastMs: null } });
    const report = await importer.import({ kind: 'file', path: xml });
    await importer.close();
    process.stdout.write(JSON.stringify({ before, maxRss: process.resourceUsage().maxRSS * 1024, programmes: report.totals.imported, bytes: report.bytes }));
  `;
  const measure = async (days: number) => {
    const xml = join(dir, `g${days}.xml`);
    await writeXmltvFile(xml, { services: 49, days });
    const { stdout } = await run(
      process.execPath,
      ['--import=tsx', '--input-type=module', '-e', child, xml, join(dir, `h${days}.db`)],
      { cwd: join(import.meta.dirname, '..', '..'), maxBuffer: 1 << 20 },
    );
    return JSON.parse(stdout) as { before: number; maxRss: number; programmes: number; bytes: number };
  };
  const small = await measure(14);
  const large = await measure(42);
  t.ok(large.bytes > 2.8 * small.bytes, 'the large file is about three times the small one');
  t.ok(large.programmes > 2.8 * small.programmes);
  const fileGrowth = large.bytes - small.bytes;
  const rssGrowth = large.maxRss - small.maxRss;
  t.ok(rssGrowth < 0.5 * fileGrowth, 'peak RSS grows by less than half of what the file grows');
  const mb = (b: number) => (b / 1048576).toFixed(1);
  t.comment(
    `peak RSS ${mb(small.maxRss)} MiB for ${mb(small.bytes)} MiB (14 days), ${mb(large.maxRss)} MiB for ` +
      `${mb(large.bytes)} MiB (42 days): +${mb(rssGrowth)} MiB RSS for +${mb(fileGrowth)} MiB of file`,
  );
  t.ok(serviceKey(0) === 'svc01');
});
