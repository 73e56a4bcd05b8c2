/**
 * The admin CLI and the service entry point, as an admin uses them: provision → the agent config file
 * connects to the running headend's embedded broker; list/rotate/revoke; online backup; restore refused while
 * the headend runs and accepted after it stopped (new epoch); mosquitto-files; `/healthz`; SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { runCli } from '../../headend/cli.js';
import { openStore } from '../../headend/store/index.js';
import { connectPeer, refusalCode } from '../helpers/mqtt-peers.js';

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], env: Record<string, string> = {}): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  return { code, stdout, stderr };
}

/** Starts `headend/main.ts` as a real process; resolves with its `started` log line. */
async function startHeadendProcess(t: Test, dataDir: string) {
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      '--import=tsx',
      'headend/main.ts',
      '--data-dir',
      dataDir,
      '--http',
      '127.0.0.1:0',
      '--mqtt',
      '127.0.0.1:0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RURALSAT_LOG_LEVEL: 'info' } },
  );
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`headend did not start:\n${out}\n${err}`)), 20_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (rec.event === 'started') {
          clearTimeout(timer);
          resolve(rec);
        }
      }
    });
    proc.once('exit', (code) => reject(new Error(`headend exited ${code}:\n${out}\n${err}`)));
  });
  return { proc, started, exited, log: () => out };
}

t.test('admin workflow against a running headend', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-cli-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const base = ['--data-dir', dataDir, '--log-level', 'silent'];

  const usage = await cli(['provision', ...base, '--name', 'x']);
  t.equal(usage.code, 2, 'missing --id is a usage error');
  t.match(usage.stderr, /--id is required/);
  t.equal((await cli(['frobnicate', ...base])).code, 2, 'unknown command');
  t.equal((await cli(['list', ...base, '--colour'])).code, 2, 'unknown flag');

  const headend = await startHeadendProcess(t, dataDir);
  t.match(headend.started, { event: 'started', broker: 'embedded', stations: 0 });
  const httpUrl = String(headend.started.http);
  const mqttUrl = String(headend.started.mqtt);
  t.match(
    headend.started.msg,
    /headend listening: HTTP http:\/\/127\.0\.0\.1:\d+, MQTT mqtt:\/\/127\.0\.0\.1:\d+/,
  );

  const health = await fetch(`${httpUrl}/healthz`);
  t.equal(health.status, 200);
  t.match(await health.json(), {
    status: 'ok',
    components: {
      database: { ok: true, scheduleEpoch: 1 },
      broker: { ok: true, mode: 'embedded' },
      fleet: { stations: 0 },
    },
  });
  t.equal((await fetch(`${httpUrl}/nope`)).status, 404, 'unknown routes: JSON 404');

  // Provision while the headend runs: the agent config it prints connects right away.
  const agentFile = path.join(dataDir, 'anguo.agent.json');
  const prov = await cli([
    'provision',
    ...base,
    '--id',
    'kongtong-anguo',
    '--name',
    '安国镇',
    '--county',
    'kongtong',
    '--lat',
    '35.55',
    '--lon',
    '106.68',
    '--dish',
    '1.8',
    '--tag',
    'pilot',
    '--receiver-transport',
    'tcp',
    '--receiver-address',
    '10.20.0.7:4001',
    '--stream-url',
    'udp://239.20.0.7:5000',
    '--out',
    agentFile,
  ]);
  t.equal(prov.code, 0, prov.stderr);
  t.match(prov.stderr, /shown this once/);
  const file = JSON.parse(fs.readFileSync(agentFile, 'utf8')) as {
    broker: { url: string; password: string; username: string };
    receiver: unknown;
    streamUrl: string;
  };
  const agent = file.broker;
  t.match(file, {
    stationId: 'kongtong-anguo',
    broker: { username: 'kongtong-anguo' },
    topicRoot: 'ruralsat/v1',
    timeZone: 'Asia/Shanghai',
    streamUrl: 'udp://239.20.0.7:5000',
  });
  t.same(file.receiver, {
    id: 'rx1',
    family: 'rx8200',
    transport: { type: 'tcp', host: '10.20.0.7', port: 4001 },
    address: 2,
  });
  t.ok(prov.stdout.includes(agent.password), 'the secret is printed once');
  const station = await connectPeer(mqttUrl, {
    username: agent.username,
    password: agent.password,
    clientId: agent.username,
  });
  t.ok(station.connected, 'the new station connects to the running embedded broker');

  const dup = await cli([
    'provision',
    ...base,
    '--id',
    'kongtong-anguo',
    '--name',
    'x',
    '--county',
    'kongtong',
  ]);
  t.equal(dup.code, 1);
  t.match(dup.stderr, /ALREADY_EXISTS/);
  const badCounty = await cli(['provision', ...base, '--id', 'mars-one', '--name', 'x', '--county', 'mars']);
  t.match(badCounty, { code: 1, stderr: /INVALID_INPUT: county/ });

  const list = await cli(['list', ...base]);
  t.match(list.stdout, /kongtong-anguo\tkongtong\t安国镇\tset .*\ttcp:10\.20\.0\.7:4001/);
  t.match(list.stdout, /1 station\(s\)/);

  const rotated = await cli(['rotate', ...base, '--id', 'kongtong-anguo']);
  t.equal(rotated.code, 0);
  const fresh = (JSON.parse(rotated.stdout) as { broker: { password: string } }).broker;
  t.not(fresh.password, agent.password);
  t.equal(
    await refusalCode(mqttUrl, {
      username: agent.username,
      password: agent.password,
      clientId: agent.username,
    }),
    4,
    'old secret refused at once',
  );

  const backupFile = path.join(dataDir, 'b1.db');
  const backup = await cli(['backup', ...base, '--out', backupFile]);
  t.match(backup, { code: 0, stdout: /backup written to .*b1\.db .*epoch 1/ });

  const refused = await cli(['restore', ...base, '--from', backupFile]);
  t.match(refused, { code: 1, stderr: /HEADEND_RUNNING/ }, 'restore refused under a running headend');

  const revoked = await cli(['revoke', ...base, '--id', 'kongtong-anguo', '--reason', 'box stolen']);
  t.match(revoked, { code: 0, stdout: /revoked kongtong-anguo/ });
  t.match((await cli(['list', ...base])).stdout, /0 station\(s\)/);
  t.match((await cli(['list', ...base, '--all'])).stdout, /kongtong-anguo.*revoked/);
  t.equal(
    await refusalCode(mqttUrl, {
      username: agent.username,
      password: fresh.password,
      clientId: agent.username,
    }),
    5,
  );
  station.end(true);

  const mq = path.join(dataDir, 'mosquitto');
  const noPw = await cli(['mosquitto-files', ...base, '--out', mq]);
  t.match(noPw, { code: 2, stderr: /headend password/ });
  const files = await cli(['mosquitto-files', ...base, '--out', mq], {
    RURALSAT_BROKER_PASSWORD: 'headend-password-for-mosquitto',
  });
  t.match(files, { code: 0, stdout: /0 station\(s\) \+ headend/ });
  t.match(fs.readFileSync(path.join(mq, 'password_file'), 'utf8'), /^headend:\$7\$/);

  headend.proc.kill('SIGTERM');
  t.equal(await headend.exited, 0, 'SIGTERM: clean exit');
  t.match(headend.log(), /"event":"stopped"/);
  t.notOk(fs.existsSync(path.join(dataDir, 'headend.pid')), 'pid file released');

  const restored = await cli(['restore', ...base, '--from', backupFile]);
  t.match(restored, { code: 0, stdout: /new schedule epoch 2/ });
  const store = openStore(path.join(dataDir, 'headend.db'));
  t.teardown(() => store.close());
  t.equal(store.meta.scheduleEpoch(), 2);
  t.match(
    store.stations.get('kongtong-anguo'),
    { hasCredential: true, revokedAt: null },
    'state as backed up: not revoked',
  );
});

t.test('a bad config stops the service with every error listed (exit 2)', async (t) => {
  const proc = spawn(
    process.execPath,
    ['--import=tsx', 'headend/main.ts', '--http', '0.0.0.0:8080', '--time-zone', 'Nowhere/None'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RURALSAT_DATA_DIR: '' },
    },
  );
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  t.equal(code, 2);
  t.match(err, /dataDir/);
  t.match(err, /http\.tls/);
  t.match(err, /timeZone/);
});
