/**
 * On-site CLI for a technician at the station (DESIGN.md §6):
 *   ruralsat-rx --port /dev/serial/by-id/usb-FTDI_… status
 *   ruralsat-rx --tcp 127.0.0.1:7000 --lineup lineup.json tune cctv1
 * It opens the port itself, locked exclusively: if the agent holds it, the CLI says BUSY rather than
 * fighting it for the half-duplex line. (The route through the agent's control socket with a maintenance
 * hold plugs into `ReceiverAccess`, device/cli/access.ts.)
 */
import { pino } from 'pino';
import { runCli } from './cli/run.js';
import { realTimers } from './receiver/timers.js';

const controller = new AbortController();
// Ctrl-C ends `watch` cleanly (the port is closed and unlocked); a second Ctrl-C kills at once.
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});

runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: process.stdout.isTTY === true,
  timers: realTimers,
  // Diagnostics go to stderr so stdout stays the command's output (pipe-friendly, --json).
  logDestination: pino.destination(2),
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ruralsat-rx: unexpected failure: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
