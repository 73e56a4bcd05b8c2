/**
 * `npm run bench [-- <name filter>…] [--json]`: runs the registered benches one after another (never in
 * parallel: they would measure each other) and prints one table — name, measured value, baseline measured
 * in the same run, ratio, budget, verdict (DESIGN.md §8, STYLE.md "benchmarks are scripts"). Exits 1 when a
 * bench is over budget or fails, so CI can run it on demand.
 */
import { type BenchResult, budgetText, verdict } from './bench.js';
import { benches } from './registry.js';

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

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const filters = argv.filter((a) => !a.startsWith('--'));
  const selected = benches.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f)));
  if (selected.length === 0) {
    console.error(`no bench matches ${filters.join(', ')}; known: ${benches.map((b) => b.name).join('; ')}`);
    return 2;
  }
  const rows: Row[] = [];
  const results: { name: string; result?: BenchResult; error?: string; ok: boolean }[] = [];
  let failed = false;
  for (const b of selected) {
    try {
      const r = await b.run();
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

process.exitCode = await main(process.argv.slice(2));
