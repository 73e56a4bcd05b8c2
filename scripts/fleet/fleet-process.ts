/**
 * The parent's handle on a fleet process (fleet-child.ts): forks it with an IPC channel — under the tsx
 * loader when this module itself runs as TypeScript (tests), plain Node from `dist/` (the demo) — starts the
 * fleet, and forwards fault injection and statistics requests. Stopping it stops every agent and every
 * ffmpeg it spawned; if the parent dies, the child notices the closed channel and does the same.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetFault, FleetFaultKind } from './fleet-faults.js';
import { type FleetStartOptions, FleetStats, FromChild, type ToChildInput } from './fleet-ipc.js';

export interface FleetProcess {
  readonly pid: number;
  /** Station ids running. */
  readonly stations: readonly string[];
  /** Injects a fault at a station (fleet-faults.ts); rejects with the child's error for a bad one. */
  inject(stationId: string, fault: FleetFault): Promise<void>;
  clear(stationId: string, kind: FleetFaultKind): Promise<void>;
  stats(): Promise<FleetStats>;
  /** Stops the fleet and waits for the process to exit. */
  stop(): Promise<void>;
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void };
type Request = ToChildInput extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

/** Forks the fleet process and starts the fleet in it (rejects with the child's error). */
export async function spawnFleetProcess(options: FleetStartOptions): Promise<FleetProcess> {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  const entry = self.replace(/fleet-process\.(ts|js)$/, `fleet-child.${ts ? 'ts' : 'js'}`);
  const child: ChildProcess = fork(entry, [], {
    execArgv: ts ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const pending = new Map<number, Pending>();
  let next = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (raw) => {
    const m = FromChild.safeParse(raw);
    if (!m.success) return;
    const p = pending.get(m.data.id);
    if (!p) return;
    pending.delete(m.data.id);
    if (m.data.ok) p.resolve(m.data.result);
    else p.reject(new Error(m.data.error));
  });
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`the fleet process exited (${code ?? signal})`));
    pending.clear();
  });
  const call = (req: Request): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (!child.connected) {
        reject(new Error('the fleet process is not running'));
        return;
      }
      const id = next++;
      pending.set(id, { resolve, reject });
      child.send({ ...req, id });
    });
  let stations: string[];
  try {
    const started = (await call({ op: 'start', options })) as { stations: string[] };
    stations = started.stations;
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    pid: child.pid ?? -1,
    stations,
    inject: async (station, fault) => void (await call({ op: 'inject', station, fault })),
    clear: async (station, kind) => void (await call({ op: 'clear', station, kind })),
    stats: async () => FleetStats.parse(await call({ op: 'stats' })),
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await call({ op: 'stop' }).catch(() => undefined);
        if (child.connected) child.disconnect();
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}
