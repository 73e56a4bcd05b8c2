/**
 * XMLTV import bench (DESIGN.md §8): import a 49-service × 14-day file (scripts/gen-xmltv.ts, ~10 MiB,
 * ~26 000 programmes) the way the headend does — in the import worker, into a fresh database — against a
 * bare streaming parse of the same file in the same run. Budget ≤ 1.5 s and ≤ 1.5× the bare parse.
 *
 * The value is the import's own time as the worker measures it (parse, validate, stage, one transaction
 * per service window), into an empty guide, in a warm worker; the note adds a re-import of the same file
 * (a daily refresh where nothing changed) and the cold first import after start-up, with and without
 * the thread's start (under tsx that includes compiling the TypeScript modules, which the built headend
 * does not pay), and the process's peak RSS (the worker's memory must stay flat in the file size).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuideImporter } from '../../headend/guide/import-worker.js';
import { XmltvStreamParser } from '../../headend/guide/xmltv-parse.js';
import { silentLogger } from '../../headend/log.js';
import { openStore } from '../../headend/store/index.js';
import { generatedLineup, writeXmltvFile } from '../gen-xmltv.js';
import type { Bench, BenchResult } from './bench.js';

const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** The floor: the same bytes through the same streaming parser, every item produced, nothing else. */
async function bareParse(path: string): Promise<number> {
  const t0 = performance.now();
  const parser = new XmltvStreamParser();
  let items = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }))
    items += parser.write(chunk).length;
  items += parser.end().length;
  if (items === 0) throw new Error('the bare parse produced nothing');
  return performance.now() - t0;
}

async function run(): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-bench-xmltv-'));
  try {
    const xml = join(dir, 'guide-49x14.xml');
    await writeXmltvFile(xml, { services: 49, days: 14 });
    const bytes = (await stat(xml)).size;
    const dbPath = join(dir, 'headend.db');
    const store = openStore(dbPath);
    const importer = createGuideImporter({
      dbPath,
      timeZone: 'Asia/Shanghai',
      lineup: () => generatedLineup(49),
      logger: silentLogger(),
      options: { keepPastMs: null },
    });
    try {
      // Cold: a new worker thread (module loading, cold JIT) — what the first import after start-up pays.
      const t0 = performance.now();
      const cold = await importer.import({ kind: 'file', path: xml });
      const coldEndToEnd = performance.now() - t0;
      await bareParse(xml); // warm-up (JIT)
      const bare: number[] = [];
      const first: number[] = [];
      const reimport: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        bare.push(await bareParse(xml));
        store.db.exec('DELETE FROM guide_programmes'); // every run imports into an empty guide
        first.push((await importer.import({ kind: 'file', path: xml })).durationMs);
        reimport.push((await importer.import({ kind: 'file', path: xml })).durationMs);
      }
      return {
        value: median(first),
        baseline: median(bare),
        note:
          `${(bytes / 1048576).toFixed(1)} MiB, ${cold.totals.imported} programmes, median of ${RUNS} ` +
          `(${Math.min(...first).toFixed(0)}–${Math.max(...first).toFixed(0)} ms); re-import unchanged ` +
          `${median(reimport).toFixed(0)} ms; cold first import after start ${cold.durationMs} ms in the worker, ` +
          `${coldEndToEnd.toFixed(0)} ms with the thread's start; process peak RSS ` +
          `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
      };
    } finally {
      await importer.close();
      store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const xmltvBench: Bench = {
  name: 'xmltv import 49×14 days (worker)',
  unit: 'ms',
  budget: { max: 1500, maxRatio: 1.5 },
  baselineLabel: 'bare streaming parse',
  run,
};

/** `node --import=tsx scripts/bench/xmltv.ts` runs this bench alone. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(
    `import ${r.value.toFixed(0)} ms vs bare parse ${r.baseline.toFixed(0)} ms = ${(r.value / r.baseline).toFixed(2)}×; ${r.note}`,
  );
}
