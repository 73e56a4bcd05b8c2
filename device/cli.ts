/**
 * On-site CLI for a technician at the station (DESIGN.md §6):
 *   ruralsat-rx status                                  (through the running agent)
 *   ruralsat-rx --config /etc/ruralsat/agent.json tune cctv1
 *   ruralsat-rx --port /dev/serial/by-id/usb-FTDI_… status   (the agent is stopped: the port itself)
 * When the agent runs, the CLI goes through its control socket and takes a time-limited maintenance hold for
 * changes; otherwise it opens the port itself, locked exclusively (BUSY if something else holds it). Agent
 * and CLI never fight over the half-duplex line (device/cli/route.ts).
 */
import { pino } from 'pino';
import { runCli } from './cli/run.js';
import { loadAgentConfigFromProcess } from './config.js';
import { realTimers } from './receiver/timers.js';

const controller = new AbortController();
// Ctrl-C ends `watch` cleanly (the port is closed and unlocked, the maintenance hold released); a second
// Ctrl-C kills at once (the hold then ends by itself at its time limit). A closed SSH session or a stop
// ends the session the same way.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    controller.abort();
    process.once(signal, () => process.exit(130));
  });
}
// The receiver timers are unref'd; through the agent no port stays open between two watch readings, so
// this keeps the process alive until the command is done.
const keepAlive = setInterval(() => undefined, 1 << 30);

runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: process.stdout.isTTY === true,
  timers: realTimers,
  // Diagnostics go to stderr so stdout stays the command's output (pipe-friendly, --json).
  logDestination: pino.destination(2),
  signal: controller.signal,
  // `--config` is read as the agent reads it (RURALSAT_* overrides included), so both find the same socket.
  loadConfig: (file) => loadAgentConfigFromProcess(file),
}).then(
  (code) => {
    clearInterval(keepAlive);
    process.exitCode = code;
  },
  (err: unknown) => {
    clearInterval(keepAlive);
    process.stderr.write(`ruralsat-rx: unexpected failure: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
