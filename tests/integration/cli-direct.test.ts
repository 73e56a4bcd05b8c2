/**
 * The on-site CLI in direct-port mode (DESIGN.md §6) against the simulated receiver over a socat pty (real
 * serialport binding) and raw TCP: what the technician types and reads, exit codes, and clear errors when
 * the port is wrong, busy or the address is wrong. Most runs call `runCli` in-process; one spawns the
 * real entry point.
 */
import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCli } from '../../device/cli/run.js';
import { silentLogger } from '../../device/log.js';
import { realTimers } from '../../device/receiver/timers.js';
import { SerialTransport } from '../../device/receiver/transports/serial.js';
import { SAMPLE_LINEUP, startSimEndpoint } from '../contract/receiver-harness.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], signal?: AbortSignal): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(['--timing', 'short', ...args], {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    isTTY: false,
    timers: realTimers,
    logDestination: new PassThrough(),
    ...(signal ? { signal } : {}),
  });
  return { code, out, err };
}

t.test('a technician session over the serial port: status, tune, watch, raw', async (t) => {
  const rx = await startSimEndpoint(t, 'pty');
  const fresh = await cli([...rx.args, 'status']);
  t.equal(fresh.code, 0, 'status exits 0');
  t.match(fresh.out, /lock\s+NO LOCK/, 'a fresh receiver is not locked');

  const tune = await cli([...rx.args, '--lineup', SAMPLE_LINEUP, 'tune', 'cctv1']);
  t.equal(tune.code, 0, tune.err);
  t.match(tune.out, /tuning to CCTV-1/);
  t.match(tune.out, /lock\s+LOCKED/, 'locked after the tune');
  t.match(tune.out, /margin\s+\+\d+\.\d dB \(healthy\)/, 'margin with its policy level');
  t.match(tune.out, /service 101/, 'service selected');

  const watch = await cli([...rx.args, 'watch', '--count', '3', '--interval', '100']);
  t.equal(watch.code, 0);
  const lines = watch.out.trim().split('\n');
  t.equal(lines.length, 3, 'one line per reading when not a terminal');
  for (const l of lines) t.match(l, /LOCKED +level +\d+ +C\/N +\d+\.\d dB +margin \+\d/);

  const raw = await cli([...rx.args, 'raw', 'OPR;QUA']);
  t.match(
    raw.out,
    /^\\002:OPR;SIG=\d{3}_EBN=[+-]\d\d\.\d_BER=\d\dE-\d_\$[0-9A-F]{2}\n$/,
    'the reply line as received',
  );
});

t.test('select, LNB power and identify over TCP, and --json output', async (t) => {
  const rx = await startSimEndpoint(t, 'tcp');
  t.equal((await cli([...rx.args, '--lineup', SAMPLE_LINEUP, 'tune', 'cctv1'])).code, 0);
  const sel = await cli([...rx.args, 'select', '102']);
  t.match(sel.out, /service 102 selected \(read back\)/);
  const off = await cli([...rx.args, 'lnb', 'off']);
  t.match(off.out, /LNB power off/);
  const json = await cli([...rx.args, '--json', 'status']);
  const status = JSON.parse(json.out) as { lnb: string; locked: boolean; serviceId: number };
  t.same(
    { lnb: status.lnb, locked: status.locked, serviceId: status.serviceId },
    { lnb: 'off', locked: false, serviceId: 102 },
  );
  await cli([...rx.args, 'lnb', 'on']);
  const id = await cli([...rx.args, 'identify']);
  t.match(id.out, /family\s+rx8200/);
  t.match(id.out, /address\s+002/);
  const watch = await cli([...rx.args, '--json', 'watch', '--count', '2', '--interval', '100']);
  t.equal(watch.out.trim().split('\n').length, 2, 'two JSON readings');
});

t.test('watch keeps going through a hung receiver and stops on Ctrl-C', async (t) => {
  const rx = await startSimEndpoint(t, 'tcp');
  rx.sim.faults.inject({ kind: 'hang', atMs: 200, durationMs: 1500 });
  const ctrlC = new AbortController();
  setTimeout(() => ctrlC.abort(), 3000);
  const watch = await cli([...rx.args, 'watch', '--interval', '150'], ctrlC.signal);
  t.equal(watch.code, 0, 'ends cleanly on abort');
  t.match(watch.out, /no answer: TIMEOUT/, 'says the receiver stopped answering');
  t.match(watch.out.trim().split('\n').at(-1) ?? '', /NO LOCK|LOCKED/, 'and reads again afterwards');
});

t.test('clear errors: busy port, missing port, wrong address, unsupported reset', async (t) => {
  const rx = await startSimEndpoint(t, 'pty');
  const holder = new SerialTransport(
    { path: rx.portPath ?? '', baudRate: 9600 },
    { timers: realTimers, logger: silentLogger(), reopenMinMs: 100, reopenMaxMs: 1000 },
  );
  await holder.open();
  const busy = await cli([...rx.args, 'status']);
  t.equal(busy.code, 1);
  t.match(busy.err, /error BUSY: .* is in use by another process/);
  t.match(busy.err, /hint: .*control socket/);
  await holder.close();

  const missing = await cli(['--port', '/dev/serial/by-id/usb-none', 'status']);
  t.equal(missing.code, 1);
  t.match(missing.err, /error PORT_NOT_FOUND: \/dev\/serial\/by-id\/usb-none does not exist/);

  const wrongAddress = await cli([...rx.args, '--address', '7', 'identify']);
  t.equal(wrongAddress.code, 1);
  t.match(wrongAddress.err, /error TIMEOUT: SYS;SRS: no reply/);
  t.match(wrongAddress.err, /--address/, 'the hint mentions the address');

  const reset = await cli([...rx.args, 'reset']);
  t.equal(reset.code, 1);
  t.match(reset.err, /error UNSUPPORTED/);
});

t.test('bad invocations exit 2 and list every problem with the usage', async (t) => {
  const bad = await cli(['--tcp', 'nonsense', '--address', '1000', 'frobnicate']);
  t.equal(bad.code, 2);
  t.match(bad.err, /unknown command "frobnicate"/);
  t.match(bad.err, /--address/);
  t.match(bad.err, /--tcp: .*host:port/);
  t.match(bad.err, /usage: ruralsat-rx/);
  const noLineup = await cli(['--tcp', '127.0.0.1:1', 'tune', 'cctv1']);
  t.match(noLineup.err, /tune needs --lineup/);
  const rx = await startSimEndpoint(t, 'tcp');
  const unknown = await cli([...rx.args, '--lineup', SAMPLE_LINEUP, 'tune', 'cctv99']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /no service cctv99 .* known: cctv1, cctv2/);
});

t.test('the real entry point: exit code and output of a spawned process', async (t) => {
  const rx = await startSimEndpoint(t, 'tcp');
  const entry = fileURLToPath(new URL('../../device/cli.ts', import.meta.url));
  const run = (args: string[]) =>
    new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        ['--import=tsx', entry, '--timing', 'short', ...args],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          const code = err ? Number((err as NodeJS.ErrnoException & { code?: unknown }).code ?? 1) : 0;
          resolve({ code, out: stdout, err: stderr });
        },
      );
    });
  const ok = await run([...rx.args, 'identify']);
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out, /family\s+rx8200/);
  const fail = await run([...rx.args, 'reset']);
  t.equal(fail.code, 1, 'exit 1 on a receiver error');
});
