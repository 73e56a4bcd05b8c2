/**
 * CPU and memory of a process tree, sampled from /proc (Linux): how much of the machine the quick-start
 * fleet takes (issue 7 "CPU/RSS of the quick-start fleet"). Every second it reads utime+stime and VmRSS of
 * the root process and all its descendants (the fleet process, ffmpeg sources and recorders), then prints
 * the average CPU in % of one core and the RSS, per process kind and in total.
 *
 *   node dist/scripts/fleet/proc-sample.js --pid <npm start's node pid> [--seconds 60]
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const TICK_HZ = 100; // USER_HZ on Linux

interface Proc {
  pid: number;
  ppid: number;
  cpuTicks: number;
  rssKb: number;
  kind: string;
}

function read(pid: number): Proc | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const exe = cmd[0]?.split('/').pop() ?? '?';
    const kind =
      exe === 'ffmpeg'
        ? cmd.includes('lavfi')
          ? 'ffmpeg source'
          : 'ffmpeg recorder'
        : exe === 'ffprobe'
          ? 'ffprobe'
          : cmd.some((a) => a.includes('fleet-child'))
            ? 'fleet (agents)'
            : exe === 'node'
              ? 'headend'
              : exe;
    return { pid, ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]), rssKb: rss, kind };
  } catch {
    return null;
  }
}

/** The root and every descendant, now. */
export function tree(root: number): Proc[] {
  const all = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => read(Number(d)))
    .filter((p): p is Proc => p !== null);
  const keep = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all)
      if (!keep.has(p.pid) && keep.has(p.ppid)) {
        keep.add(p.pid);
        grew = true;
      }
  }
  return all.filter((p) => keep.has(p.pid));
}

export async function sample(root: number, seconds: number): Promise<string> {
  const first = new Map(tree(root).map((p) => [p.pid, p]));
  const rss: Record<string, number[]> = {};
  let last = first;
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    last = new Map(tree(root).map((p) => [p.pid, p]));
    const byKind: Record<string, number> = {};
    for (const p of last.values()) byKind[p.kind] = (byKind[p.kind] ?? 0) + p.rssKb;
    byKind.total = [...last.values()].reduce((a, p) => a + p.rssKb, 0);
    for (const [k, v] of Object.entries(byKind)) {
      rss[k] ??= [];
      rss[k].push(v);
    }
  }
  const cpu: Record<string, number> = {};
  const count: Record<string, number> = {};
  for (const p of last.values()) {
    // Processes that started during the window count from zero.
    const used = p.cpuTicks - (first.get(p.pid)?.cpuTicks ?? 0);
    cpu[p.kind] = (cpu[p.kind] ?? 0) + used;
    count[p.kind] = (count[p.kind] ?? 0) + 1;
  }
  cpu.total = Object.values(cpu).reduce((a, b) => a + b, 0);
  count.total = last.size;
  const rows = Object.keys(rss).map((k) => {
    const r = rss[k] ?? [0];
    const pct = ((cpu[k] ?? 0) / TICK_HZ / seconds) * 100;
    return `${k.padEnd(16)} ${String(count[k] ?? 0).padStart(5)} ${pct.toFixed(1).padStart(8)} ${(Math.max(...r) / 1024).toFixed(0).padStart(9)} ${(r.reduce((a, b) => a + b, 0) / r.length / 1024).toFixed(0).padStart(9)}`;
  });
  return [
    `process tree of pid ${root}, ${seconds} s (CPU in % of one core; the machine has ${(await import('node:os')).cpus().length})`,
    `${'kind'.padEnd(16)} ${'procs'.padStart(5)} ${'CPU %'.padStart(8)} ${'RSS max MB'.padStart(9)} ${'RSS avg MB'.padStart(9)}`,
    ...rows,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { pid: { type: 'string' }, seconds: { type: 'string' } } });
  const pid = Number(values.pid);
  if (!Number.isInteger(pid) || pid < 1) {
    process.stderr.write('usage: proc-sample --pid PID [--seconds 60]\n');
    process.exitCode = 2;
  } else {
    void sample(pid, Number(values.seconds ?? 60)).then((s) => process.stdout.write(`${s}\n`));
  }
}
