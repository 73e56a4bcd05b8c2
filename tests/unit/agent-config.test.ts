import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import {
  AgentConfigError,
  controlSocketPath,
  databasePath,
  loadAgentConfig,
  readBrokerTls,
  resolveTiming,
} from '../../device/config.js';
import { defaultTiming, shortTiming } from '../../protocol/timing.js';

const good = {
  stationId: 'kongtong-01',
  broker: { url: 'mqtt://127.0.0.1:1883', password: 'secret-secret-secret' },
  receiver: { family: 'rx8200', transport: { type: 'serial', path: '/dev/serial/by-id/usb-FTDI-if00' } },
  streamUrl: 'udp://239.1.1.1:5000',
  recordingsDir: '/var/lib/ruralsat/recordings',
  dataDir: '/var/lib/ruralsat',
};

function load(obj: unknown, env: Record<string, string> = {}) {
  return loadAgentConfig({ file: '/etc/ruralsat/agent.json', env, readFile: () => JSON.stringify(obj) });
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgentConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected an AgentConfigError');
}

t.test('a minimal config gets the documented defaults', async (t) => {
  const c = load(good);
  t.equal(c.topicRoot, 'ruralsat/v1');
  t.equal(c.receiver.address, 2, 'RX8200 default address (DOMAIN.md §3)');
  t.equal(c.receiver.id, 'rx1');
  t.same(c.receiver.transport, { type: 'serial', path: '/dev/serial/by-id/usb-FTDI-if00', baudRate: 9600 });
  t.equal(c.timeZone, 'Asia/Shanghai');
  t.equal(c.logLevel, 'info');
  t.same(resolveTiming(c), defaultTiming);
  t.equal(databasePath(c), '/var/lib/ruralsat/station.db');
  t.equal(controlSocketPath(c), '/var/lib/ruralsat/agent.sock');
});

t.test('timing overrides apply over the chosen base profile', async (t) => {
  const c = load({ ...good, timingBase: 'short', timing: { recorderSegmentMs: 4000 } });
  t.same(resolveTiming(c), { ...shortTiming, recorderSegmentMs: 4000 });
});

t.test('a bad config lists every field error, not only the first', async (t) => {
  const issues = issuesOf(() =>
    load({
      stationId: 'Bad_Id',
      broker: { url: 'http://x' },
      receiver: { family: 'rx9999', transport: { type: 'tcp', host: 'h', port: 70000 }, address: 1000 },
      streamUrl: 'file:///tmp/x',
      dataDir: '',
      timing: { noSuchTiming: 5, recorderLeadMs: -1 },
      logLevel: 'loud',
      surprise: true,
    }),
  );
  const paths = issues.map((i) => i.split(':')[0]);
  for (const p of [
    'stationId',
    'broker.url',
    'receiver.family',
    'receiver.transport.port',
    'receiver.address',
    'streamUrl',
    'recordingsDir',
    'dataDir',
    'timing',
    'timing.recorderLeadMs',
    'logLevel',
  ]) {
    t.ok(paths.includes(p), `reports ${p}`);
  }
  t.ok(
    issues.some((i) => i.includes('surprise')),
    'unknown top-level key reported',
  );
  t.ok(issues.length >= 12, `${issues.length} issues listed`);
});

t.test('plain mqtt off loopback is refused unless allowed; username must be the station id', async (t) => {
  const issues = issuesOf(() =>
    load({ ...good, broker: { url: 'mqtt://broker.example:1883', username: 'someone-else' } }),
  );
  t.ok(issues.some((i) => i.startsWith('broker.url') && i.includes('mqtts')));
  t.ok(issues.some((i) => i.startsWith('broker.username')));
  const ok = load({ ...good, broker: { url: 'mqtt://10.8.0.1:1883', allowPlaintext: true } });
  t.equal(ok.broker.url, 'mqtt://10.8.0.1:1883');
  const tls = load({ ...good, broker: { url: 'mqtts://broker.example:8883', tls: { ca: '/etc/ca.pem' } } });
  t.equal(tls.broker.tls?.rejectUnauthorized, true);
});

t.test('environment variables override the file field by field', async (t) => {
  const c = load(good, {
    RURALSAT_BROKER_PASSWORD: 'from-env-secret',
    RURALSAT_DISK_QUOTA_BYTES: '5000000000',
    RURALSAT_RECEIVER_ADDRESS: '7',
    RURALSAT_LOG_LEVEL: 'debug',
  });
  t.equal(c.broker.password, 'from-env-secret');
  t.equal(c.broker.url, good.broker.url, 'untouched fields kept');
  t.equal(c.disk.quotaBytes, 5_000_000_000);
  t.equal(c.receiver.address, 7);
  t.equal(c.logLevel, 'debug');
  const issues = issuesOf(() =>
    load(good, { RURALSAT_DISK_QUOTA_BYTES: 'lots', RURALSAT_TIME_ZONE: 'Mars/Olympus' }),
  );
  t.ok(issues.some((i) => i.startsWith('RURALSAT_DISK_QUOTA_BYTES')));
  t.ok(issues.some((i) => i.startsWith('timeZone')));
});

t.test('config from env alone, file named by RURALSAT_AGENT_CONFIG, relative paths', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agent-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'agent.json');
  await writeFile(file, JSON.stringify({ ...good, dataDir: 'data', recordingsDir: './rec' }));
  const c = loadAgentConfig({ env: { RURALSAT_AGENT_CONFIG: file } });
  t.equal(c.dataDir, path.join(dir, 'data'));
  t.equal(c.recordingsDir, path.join(dir, 'rec'));

  const missing = issuesOf(() => loadAgentConfig({ file: path.join(dir, 'nope.json'), env: {} }));
  t.ok(missing[0]?.includes('cannot read config file'));
  await writeFile(file, '[1,2]');
  t.ok(issuesOf(() => loadAgentConfig({ file, env: {} }))[0]?.includes('one JSON object'));
  await writeFile(file, '{not json');
  t.ok(issuesOf(() => loadAgentConfig({ file, env: {} }))[0]?.includes('cannot read config file'));
});

t.test('TLS files are read once and unreadable ones are named', async (t) => {
  const read = (f: string) => {
    if (f === '/ok/ca.pem') return Buffer.from('CA');
    throw new Error('ENOENT');
  };
  t.same(readBrokerTls({ ca: '/ok/ca.pem', rejectUnauthorized: true }, read), {
    ca: Buffer.from('CA'),
    rejectUnauthorized: true,
  });
  const issues = issuesOf(() =>
    readBrokerTls({ ca: '/ok/ca.pem', cert: '/no/c.pem', key: '/no/k.pem', rejectUnauthorized: true }, read),
  );
  t.equal(issues.length, 2);
  t.equal(readBrokerTls(undefined, read), undefined);
});
