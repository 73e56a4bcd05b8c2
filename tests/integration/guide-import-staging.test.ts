/**
 * The import's staging (headend/guide/import-staging.ts), through what a user sees in the guide: a
 * channel validated in pieces must come out exactly as if it had been read in one piece — a missing stop
 * at the end of one piece takes the start of the next piece, a duplicate across pieces is refused — and a
 * file that adds a new service while changing an existing one applies both (first import and diff in one
 * run). DESIGN.md §7, DOMAIN.md §5, issue 5.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { importGuide } from '../../headend/guide/guide-import.js';
import { createGuideReader } from '../../headend/guide/guide-store.js';
import type { ImportReport } from '../../headend/guide/import-report.js';
import { openStore, type Store } from '../../headend/store/index.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const LINEUP = [
  { key: 'cctv1', name: 'CCTV-1 综合' },
  { key: 'cctv13', name: 'CCTV-13 新闻' },
];
const HEAD =
  '<channel id="a"><display-name>CCTV-1 综合</display-name></channel>' +
  '<channel id="b"><display-name>CCTV-13 新闻</display-name></channel>';

async function freshStore(t: Test): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-guide-staging-'));
  const store = openStore(join(dir, 'headend.db'));
  t.teardown(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

/** Local time `minutes` after 2026-11-28 00:00 +0800, in XMLTV form. */
function at(minutes: number): string {
  const d = new Date(Date.UTC(2026, 10, 28, 0, minutes));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}00 +0800`;
}

/** Programme `i` of a channel: 30 minutes long, titled by its number; `stop: false` leaves the stop out. */
function prog(channel: string, i: number, opts: { stop?: boolean; title?: string } = {}): string {
  const stop = opts.stop === false ? '' : ` stop="${at(i * 30 + 30)}"`;
  return `<programme start="${at(i * 30)}"${stop} channel="${channel}"><title lang="zh">${opts.title ?? `${channel} 第${i}集`}</title></programme>`;
}

function importDoc(store: Store, doc: string, now = NOW): Promise<ImportReport> {
  return importGuide(store.db, [doc], {
    source: 'test',
    lineup: LINEUP,
    timeZone: 'Asia/Shanghai',
    now: () => now,
  });
}

function guide(store: Store, service: string) {
  return createGuideReader(store.db)
    .byStart(service, 0, Number.MAX_SAFE_INTEGER)
    .map(
      (p) =>
        `${p.programmeId} ${p.title} ${new Date(p.startMs).toISOString()}–${new Date(p.stopMs).toISOString()}`,
    );
}

t.test('a channel in two pieces imports exactly like the same channel in one piece', async (t) => {
  // Piece one of "a" ends with a programme without a stop: alone it has nothing to end it; whole, the
  // first programme of piece two does. Piece two repeats the first programme of piece one (a duplicate).
  const a1 = [0, 1, 2].map((i) => prog('a', i)).concat(prog('a', 3, { stop: false }));
  const a2 = [prog('a', 4), prog('a', 5), prog('a', 0)];
  const b = [0, 1, 2].map((i) => prog('b', i));
  const whole = `<tv>${HEAD}${[...a1, ...a2, ...b].join('\n')}</tv>`;
  const pieces = `<tv>${HEAD}${[...a1, ...b, ...a2].join('\n')}</tv>`;
  const seen: unknown[] = [];
  for (const doc of [whole, pieces]) {
    const store = await freshStore(t);
    const r = await importDoc(store, doc);
    seen.push({
      imported: r.totals.imported,
      stopsFilled: r.totals.stopsFilled,
      rejectCounts: r.rejectCounts,
      channels: r.channels,
      a: guide(store, 'cctv1'),
      b: guide(store, 'cctv13'),
    });
  }
  t.match(seen[0], { imported: 9, stopsFilled: 1, rejectCounts: { DUPLICATE: 1 } });
  t.same(seen[1], seen[0]);
  t.equal((seen[1] as { a: string[] }).a.length, 6, 'all six programmes of "a", the stopless one included');
});

t.test('a channel longer than one in-memory run is validated whole', async (t) => {
  // 5 200 programmes in a row (over the 5 000 held in memory at once); the stopless one sits at the
  // boundary, so only validation of the whole channel can fill its stop.
  const n = 5200;
  const progs: string[] = [];
  for (let i = 0; i < n; i++) progs.push(prog('a', i, { stop: i !== 4999 }));
  const store = await freshStore(t);
  const r = await importDoc(store, `<tv>${HEAD}${progs.join('\n')}</tv>`);
  t.equal(r.totals.imported, n);
  t.equal(r.totals.rejected, 0);
  t.equal(r.totals.stopsFilled, 1);
  const rows = createGuideReader(store.db).byStart('cctv1', 0, Number.MAX_SAFE_INTEGER);
  t.equal(rows.length, n);
  const filled = rows[4999];
  t.equal(filled?.stopMs, rows[5000]?.startMs, 'its stop is the next programme’s start');
});

t.test('one file can add a new service and change an existing one', async (t) => {
  const store = await freshStore(t);
  await importDoc(store, `<tv>${HEAD}${[0, 1, 2, 3].map((i) => prog('a', i)).join('\n')}</tv>`);
  const before = guide(store, 'cctv1');
  // "a": programme 2 retitled (its hashed id changes: removed + added), programme 3 gone, 4 new;
  // "b": first time in the guide.
  const next = [prog('a', 0), prog('a', 1), prog('a', 2, { title: '临时改播' }), prog('a', 4)];
  const r = await importDoc(store, `<tv>${HEAD}${[...next, prog('b', 0), prog('b', 1)].join('\n')}</tv>`);
  const a = r.services.find((s) => s.service === 'cctv1');
  const b = r.services.find((s) => s.service === 'cctv13');
  t.match(a, { added: 2, removed: 2, unchanged: 2, moved: 0 });
  t.match(b, { added: 2, removed: 0, unchanged: 0 });
  const after = guide(store, 'cctv1');
  t.same(after.slice(0, 2), before.slice(0, 2), 'unchanged programmes keep their ids');
  t.match(after[2], /临时改播/);
  t.equal(after.length, 4);
  t.equal(guide(store, 'cctv13').length, 2);
  // The same file again changes nothing.
  const again = await importDoc(store, `<tv>${HEAD}${[...next, prog('b', 0), prog('b', 1)].join('\n')}</tv>`);
  t.match(again.totals, { added: 0, removed: 0, moved: 0, updated: 0, unchanged: 6 });
});
