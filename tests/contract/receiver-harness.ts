/**
 * Test rigs: a simulated RX8200 in this process, reached by the real RX8200 driver over a socat pty pair
 * (real serialport binding) or over raw TCP — the two transports of DESIGN.md §6. Each rig is built fresh
 * for one test and torn down with it (socat, ffmpeg and sockets included).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { silentLogger } from '../../device/log.js';
import { createRx8200Driver, type Rx8200Driver } from '../../device/receiver/drivers/rx8200.js';
import { loadLineup } from '../../device/receiver/lineup-file.js';
import { realTimers } from '../../device/receiver/timers.js';
import { SerialTransport } from '../../device/receiver/transports/serial.js';
import { TcpTransport } from '../../device/receiver/transports/tcp.js';
import type { Transport } from '../../device/receiver/transports/transport.js';
import { listenTcpLine, openPtyLine, type TcpLine } from '../../device/simulator/endpoints.js';
import { Rx8200Simulator } from '../../device/simulator/rx8200-sim.js';
import { StreamHub } from '../../device/simulator/stream-source.js';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import { shortTiming, type TimingProfile } from '../../protocol/timing.js';
import { freeUdpPort } from '../helpers/net.js';
import { createPtyPair, type PtyPair } from '../helpers/socat.js';

export const SAMPLE_LINEUP = fileURLToPath(new URL('../fixtures/lineup/sample-lineup.json', import.meta.url));

export type Via = 'pty' | 'tcp';

export interface RigOptions {
  via: Via;
  /** Start a stream hub and give the simulator a UDP output (real ffmpeg). */
  stream?: boolean;
  /** Address the simulator answers on (default 2). */
  simAddress?: number;
  /** Address the driver talks to (default: the simulator's). */
  driverAddress?: number;
  timing?: TimingProfile;
  /** Reuse a hub (two receivers sharing one source). */
  hub?: StreamHub;
}

export interface SimRig {
  driver: Rx8200Driver;
  sim: Rx8200Simulator;
  transport: Transport;
  hub: StreamHub | null;
  lineup: ServiceTuning[];
  /** UDP port the simulator's TS output goes to (null without stream). */
  outputPort: number | null;
  /** pty pair (via pty) — unplug/replug simulates a USB-serial adapter coming and going. */
  pty: PtyPair | null;
  /** TCP line (via tcp) — dropConnection simulates a device server reboot. */
  tcp: TcpLine | null;
  service(key: string): ServiceTuning;
  close(): Promise<void>;
}

/** Build a rig and register its teardown on `t`. */
export async function startSimRig(t: Test, options: RigOptions): Promise<SimRig> {
  const timing = options.timing ?? shortTiming;
  const logger = silentLogger();
  const lineup = await loadLineup(SAMPLE_LINEUP);
  const ownHub = options.stream && !options.hub;
  const hub =
    options.hub ??
    (options.stream ? new StreamHub({ spawn, timers: realTimers, logger, lingerMs: 500 }) : null);
  const outputPort = options.stream ? await freeUdpPort() : null;
  const simAddress = options.simAddress ?? 2;
  const sim = new Rx8200Simulator(
    {
      address: simAddress,
      output: outputPort === null ? null : `udp://127.0.0.1:${outputPort}`,
      lineup,
      lockDelayMs: timing.simulatorLockDelayMs,
      baudRate: 9600,
      tickMs: 100,
    },
    { timers: realTimers, logger, hub },
  );
  const deps = {
    timers: realTimers,
    logger,
    reopenMinMs: timing.transportReopenMinMs,
    reopenMaxMs: timing.transportReopenMaxMs,
  };
  let pty: PtyPair | null = null;
  let tcp: TcpLine | null = null;
  let transport: Transport;
  if (options.via === 'pty') {
    pty = await createPtyPair();
    sim.attach(await openPtyLine(pty.a, 9600, logger));
    transport = new SerialTransport({ path: pty.b, baudRate: 9600 }, deps);
  } else {
    tcp = await listenTcpLine(0, '127.0.0.1', logger);
    sim.attach(tcp);
    transport = new TcpTransport({ host: '127.0.0.1', port: tcp.port }, deps);
  }
  await transport.open();
  const driver = createRx8200Driver(
    { address: options.driverAddress ?? simAddress, timing },
    { transport, timers: realTimers, logger },
  );
  let closed = false;
  const rig: SimRig = {
    driver,
    sim,
    transport,
    hub,
    lineup,
    outputPort,
    pty,
    tcp,
    service(key) {
      const s = lineup.find((x) => x.key === key);
      if (!s) throw new Error(`no service ${key} in the sample line-up`);
      return s;
    },
    async close() {
      if (closed) return;
      closed = true;
      await driver.close();
      await sim.close();
      if (ownHub) await hub?.close();
      await pty?.close();
    },
  };
  t.teardown(() => rig.close());
  return rig;
}

/** Poll `fn` until it returns true or `timeoutMs` passes. */
export async function eventually(
  fn: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return fn();
}

/** A simulated receiver alone (no driver): for the CLI, which opens the port itself. */
export interface SimEndpoint {
  sim: Rx8200Simulator;
  /** CLI arguments that reach it: `--port <pty end>` or `--tcp 127.0.0.1:<port>`. */
  args: string[];
  /** The pty end the CLI opens (via pty). */
  portPath: string | null;
}

export async function startSimEndpoint(
  t: Test,
  via: Via,
  timing: TimingProfile = shortTiming,
): Promise<SimEndpoint> {
  const logger = silentLogger();
  const sim = new Rx8200Simulator(
    {
      address: 2,
      output: null,
      lineup: await loadLineup(SAMPLE_LINEUP),
      lockDelayMs: timing.simulatorLockDelayMs,
      baudRate: 9600,
      tickMs: 100,
    },
    { timers: realTimers, logger, hub: null },
  );
  t.teardown(() => sim.close());
  if (via === 'pty') {
    const pty = await createPtyPair();
    t.teardown(() => pty.close());
    sim.attach(await openPtyLine(pty.a, 9600, logger));
    return { sim, args: ['--port', pty.b], portPath: pty.b };
  }
  const tcp = await listenTcpLine(0, '127.0.0.1', logger);
  sim.attach(tcp);
  return { sim, args: ['--tcp', `127.0.0.1:${tcp.port}`], portPath: null };
}
