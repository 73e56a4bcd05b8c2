/**
 * The benchmark runner's contract (STYLE.md: benchmarks are scripts, not tests; each prints the measured
 * figure beside a baseline measured in the same run, and the ratio). A bench module exports one `Bench`;
 * `registry.ts` lists them and `run.ts` prints the table.
 */

/** A budget from DESIGN.md §8: an absolute ceiling, a ceiling relative to the baseline, or both. */
export interface Budget {
  /** Largest acceptable measured value, in the bench's unit. */
  max?: number;
  /** Largest acceptable value / baseline. */
  maxRatio?: number;
}

/** What one bench measured. */
export interface BenchResult {
  /** The figure under budget (median over runs). */
  value: number;
  /** The honest floor measured in the same run (same work without the system's logic, or a peer). */
  baseline: number;
  /** One line of context: workload size, spread, anything a reader needs to trust the figure. */
  note: string;
}

export interface Bench {
  /** Short name shown in the table and used to select benches on the command line. */
  name: string;
  /** Unit of `value` and `baseline`, e.g. `ms`. */
  unit: string;
  budget: Budget;
  /** What the baseline is, in a few words. */
  baselineLabel: string;
  run(): Promise<BenchResult>;
}

/** Timing of one function over repeated runs, in milliseconds. */
export interface Samples {
  /** Wall-clock time per run. */
  median: number;
  min: number;
  max: number;
  /**
   * CPU time of this process per run (user + system, all threads: GC helpers included). On the shared
   * 2-core machine wall time mostly measures the other processes; CPU time is what the code costs.
   */
  cpuMedian: number;
  cpuMin: number;
  runs: number;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Runs `fn` `warmup` times unmeasured (JIT), then `runs` times, and returns its wall and CPU time per run.
 * `fn` returns a value derived from its work (a count, a checksum) so the work cannot be optimised away.
 */
export function measure(fn: () => unknown, runs = 15, warmup = 3): Samples {
  const sink: unknown[] = [];
  for (let i = 0; i < warmup; i++) sink.push(fn());
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    sink.push(fn());
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  if (sink.includes(undefined)) throw new Error('a bench function returned nothing');
  return {
    median: median(wall),
    min: Math.min(...wall),
    max: Math.max(...wall),
    cpuMedian: median(cpu),
    cpuMin: Math.min(...cpu),
    runs,
  };
}

/** Judges a result against its budget. */
export function verdict(budget: Budget, r: BenchResult): { ok: boolean; text: string } {
  const fails: string[] = [];
  if (budget.max !== undefined && r.value > budget.max) fails.push(`> ${budget.max}`);
  const ratio = r.value / r.baseline;
  if (budget.maxRatio !== undefined && ratio > budget.maxRatio) fails.push(`ratio > ${budget.maxRatio}`);
  return fails.length === 0 ? { ok: true, text: 'ok' } : { ok: false, text: `OVER (${fails.join(', ')})` };
}

/** The budget as text, e.g. `≤ 50 ms` or `≤ 2× baseline`. */
export function budgetText(b: Budget, unit: string): string {
  const parts: string[] = [];
  if (b.max !== undefined) parts.push(`≤ ${b.max} ${unit}`);
  if (b.maxRatio !== undefined) parts.push(`≤ ${b.maxRatio}× baseline`);
  return parts.join(' and ') || 'none';
}
