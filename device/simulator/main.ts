/**
 * Standalone simulated RX8200 receiver(s):
 *   node dist/device/simulator/main.js --tcp 7000 --lineup lineup.json --output udp://127.0.0.1:5000
 * Point a driver, the on-site CLI, or a terminal (`socat - TCP:127.0.0.1:7000`) at it. Logs are JSON
 * lines on stdout; control lines (fault steps, `clear`, `status`) are read from stdin.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { createInterface } from 'node:readline';
import { createLogger } from '../log.js';
import { realTimers } from '../receiver/timers.js';
import { ArgsError, parseSimulatorArgs, SIMULATOR_USAGE } from './args.js';
import { loadFaultFile, startSimulators } from './run.js';

async function main(): Promise<number> {
  let args: ReturnType<typeof parseSimulatorArgs>;
  try {
    args = parseSimulatorArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ArgsError) {
      process.stderr.write(`ruralsat-sim: ${err.message}\n\n${SIMULATOR_USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: args.logLevel, name: 'ruralsat-sim' });
  let running: Awaited<ReturnType<typeof startSimulators>>;
  try {
    running = await startSimulators(args, { timers: realTimers, logger });
  } catch (err) {
    process.stderr.write(`ruralsat-sim: ${(err as Error).message}\n`);
    return 1;
  }
  logger.info(
    { endpoints: running.endpoints, address: args.address, output: args.output ?? null },
    'simulator ready',
  );

  const faultFile = args.faults;
  if (faultFile) {
    // Edit the file while the simulator runs to change the fault script (issue 3: "changed at run time").
    watchFile(faultFile, { interval: 500 }, () => {
      loadFaultFile(faultFile).then(
        (script) => {
          for (const s of running.simulators) s.faults.load(script);
          logger.info({ steps: script.length }, 'fault script reloaded');
        },
        (err: Error) =>
          logger.error({ err: err.message }, 'fault script not reloaded (kept the previous one)'),
      );
    });
  }

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const out = running.control(line);
    if (out) process.stdout.write(`${out}\n`);
  });

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (faultFile) unwatchFile(faultFile);
  rl.close();
  await running.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ruralsat-sim: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
