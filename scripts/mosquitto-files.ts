/**
 * Script form of `ruralsat-headend mosquitto-files`: renders Mosquitto's password_file, acl_file and a
 * mosquitto.conf fragment from the headend's registry (DESIGN.md §3).
 *   node --import=tsx scripts/mosquitto-files.ts --config headend.json --out /etc/mosquitto/ruralsat
 */
import { runCli } from '../headend/cli.js';

runCli(['mosquitto-files', ...process.argv.slice(2)], {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
}).then((code) => {
  process.exitCode = code;
});
