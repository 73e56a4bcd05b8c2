/**
 * Starting simulated receivers from parsed arguments: line-up and fault files, endpoints, the shared
 * stream hub, run-time fault control. main.ts is the process shell around this; the quick-start fleet
 * and tests call it in-process.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { z } from 'zod';
import { defaultTiming, shortTiming } from '../../protocol/timing.js';
import { loadLineup, readJsonFile } from '../receiver/lineup-file.js';
import type { Timers } from '../receiver/timers.js';
import type { SimulatorArgs } from './args.js';
import { listenTcpLine, openPtyLine } from './endpoints.js';
import { FAULT_KINDS, type FaultKind, FaultStep, parseFaultScript } from './faults.js';
import { parseUdpUrl } from './relay.js';
import { Rx8200Simulator } from './rx8200-sim.js';
import { StreamHub } from './stream-source.js';

/** Load a fault script file; throws with every problem listed. */
export async function loadFaultFile(path: string): Promise<FaultStep[]> {
  const json = await readJsonFile(path, 'fault script');
  try {
    return parseFaultScript(json);
  } catch (err) {
    if (err instanceof z.ZodError)
      throw new Error(`fault script ${path} is invalid:\n${z.prettifyError(err)}`);
    throw err;
  }
}

export interface RunningSimulators {
  simulators: Rx8200Simulator[];
  /** Where each receiver listens: `tcp 127.0.0.1:7000` or `pty /dev/pts/3`. */
  endpoints: string[];
  hub: StreamHub;
  /** Apply one control line (`{"kind":…}` JSON, `clear [kind]`, `status`); returns the text to print. */
  control(line: string): string;
  close(): Promise<void>;
}

function nthOutput(url: string | undefined, i: number): string | null {
  if (url === undefined) return null;
  const t = parseUdpUrl(url);
  return `udp://${t.host}:${t.port + i}`;
}

/** Start the receivers `args` describe, sharing one stream hub. */
export async function startSimulators(
  args: SimulatorArgs,
  deps: { timers: Timers; logger: Logger },
): Promise<RunningSimulators> {
  const lineup = await loadLineup(args.lineup);
  const script = args.faults ? await loadFaultFile(args.faults) : [];
  const timing = args.timing === 'short' ? shortTiming : defaultTiming;
  const hub = new StreamHub({
    spawn,
    timers: deps.timers,
    logger: deps.logger.child({ module: 'device/simulator/stream' }),
  });
  const simulators: Rx8200Simulator[] = [];
  const endpoints: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  try {
    for (let i = 0; i < args.count; i++) {
      const log = deps.logger.child({ module: 'device/simulator', receiver: i });
      const sim = new Rx8200Simulator(
        {
          address: args.address,
          output: nthOutput(args.output, i),
          lineup,
          lockDelayMs: args.lockDelayMs ?? timing.simulatorLockDelayMs,
          baudRate: args.baud,
          seed: args.seed + i,
          signal: { defaultCnDb: args.cn },
        },
        { timers: deps.timers, logger: log, hub },
      );
      simulators.push(sim);
      closers.push(() => sim.close());
      if (args.pty !== undefined) {
        sim.attach(await openPtyLine(args.pty, args.baud || 9600, log));
        endpoints.push(`pty ${args.pty}`);
      } else {
        const line = await listenTcpLine(args.tcp === 0 ? 0 : (args.tcp ?? 0) + i, args.host, log);
        sim.attach(line);
        endpoints.push(`tcp ${args.host}:${line.port}`);
      }
      sim.faults.load(script);
    }
  } catch (err) {
    await Promise.allSettled(closers.map((c) => c()));
    await hub.close();
    throw err;
  }
  return {
    simulators,
    endpoints,
    hub,
    control: (line) => control(simulators, line),
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
      await hub.close();
    },
  };
}

function control(simulators: Rx8200Simulator[], raw: string): string {
  const line = raw.trim();
  if (line === '') return '';
  if (line === 'status') {
    return JSON.stringify(simulators.map((s) => s.snapshot()));
  }
  const clear = /^clear(?:\s+(\S+))?$/.exec(line);
  if (clear) {
    const kind = clear[1];
    if (kind !== undefined && !(FAULT_KINDS as readonly string[]).includes(kind)) {
      return `unknown fault kind ${kind}; one of ${FAULT_KINDS.join(', ')}`;
    }
    for (const s of simulators) s.faults.clear(kind as FaultKind | undefined);
    return kind ? `cleared ${kind}` : 'cleared all faults';
  }
  try {
    const step = FaultStep.parse(JSON.parse(line));
    for (const s of simulators) s.faults.inject(step);
    return `injected ${line}`;
  } catch (err) {
    const message = err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message;
    return `not a fault step: ${message}`;
  }
}
