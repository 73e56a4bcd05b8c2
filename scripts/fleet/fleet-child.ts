/**
 * The fleet process: runs the simulated fleet (sim-fleet.ts) on its own event loop, so the headend and the
 * 102 agents use the machine's two cores rather than take turns on one (DESIGN.md §7: "so 102 stations fit
 * on 2 cores"). Started by fleet-process.ts with an IPC channel; it answers `start`, `inject`, `clear`,
 * `stats` and `stop`. When the parent goes away (channel closed) or on SIGINT/SIGTERM it stops the fleet —
 * agents stop their recorders cleanly, every ffmpeg it spawned is killed — and exits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { FleetStartOptions, type FromChild, ToChild } from './fleet-ipc.js';
import { type SimFleet, startSimFleet } from './sim-fleet.js';

let fleet: SimFleet | null = null;
let stopping: Promise<void> | null = null;

function reply(msg: FromChild): void {
  if (process.connected) process.send?.(msg);
}

function stop(): Promise<void> {
  stopping ??= (async () => {
    const f = fleet;
    fleet = null;
    await f?.stop();
  })();
  return stopping;
}

async function handle(raw: unknown): Promise<void> {
  const parsed = ToChild.safeParse(raw);
  if (!parsed.success) return;
  const m = parsed.data;
  try {
    switch (m.op) {
      case 'start': {
        const o = FleetStartOptions.parse(m.options);
        fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
        const logDestination = pino.destination({ dest: o.logFile, sync: false });
        const logger = pino(
          { level: 'info', base: { app: 'ruralsat-fleet', pid: process.pid } },
          logDestination,
        );
        const { dataRoot, ...rest } = o;
        fleet = await startSimFleet({
          ...rest,
          ...(dataRoot ? { dataRoot } : {}),
          logger,
          logDestination,
        });
        reply({ id: m.id, ok: true, result: { stations: [...fleet.stations.keys()] } });
        return;
      }
      case 'inject':
        need().inject(m.station, m.fault);
        break;
      case 'clear':
        need().clear(m.station, m.kind);
        break;
      case 'stats': {
        const f = need();
        const cpu = process.cpuUsage();
        reply({
          id: m.id,
          ok: true,
          result: {
            pid: process.pid,
            rssBytes: process.memoryUsage().rss,
            cpuUserMs: cpu.user / 1000,
            cpuSystemMs: cpu.system / 1000,
            children: f.runningPids(),
            sources: f.hub.list().map((s) => ({ key: s.key, pid: s.pid, subscribers: s.subscribers })),
            stations: f.stations.size,
          },
        });
        return;
      }
      case 'stop':
        // The parent disconnects after this answer; the process exits on `disconnect`.
        await stop();
        break;
    }
    reply({ id: m.id, ok: true, result: null });
  } catch (err) {
    reply({ id: m.id, ok: false, error: (err as Error).message });
  }
}

function need(): SimFleet {
  if (!fleet) throw new Error('the fleet is not running');
  return fleet;
}

process.on('message', (m) => void handle(m));
// The parent went away (Ctrl-C, a crash, a test's teardown): nothing of the fleet may outlive it.
process.on('disconnect', () => void stop().finally(() => process.exit(0)));
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => void stop().finally(() => process.exit(0)));
