// Ad-hoc measurement (not part of the repo): agent RSS idle / recording, start accuracy.
import { readFile } from 'node:fs/promises';
import { agentConfig, scheduleDoc, sleep, startAedes, startHeadendDouble, startSimReceiver, tempDir, until, ffmpegPidsWith, STATION } from './tests/helpers/agent-harness.js';

const teardowns: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => teardowns.push(fn), comment: () => undefined } as never;
const rss = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
try {
  const dir = await tempDir(t);
  const broker = await startAedes(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const config = agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl, extra: { logLevel: 'info' } });
  const { spawn } = await import('node:child_process');
  const { writeFile } = await import('node:fs/promises');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(config.dataDir, { recursive: true });
  const cfgFile = `${dir}/agent.json`;
  await writeFile(cfgFile, JSON.stringify(config));
  const { createWriteStream } = await import('node:fs');
  const out = createWriteStream(`${dir}/agent.log`);
  const proc = spawn(process.execPath, ['/tmp/f2dist/device/main.js', '--config', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.pipe(out); proc.stderr.pipe(out);
  teardowns.push(() => proc.kill('SIGKILL'));
  const agent = { pid: proc.pid as number, log: () => readFile(`${dir}/agent.log`, 'utf8') };
  headend.startClockExchanges(STATION, 1000);
  await sleep(15_000);
  const idle = await rss(agent.pid);
  const start = Date.now() + 8000;
  await headend.publishSchedule(STATION, scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [{ id: 'm', service: 'cctv1', start, end: start + 40_000 }]));
  await sleep(start + 20_000 - Date.now());
  const rec = await rss(agent.pid);
  const ff = await ffmpegPidsWith(config.recordingsDir);
  const ffRss = ff.length ? await rss(ff[0] as number) : 0;
  await until(() => [...headend.events.values()].some((e) => e.event.type === 'recording.manifest'), 'manifest', 60_000);
  const log = await agent.log();
  const fb = log.split('\n').filter((l) => l.includes('first byte recorded'));
  console.log(JSON.stringify({ idleRssMiB: idle.toFixed(1), recordingRssMiB: rec.toFixed(1), ffmpegRssMiB: ffRss.toFixed(1), firstByte: fb.map((l) => { const j = JSON.parse(l); return { plannedStartMarkMs: j.plannedStartMarkMs, lateByMs: j.lateByMs }; }) }));
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
