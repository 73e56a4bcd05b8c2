/**
 * The scale benches' station processes (DESIGN.md §8: thousands of simulated stations on 2 cores): the
 * messages between a bench and a station host (station-host.ts) over Node's IPC channel, and the bench's
 * handle on one host. Both ends are ours, but what arrives is still parsed (STYLE.md guideline 1); the
 * station secrets travel here, never on a command line where `ps` shows them.
 *
 * A host runs any mix of three kinds of station, each on its own MQTT connection as its own station id:
 * - `sim`: scripts/load/sim-station.ts — validates and applies schedule documents, reports the applied
 *   version and hash in its retained state (the fan-out benches' real path);
 * - `bare`: subscribes to its schedule topic and answers every message with a retained state of a fixed
 *   size (the bare fan-out floor);
 * - `telemetry`: telemetry-station.ts — birth, schedule applied, clock RPC answered, and a QoS 0 telemetry
 *   sample every period when told to send (the ingest bench).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const Member = z.strictObject({ id: z.string(), secret: z.string() });

/** Where a group of stations connects and under which topic root. */
const Group = {
  url: z.string(),
  root: z.string(),
  stations: z.array(Member),
  /** Connections opened at once while connecting the group. */
  concurrency: z.number().int().positive().default(100),
};

/** Bench → host. */
export const ToHost = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('sim'), id: z.number(), ...Group }),
  z.strictObject({
    op: z.literal('bare'),
    id: z.number(),
    ...Group,
    /** Size of the retained state each bare station answers with. */
    answerBytes: z.number().int().positive(),
  }),
  z.strictObject({
    op: z.literal('telemetry-stations'),
    id: z.number(),
    ...Group,
    /** Service keys of the line-up; each station's receivers are tuned to some of them. */
    services: z.array(z.string()).min(1),
  }),
  z.strictObject({
    op: z.literal('telemetry'),
    id: z.number(),
    /** Each telemetry station sends one sample per period, phases spread evenly over the period. */
    periodMs: z.number().int().positive(),
    on: z.boolean(),
  }),
  z.strictObject({ op: z.literal('stats'), id: z.number() }),
  z.strictObject({ op: z.literal('stop'), id: z.number() }),
]);
export type ToHost = z.infer<typeof ToHost>;

/** What `stats` answers. */
export const HostStats = z.strictObject({
  pid: z.number(),
  rssBytes: z.number(),
  cpuMs: z.number(),
  connected: z.strictObject({ sim: z.number(), bare: z.number(), telemetry: z.number() }),
  /** Telemetry samples published so far. */
  telemetrySent: z.number(),
  /** Bare answers published so far. */
  bareAnswers: z.number(),
  /** Clock exchanges the telemetry stations answered. */
  rpcAnswered: z.number(),
});
export type HostStats = z.infer<typeof HostStats>;

/** Host → bench: the answer to request `id`. */
export const FromHost = z.discriminatedUnion('ok', [
  z.strictObject({ id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: z.number(), ok: z.literal(false), error: z.string() }),
]);
export type FromHost = z.infer<typeof FromHost>;

type Request =
  z.input<typeof ToHost> extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;
type GroupInput = {
  url: string;
  root: string;
  stations: { id: string; secret: string }[];
  concurrency?: number;
};

/** The bench's handle on one station process. */
export interface StationHost {
  readonly pid: number;
  /** Connects SimStations; resolves with the size of one sim station's retained state, bytes. */
  sim(g: GroupInput): Promise<{ stateBytes: number }>;
  bare(g: GroupInput & { answerBytes: number }): Promise<void>;
  telemetryStations(g: GroupInput & { services: string[] }): Promise<void>;
  telemetry(on: boolean, periodMs: number): Promise<void>;
  stats(): Promise<HostStats>;
  /** Closes every connection and waits for the process to exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Forks a station host (under the tsx loader when this module runs as TypeScript). */
export function spawnStationHost(): StationHost {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  const entry = self.replace(/station-host-ipc\.(ts|js)$/, `station-host.${ts ? 'ts' : 'js'}`);
  const child: ChildProcess = fork(entry, [], {
    execArgv: ts ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (raw) => {
    const m = FromHost.safeParse(raw);
    if (!m.success) return;
    const p = pending.get(m.data.id);
    if (!p) return;
    pending.delete(m.data.id);
    if (m.data.ok) p.resolve(m.data.result);
    else p.reject(new Error(m.data.error));
  });
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`the station host exited (${code ?? signal})`));
    pending.clear();
  });
  const call = (req: Request): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (!child.connected) return reject(new Error('the station host is not running'));
      const id = next++;
      pending.set(id, { resolve, reject });
      child.send({ ...req, id });
    });
  let stopped: Promise<void> | null = null;
  return {
    pid: child.pid ?? -1,
    sim: async (g) => z.strictObject({ stateBytes: z.number() }).parse(await call({ op: 'sim', ...g })),
    bare: async (g) => void (await call({ op: 'bare', ...g })),
    telemetryStations: async (g) => void (await call({ op: 'telemetry-stations', ...g })),
    telemetry: async (on, periodMs) => void (await call({ op: 'telemetry', on, periodMs })),
    stats: async () => HostStats.parse(await call({ op: 'stats' })),
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await call({ op: 'stop' }).catch(() => child.kill('SIGKILL'));
        await exited;
        clearTimeout(kill);
      })();
      return stopped;
    },
  };
}
