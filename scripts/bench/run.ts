/**
 * `npm run bench [-- <name filter>…] [--json] [--timeout=<seconds per bench, default 600>]`: runs the
 * registered benches one after another (never in parallel: they would measure each other) and prints one
 * table — name, measured value, baseline measured in the same run, ratio, budget, verdict (DESIGN.md §8,
 * STYLE.md "benchmarks are scripts"). Exits 1 when a bench is over budget or fails, 2 when no bench
 * matches the filter, so CI can run it on demand.
 */
import { type Bench, type BenchResult, budgetText, verdict } from './bench.js';
import { benchModules } from './registry.js';

interface Row {
  name: string;
  value: string;
  baseline: string;
  ratio: string;
  budget: string;
  verdict: string;
  note: string;
}

function fmt(n: number, unit: string): string {
  return `${n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)} ${unit}`;
}

function table(rows: Row[]): string {
  const cols: (keyof Row)[] = ['name', 'value', 'baseline', 'ratio', 'budget', 'verdict'];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  const out = [line(cols), widths.map((w) => '-'.repeat(w)).join('-|-')];
  for (const r of rows) out.push(line(cols.map((c) => r[c])));
  for (const r of rows) if (r.note !== '') out.push(`  ${r.name}: ${r.note}`);
  return out.join('\n');
}

/** A bench that never finishes must not hang the runner. */
async function withTimeout<T>(p: Promise<T>, seconds: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no result after ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const timeoutArg = argv.find((a) => a.startsWith('--timeout='));
  const timeoutS = timeoutArg === undefined ? 600 : Number(timeoutArg.slice('--timeout='.length));
  const filters = argv.filter((a) => !a.startsWith('--'));
  const benches: Bench[] = [];
  const loadErrors: { module: string; error: string }[] = [];
  for (const m of benchModules) {
    try {
      benches.push(...(await m.load()));
    } catch (err) {
      loadErrors.push({ module: m.module, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const selected = benches.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f)));
  if (selected.length === 0 && loadErrors.length === 0) {
    console.error(`no bench matches ${filters.join(', ')}; known: ${benches.map((b) => b.name).join('; ')}`);
    return 2;
  }
  const rows: Row[] = [];
  const results: { name: string; result?: BenchResult; error?: string; ok: boolean }[] = [];
  let failed = loadErrors.length > 0;
  for (const e of loadErrors) {
    results.push({ name: e.module, error: e.error, ok: false });
    rows.push({
      name: e.module,
      value: '-',
      baseline: '-',
      ratio: '-',
      budget: '-',
      verdict: 'LOAD ERROR',
      note: e.error,
    });
  }
  for (const b of selected) {
    try {
      const r = await withTimeout(b.run(), timeoutS, b.name);
      const v = verdict(b.budget, r);
      failed ||= !v.ok;
      results.push({ name: b.name, result: r, ok: v.ok });
      rows.push({
        name: b.name,
        value: fmt(r.value, b.unit),
        baseline: `${fmt(r.baseline, b.unit)} (${b.baselineLabel})`,
        ratio: `${(r.value / r.baseline).toFixed(2)}×`,
        budget: budgetText(b.budget, b.unit),
        verdict: v.text,
        note: r.note,
      });
    } catch (err) {
      failed = true;
      const msg = err instanceof Error ? err.message : String(err);
      results.push({ name: b.name, error: msg, ok: false });
      rows.push({
        name: b.name,
        value: '-',
        baseline: '-',
        ratio: '-',
        budget: budgetText(b.budget, b.unit),
        verdict: 'ERROR',
        note: msg,
      });
    }
  }
  console.log(json ? JSON.stringify(results, null, 2) : table(rows));
  return failed ? 1 : 0;
}

// Exit explicitly: a bench that leaked a socket or timer must not keep the process alive after the table.
process.exit(await main(process.argv.slice(2)));
