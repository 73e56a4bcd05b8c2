/**
 * The station agent's entry point: `node dist/device/main.js --config /etc/ruralsat/agent.json`.
 * JSON logs on stdout (journald-friendly); SIGTERM or SIGINT → a clean stop (recorders stopped with `q`,
 * offline state published, database closed); a bad config → every field error on stderr, exit 2.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startAgent } from './agent.js';
import { AgentConfigError, loadAgentConfigFromProcess } from './config.js';
import { LogRing } from './diagnostics/log-ring.js';
import { systemClock } from './link/clock.js';
import { createLogger } from './log.js';

const USAGE = 'usage: ruralsat-agent --config <file.json>   (or RURALSAT_AGENT_CONFIG=<file>)';

async function main(): Promise<number> {
  let file: string | undefined;
  try {
    const args = parseArgs({
      options: { config: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
    });
    if (args.values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    file = args.values.config;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let config: ReturnType<typeof loadAgentConfigFromProcess>;
  try {
    config = loadAgentConfigFromProcess(file);
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // The recent lines also stay in memory for the `logs.tail` RPC (device/diagnostics/log-ring.ts).
  const logs = new LogRing();
  const logger = createLogger({ level: config.logLevel, name: 'ruralsat-agent', ring: logs });
  const agent = await startAgent(config, { clock: systemClock(), logger, spawn, logs });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      agent.stop().then(resolve, (err: unknown) => {
        logger.error({ err }, 'stop failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ruralsat-agent: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
