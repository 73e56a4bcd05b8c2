/**
 * The on-site CLI through a REAL running agent's control socket (DESIGN.md §6 "On-site CLI": agent and CLI
 * never fight over the half-duplex port). Real parts: in-process aedes, the simulated RX8200 on a socat pty
 * streaming real MPEG-TS, the agent (device/agent.ts) with the short timing profile, a headend double.
 * What the technician notices: reading the receiver works while the agent runs; a change takes the
 * maintenance hold, which the headend sees in the retained state and which goes away after the command; the
 * port itself answers BUSY; the hold ends by itself; what was due during the hold is deferred or missed
 * with `maintenance_hold`; clear errors for a stale, hung or forbidden socket. Most runs call `runCli`
 * in-process; the real entry point is spawned for `watch` (the process must stay alive between readings)
 * and, as an unprivileged user, for "permission denied".
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import mqtt from 'mqtt';
import t, { type Test } from 'tap';
import { runCli } from '../../device/cli/run.js';
import { controlSocketPath } from '../../device/config.js';
import { realTimers } from '../../device/receiver/timers.js';
import type { StationEvent } from '../../protocol/messages/events.js';
import { topics } from '../../protocol/topics.js';
import {
  agentConfig,
  REPO,
  STATION,
  scheduleDoc,
  sleep,
  startAedes,
  startHeadendDouble,
  startSimReceiver,
  startTestAgent,
  tempDir,
  until,
} from '../helpers/agent-harness.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

/** One in-process CLI run. `socketPaths` replaces the default socket locations (none exist in tests). */
async function cli(
  args: string[],
  opts: { signal?: AbortSignal; socketPaths?: string[] } = {},
): Promise<Run> {
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
    holder: 'tech-li@laptop',
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.socketPaths ? { socketPaths: opts.socketPaths } : {}),
  });
  return { code, out, err };
}

/** The real entry point as a child process (optionally as another user). */
function spawnCli(args: string[], opts: { uid?: number; gid?: number } = {}): Promise<Run> {
  // Without the test runner's NODE_OPTIONS: its coverage hooks write into the checkout, which another
  // user may not do.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import=tsx', path.join(REPO, 'device/cli.ts'), '--timing', 'short', ...args],
      { cwd: REPO, timeout: 60_000, env, ...opts },
      (err, stdout, stderr) => {
        const code = err ? Number((err as NodeJS.ErrnoException & { code?: unknown }).code ?? 1) : 0;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

/** Every state the station publishes, as the broker delivers it (retained first). */
async function stateWatcher(t: Test, brokerUrl: string) {
  const seen: Record<string, unknown>[] = [];
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `state-watch-${Date.now()}` });
  t.teardown(() => client.endAsync(true));
  client.on('message', (_topic, payload) => {
    seen.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
  });
  await client.subscribeAsync(topics().state(STATION), { qos: 1 });
  return {
    seen,
    holders: () => seen.flatMap((s) => (s.maintenance as { holder?: string } | undefined)?.holder ?? []),
    latest: () => seen.at(-1),
  };
}

/** The retained state as a client connecting now gets it from the broker. */
async function retainedState(brokerUrl: string): Promise<Record<string, unknown>> {
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `retained-${Date.now()}` });
  try {
    const got = new Promise<Record<string, unknown>>((resolve) =>
      client.once('message', (_t, p) => resolve(JSON.parse(p.toString('utf8')) as Record<string, unknown>)),
    );
    await client.subscribeAsync(topics().state(STATION), { qos: 1 });
    return await got;
  } finally {
    await client.endAsync(true);
  }
}

/** A running agent on a simulated receiver, with a schedule that gives it the tuning of cctv1 and cctv13. */
async function station(t: Test, entries: Parameters<typeof scheduleDoc>[2] = []) {
  const dir = await tempDir(t, 'cli-socket-');
  const broker = await startAedes(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const config = agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl });
  const agent = await startTestAgent(t, config);
  await until(() => agent.link.connected, 'the agent online');
  const tomorrow = Date.now() + 86_400_000;
  const publish = async (n: number, more: Parameters<typeof scheduleDoc>[2]) => {
    await headend.publishSchedule(
      STATION,
      scheduleDoc(rx.lineup, { epoch: 1, n }, [
        // Far away: only there so the applied schedule carries the tuning the CLI's `tune` names.
        { id: 'later-1', service: 'cctv1', start: tomorrow, end: tomorrow + 60_000 },
        { id: 'later-13', service: 'cctv13', start: tomorrow + 120_000, end: tomorrow + 180_000 },
        ...more,
      ]),
    );
    await until(() => agent.executor.appliedVersion?.n === n, `schedule ${n} applied`);
  };
  await publish(1, entries);
  const configFile = path.join(dir, 'agent.json');
  await writeFile(configFile, JSON.stringify(config));
  return { dir, broker, rx, headend, config, configFile, agent, sock: controlSocketPath(config), publish };
}

const occurrenceStates = (events: StationEvent[], entryId: string) =>
  events.flatMap((e) => (e.type === 'occurrence.state' && e.entryId === entryId ? [e] : []));

t.test(
  'through the running agent: status without a hold, changes under a hold the headend sees',
  async (t) => {
    const s = await station(t);
    const states = await stateWatcher(t, s.broker.url);

    const status = await cli(['--socket', s.sock, 'status']);
    t.equal(status.code, 0, status.err);
    t.match(status.out, /via\s+agent .*agent\.sock/, 'says it went through the agent');
    t.match(status.out, /lock\s+NO LOCK/, 'the receiver as it is');
    t.match(status.out, /hold\s+none\nrunning\s+nothing/, 'and what the agent is doing');
    t.notOk(s.agent.hold.active, 'reading needs no hold');

    const tune = await cli(['--socket', s.sock, 'tune', 'cctv1']);
    t.equal(tune.code, 0, tune.err);
    t.match(tune.out, /tuning to cctv1 \(the agent's tuning for it\)/);
    t.match(tune.out, /lock\s+LOCKED/, 'locked after the tune');
    t.match(tune.out, /service\s+101/);
    t.match(tune.err, /maintenance hold taken by tech-li@laptop until \d\d:\d\d:\d\dZ/);
    t.match(tune.err, /maintenance hold released/);
    t.notOk(s.agent.hold.active, 'the hold ended with the command');
    await until(() => states.holders().includes('tech-li@laptop'), 'the hold in a published state');
    await until(
      async () => !(await retainedState(s.broker.url)).maintenance,
      'retained state without the hold',
    );

    // To keep a change while working, the technician holds first: one-shot changes then use that hold and
    // leave it in place, and the agent does not undo them while it lasts.
    t.equal((await cli(['--socket', s.sock, 'hold', '--minutes', '0.5'])).code, 0);
    const off = await cli(['--socket', s.sock, 'lnb', 'off']);
    t.equal(off.code, 0, off.err);
    t.match(off.out, /LNB power off \(read back\)/);
    t.match(off.err, /using your maintenance hold/);
    t.ok(s.agent.hold.active, 'your hold stays after the command');
    await sleep(5 * s.agent.timing.receiverPollMs);
    const offStatus = await cli(['--socket', s.sock, '--json', 'status']);
    const parsed = JSON.parse(offStatus.out) as { lnb: string; agent: { state: { maintenance?: unknown } } };
    t.equal(parsed.lnb, 'off', 'still off a few agent polls later');
    t.ok(parsed.agent.state.maintenance, '--json status carries the agent part');
    const released = await cli(['--socket', s.sock, 'release']);
    t.match(released.out, /maintenance hold released/);
    // After the hold the agent verifies the receiver and restores what it was asked to deliver (the tune).
    await until(async () => {
      const r = await cli(['--socket', s.sock, '--json', 'status']);
      return (JSON.parse(r.out) as { lnb: string; locked: boolean }).locked;
    }, 'the agent to restore its tuning after the hold');

    // `--config`: the same socket, found from the agent's own config; no line-up needed to tune.
    const viaConfig = await cli(['--config', s.configFile, 'tune', 'cctv13']);
    t.equal(viaConfig.code, 0, viaConfig.err);
    t.match(viaConfig.out, /service\s+113/);
    const unknown = await cli(['--config', s.configFile, 'tune', 'cctv99']);
    t.equal(unknown.code, 1);
    t.match(unknown.err, /error AGENT_REFUSED: service cctv99 is not in the applied schedule/);
    t.notOk(s.agent.hold.active, 'a refused change leaves no hold behind');

    // Through the agent, a receiver error reads as on the direct port.
    const reset = await cli(['--socket', s.sock, 'reset']);
    t.equal(reset.code, 1);
    t.match(reset.err, /error UNSUPPORTED: .*\n {2}hint: this receiver family cannot do that remotely/);

    // When the agent is stopped, the CLI opens the port the agent's config names.
    await s.agent.stop();
    const stopped = await cli(['--config', s.configFile, 'status']);
    t.equal(stopped.code, 0, stopped.err);
    t.match(stopped.err, /the agent is not running .*: opening .* directly/);
    t.match(stopped.out, /via\s+serial /);
  },
);

t.test(
  'the port itself is BUSY while the agent holds it; holds of others; watch --hold renews',
  async (t) => {
    const s = await station(t);
    const busy = await cli(['--direct', '--port', s.rx.port, 'status']);
    t.equal(busy.code, 1);
    t.match(busy.err, /error BUSY: .* is in use by another process/);
    t.match(busy.err, /hint: .*drop --direct/);
    const busyToo = await cli(['--direct', '--config', s.configFile, 'status']);
    t.match(busyToo.err, /error BUSY/, '--direct with the agent config: the same port, BUSY');

    // Giving the port without --direct while the agent runs: the agent is asked instead.
    const polite = await cli(['--port', s.rx.port, '--socket', s.sock, 'identify']);
    t.equal(polite.code, 0, polite.err);
    t.match(polite.err, /the agent is running: going through/);
    t.match(polite.out, /family\s+rx8200/);

    const wang = await cli(['--socket', s.sock, '--holder', 'tech-wang', 'hold', '--reason', 'cable check']);
    t.equal(wang.code, 0, wang.err);
    t.match(wang.out, /maintenance hold: tech-wang until .* \(cable check\), 5 s/);
    t.equal(s.agent.hold.info()?.holder, 'tech-wang');
    const mine = await cli(['--socket', s.sock, 'lnb', 'off']);
    t.equal(mine.code, 1);
    t.match(mine.err, /error HELD_BY_OTHER: the station is held by tech-wang until/);
    t.match(mine.err, /hint: .*release --force/);
    const notMine = await cli(['--socket', s.sock, 'release']);
    t.match(notMine.err, /error HELD_BY_OTHER/, 'release ends only your own hold');
    const forced = await cli(['--socket', s.sock, 'release', '--force']);
    t.equal(forced.code, 0, forced.err);
    t.match(forced.out, /maintenance hold released/);
    t.notOk(s.agent.hold.active);

    // Aligning the dish: watch with --hold keeps the agent paused past the hold's own length (renewed), and
    // Ctrl-C ends the watch and releases the hold.
    const ctrlC = new AbortController();
    const watching = cli(
      ['--socket', s.sock, '--hold', '--hold-minutes', '0.04', 'watch', '--interval', '200'],
      {
        signal: ctrlC.signal,
      },
    );
    const first = await until(() => s.agent.hold.info(), 'the watch to take the hold');
    await sleep(Date.parse(first.until) - Date.now() + 1000);
    const later = s.agent.hold.info();
    t.ok(later && Date.parse(later.until) > Date.parse(first.until), 'renewed past its first time limit');
    ctrlC.abort();
    const watch = await watching;
    t.equal(watch.code, 0, watch.err);
    t.ok(watch.out.trim().split('\n').length >= 4, `readings all along:\n${watch.out}`);
    t.notOk(s.agent.hold.active, 'released on Ctrl-C');

    // The real process: it stays alive between readings through the socket, and exits 0.
    const real = await spawnCli(['--socket', s.sock, 'watch', '--count', '3', '--interval', '400']);
    t.equal(real.code, 0, real.err);
    t.equal(real.out.trim().split('\n').length, 3, 'three readings from the spawned CLI');
  },
);

t.test('a hold ends by itself; what is due during it is missed or starts late', async (t) => {
  const s = await station(t);
  const hold = await cli(['--socket', s.sock, 'hold', '--minutes', '0.15', '--reason', 'dish alignment']);
  t.equal(hold.code, 0, hold.err);
  const held = s.agent.hold.info();
  if (!held) throw new Error('no hold');
  const untilMs = Date.parse(held.until);
  t.match(hold.out, /until .* \(dish alignment\), 9 s/);

  // Inside the hold: nothing may start. `short` lies wholly inside it; `long` starts inside and ends after.
  const t0 = Date.now();
  await s.publish(2, [
    { id: 'short', service: 'cctv13', start: t0 + 1500, end: t0 + 4500 },
    { id: 'long', service: 'cctv1', start: t0 + 3000, end: untilMs + 15_000 },
  ]);
  const storeId = s.agent.store.storeId;
  const missed = await until(
    () => occurrenceStates(s.headend.storeEvents(storeId), 'short').find((e) => e.state === 'missed'),
    'the occurrence inside the hold to be missed',
  );
  t.match(missed.reason, /^maintenance_hold: /, `missed because of the hold (${missed.reason})`);
  t.same(
    occurrenceStates(s.headend.storeEvents(storeId), 'long').map((e) => e.state),
    [],
    'the other did not start during the hold',
  );
  const status = await cli(['--socket', s.sock, 'status']);
  t.match(status.out, /hold\s+tech-li@laptop until .* \(dish alignment\)/, 'status shows the hold');

  await until(() => !s.agent.hold.active, 'the hold to end by itself', 15_000);
  await until(
    async () => !(await retainedState(s.broker.url)).maintenance,
    'retained state without the hold',
  );
  const recording = await until(
    () => occurrenceStates(s.headend.storeEvents(storeId), 'long').find((e) => e.state === 'recording'),
    'the deferred occurrence to start after the hold',
    20_000,
  );
  t.ok(Date.parse(recording.at) >= untilMs, 'it started only after the hold ended');

  // A change now would break that recording: refused unless --force, and no hold is left behind.
  const refused = await cli(['--socket', s.sock, 'lnb', 'off']);
  t.equal(refused.code, 1);
  t.match(refused.err, /error RECORDING_RUNNING: .*long \(recording, cctv1\)/);
  t.match(refused.err, /hint: .*--force/);
  t.notOk(s.agent.hold.active, 'the refused change released its hold');
  const idOk = await cli(['--socket', s.sock, 'identify']);
  t.equal(idOk.code, 0, 'reading still works during the recording');
});

t.test('clear errors: no agent, stale socket, hung agent, permission denied', async (t) => {
  const dir = await tempDir(t, 'cli-socket-err-');

  const none = await cli(['status'], { socketPaths: [path.join(dir, 'agent.sock')] });
  t.equal(none.code, 1);
  t.match(none.err, /error NO_AGENT: no agent control socket at .*agent\.sock, and no port to open instead/);
  const named = await cli(['--socket', path.join(dir, 'nope.sock'), 'status']);
  t.match(named.err, /error NO_AGENT: .*\n {2}hint: is the agent running .*--direct/);
  const holdNoAgent = await cli(['hold'], { socketPaths: [path.join(dir, 'agent.sock')] });
  t.match(holdNoAgent.err, /error NO_AGENT: .*\n {2}hint: hold pauses the running agent/);

  // An agent killed with -9 leaves its socket file behind.
  const stale = path.join(dir, 'stale.sock');
  const child: ChildProcess = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`,
  ]);
  await new Promise((resolve) => child.stdout?.once('data', resolve));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const staleRun = await cli(['--socket', stale, 'status']);
  t.equal(staleRun.code, 1);
  t.match(staleRun.err, /error AGENT_NOT_ANSWERING: .*stale\.sock is there but no agent is listening/);
  t.match(staleRun.err, /hint: .*--direct opens the port itself/);

  // A hung agent accepts and reads, and never answers.
  const hungPath = path.join(dir, 'hung.sock');
  const hung = net.createServer((c) => c.resume());
  await new Promise<void>((resolve) => hung.listen(hungPath, resolve));
  t.teardown(() => new Promise<void>((resolve) => hung.close(() => resolve())));
  const hungRun = await cli(['--socket', hungPath, 'status']);
  t.equal(hungRun.code, 1);
  t.match(hungRun.err, /error AGENT_NOT_ANSWERING: the agent at .* did not answer within 5 s/);

  // Permission: the agent's socket is 0660 for its user and group; anyone else is refused by the kernel.
  if (process.getuid?.() !== 0) {
    t.comment('not root: cannot run the CLI as another user, permission case not exercised');
    return;
  }
  // The CLI runs from this checkout as uid 65534: a checkout under a private directory (a 0700 temp dir, as a
  // fresh CI clone may be) cannot be read by that user at all, and then there is nothing to exercise.
  const { NODE_OPTIONS: _opts, ...plainEnv } = process.env;
  const readable = await new Promise<boolean>((resolve) =>
    execFile(
      process.execPath,
      ['-e', `require('fs').accessSync(${JSON.stringify(path.join(REPO, 'device/cli.ts'))})`],
      { cwd: '/', env: plainEnv, uid: 65534, gid: 65534, timeout: 10_000 },
      (err) => resolve(!err),
    ),
  );
  if (!readable) {
    await t.test(
      'PERMISSION_DENIED as another user',
      { skip: `${REPO} is not readable by uid 65534, so the CLI cannot run as another user here` },
      async () => undefined,
    );
    return;
  }
  const open = path.join(dir, 'open');
  await mkdir(open);
  await chmod(dir, 0o755);
  await chmod(open, 0o755);
  const guarded = path.join(open, 'agent.sock');
  const agentLike = net.createServer((c) => c.end(`${JSON.stringify({ ok: true, result: {} })}\n`));
  await new Promise<void>((resolve) => agentLike.listen(guarded, resolve));
  t.teardown(() => new Promise<void>((resolve) => agentLike.close(() => resolve())));
  await chmod(guarded, 0o660);
  const denied = await spawnCli(['--socket', guarded, 'status'], { uid: 65534, gid: 65534 });
  t.equal(denied.code, 1, denied.err);
  t.match(denied.err, /error PERMISSION_DENIED: permission denied on .*agent\.sock/);
  t.match(denied.err, /hint: .*group or use sudo/);
});

t.test('bad invocations of the route and the hold exit 2 and say why', async (t) => {
  const both = await cli(['--direct', '--socket', '/tmp/x.sock', 'hold', '--minutes', 'ten']);
  t.equal(both.code, 2);
  t.match(both.err, /--direct opens the port and --socket goes through the agent/);
  t.match(both.err, /hold talks to the agent: drop --direct/);
  t.match(both.err, /--minutes: must be a number of minutes/);
  const noPort = await cli(['--direct', 'status']);
  t.match(noPort.err, /--direct needs --port PATH, --tcp HOST:PORT or --config FILE/);
  const twice = await cli(['--minutes', '5', '--hold-minutes', '6', 'hold']);
  t.match(twice.err, /--minutes and --hold-minutes are the same/);
  const dir = await tempDir(t, 'cli-socket-args-');
  const badConfig = path.join(dir, 'agent.json');
  await writeFile(badConfig, '{"stationId": "x"}');
  const config = await cli(['--config', badConfig, 'status']);
  t.equal(config.code, 2);
  t.match(config.err, /--config .*agent\.json: invalid agent config:\n(.*\n)*\s+broker: /);
});
