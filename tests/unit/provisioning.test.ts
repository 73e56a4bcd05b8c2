/**
 * Provisioning (issue 5, DESIGN.md §7): a random secret of ≥ 128 bits shown once, stored only as a
 * Mosquitto `$7$` PBKDF2-SHA512 hash; rotate; revoke; a ready agent config file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import {
  AgentConfigFile,
  renderAgentConfig,
  writeAgentConfig,
} from '../../headend/provisioning/agent-config.js';
import {
  generateSecret,
  hashSecret,
  parseHash,
  VerifiedCache,
  verifySecret,
  verifySecretSync,
} from '../../headend/provisioning/password-hash.js';
import {
  provisionStation,
  revokeStation,
  rotateCredential,
} from '../../headend/provisioning/provisioning.js';
import { openStore } from '../../headend/store/index.js';

/** Made by `mosquitto_passwd -b -c pw alice secret123` (Mosquitto 2.0.11) on this machine. */
const MOSQUITTO_PASSWD_LINE =
  'alice:$7$101$C8mZpLOEMDda2fLz$Sl8PCjeF+cDmdE3HSAa+WGiUaWvy8Dxa3PzvcFqiRj1ykMZxSjTSLoH0pQEtvmrol69I2ByGchdYY8Va1J7pbA==';

t.test('$7$ hashes: Mosquitto format, verified both ways', async (t) => {
  const hash = MOSQUITTO_PASSWD_LINE.slice('alice:'.length);
  t.ok(await verifySecret('secret123', hash), "mosquitto_passwd's own hash verifies");
  t.notOk(await verifySecret('secret124', hash), 'a wrong secret does not');
  const salt = Buffer.from('C8mZpLOEMDda2fLz', 'base64');
  t.equal(hashSecret('secret123', { iterations: 101, salt }), hash, 'we produce the byte-identical line');
  const mine = hashSecret('s3cret-s3cret-s3cret');
  t.match(
    mine,
    /^\$7\$10000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/,
    '12-byte salt, 64-byte digest, base64',
  );
  t.ok(verifySecretSync('s3cret-s3cret-s3cret', mine));
  t.not(hashSecret('same'), hashSecret('same'), 'a fresh salt each time');
  for (const junk of [
    '',
    'plain',
    '$6$abc$def',
    '$7$0$AAAA$AAAA',
    `$7$99999999$${salt.toString('base64')}$AAAA`,
    '$7$10$$',
  ]) {
    t.equal(parseHash(junk), null, `rejects ${JSON.stringify(junk)}`);
    t.notOk(await verifySecret('x', junk), `never verifies against ${JSON.stringify(junk)}`);
  }
});

t.test('secrets have at least 128 bits and are URL-safe', async (t) => {
  const secrets = new Set(Array.from({ length: 200 }, () => generateSecret()));
  t.equal(secrets.size, 200, 'no repeats');
  for (const s of secrets) {
    t.ok(Buffer.from(s, 'base64url').length >= 16, 'decodes to ≥ 16 bytes');
    t.match(s, /^[A-Za-z0-9_-]+$/);
  }
  t.throws(() => generateSecret(8), RangeError);
});

t.test('the verification cache never accepts a wrong or rotated secret', async (t) => {
  const cache = new VerifiedCache();
  const h1 = hashSecret('first-secret', { iterations: 100 });
  t.ok(await cache.verify('first-secret', h1));
  t.ok(await cache.verify('first-secret', h1), 'cached');
  t.notOk(await cache.verify('first-secretX', h1));
  const h2 = hashSecret('second-secret', { iterations: 100 });
  t.notOk(await cache.verify('first-secret', h2), 'old secret against the rotated hash');
});

t.test('provision → secret once, hash stored; rotate; revoke; all audited', async (t) => {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const deps = { store, iterations: 1000, headendUsername: 'headend', actor: 'cli:root' };
  const { station, secret } = provisionStation(deps, {
    id: 'kongtong-anguo',
    name: '安国镇',
    county: 'kongtong',
    receivers: [{ id: 'rx1', transport: 'tcp', address: '10.20.0.7:4001' }],
  });
  t.ok(station.hasCredential);
  const stored = store.stations.credentialOf(station.id)?.hash ?? '';
  t.ok(verifySecretSync(secret, stored), 'the stored hash matches the secret shown');
  const dump = store.db.serialize().toString('latin1');
  t.notOk(dump.includes(secret), 'the secret itself is nowhere in the database file');

  const rotated = rotateCredential(deps, station.id);
  t.not(rotated.secret, secret);
  const newHash = store.stations.credentialOf(station.id)?.hash ?? '';
  t.notOk(verifySecretSync(secret, newHash), 'old secret no longer matches');
  t.ok(verifySecretSync(rotated.secret, newHash));

  revokeStation(deps, station.id, 'box stolen');
  t.same(store.stations.credentialOf(station.id), { hash: null, revoked: true });
  t.throws(
    () => rotateCredential(deps, station.id),
    { code: 'CONFLICT' },
    'a revoked station cannot be rotated back in',
  );
  t.same(
    store.audit.list({ target: station.id }).map((a) => a.action),
    ['station.revoke', 'station.rotate', 'station.provision'],
  );
  t.throws(
    () => provisionStation(deps, { id: 'headend', name: 'x', county: 'kongtong' }),
    { code: 'CONFLICT' },
    "the headend's username is reserved",
  );
  t.throws(() => provisionStation(deps, { id: 'kongtong-anguo', name: 'x', county: 'kongtong' }), {
    code: 'ALREADY_EXISTS',
  });
  t.throws(
    () => provisionStation(deps, { id: 'x', name: 'x', county: 'kongtong' }),
    { code: 'INVALID_INPUT' },
    'id too short',
  );
  t.equal(store.stations.list({ includeRevoked: true }).length, 1, 'failed provisioning left nothing behind');
});

t.test('agent config file: every field, receiver from the registry, owner-only file', async (t) => {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const deps = { store, iterations: 1000, headendUsername: 'headend', actor: 't' };
  const withRx = provisionStation(deps, {
    id: 'huating-shangguan',
    name: 'Shangguan',
    county: 'huating',
    receivers: [
      { id: 'rx1', transport: 'tcp', address: '10.20.0.7:4001', streamUrl: 'udp://239.20.0.7:5000' },
    ],
  });
  const defaults = {
    recordingsDir: '/var/lib/ruralsat/recordings',
    dataDir: '/var/lib/ruralsat/agent',
    streamUrl: 'udp://239.1.1.1:5000',
    receiverTransport: 'serial' as const,
    receiverAddress: '/dev/ttyUSB0',
  };
  const cfg = renderAgentConfig({
    station: withRx.station,
    secret: withRx.secret,
    brokerUrl: 'mqtts://headend.pingliang.example:8883',
    topicRoot: 'ruralsat/v1',
    timeZone: 'Asia/Shanghai',
    defaults,
  });
  t.same(cfg, {
    stationId: 'huating-shangguan',
    broker: {
      url: 'mqtts://headend.pingliang.example:8883',
      username: 'huating-shangguan',
      password: withRx.secret,
    },
    topicRoot: 'ruralsat/v1',
    receiver: {
      id: 'rx1',
      family: 'rx8200',
      transport: { type: 'tcp', host: '10.20.0.7', port: 4001 },
      address: 2,
    },
    streamUrl: 'udp://239.20.0.7:5000',
    recordingsDir: '/var/lib/ruralsat/recordings',
    dataDir: '/var/lib/ruralsat/agent',
    timeZone: 'Asia/Shanghai',
  });
  const bare = provisionStation(deps, { id: 'huating-xihua', name: 'Xihua', county: 'huating' });
  const common = {
    brokerUrl: 'mqtt://127.0.0.1:1883',
    topicRoot: 'ruralsat/v1',
    timeZone: 'Asia/Shanghai',
    defaults,
  };
  const cfg2 = renderAgentConfig({ ...common, station: bare.station, secret: bare.secret });
  t.same(
    [cfg2.receiver, cfg2.streamUrl],
    [
      { id: 'rx1', family: 'rx8200', transport: { type: 'serial', path: '/dev/ttyUSB0' }, address: 2 },
      'udp://239.1.1.1:5000',
    ],
    'defaults when the registry names no receiver',
  );
  t.throws(
    () =>
      provisionStation(deps, {
        id: 'huating-bad',
        name: 'x',
        county: 'huating',
        receivers: [{ id: 'rx1', transport: 'tcp', address: '/dev/ttyUSB0' }],
      }),
    { code: 'INVALID_INPUT', message: /host:port/ },
    'a tcp receiver needs host:port',
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-agentcfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'agent.json');
  writeAgentConfig(file, cfg);
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'readable by its owner only');
  t.same(
    AgentConfigFile.parse(JSON.parse(fs.readFileSync(file, 'utf8'))),
    cfg,
    'round-trips through the schema',
  );
  t.throws(() => writeAgentConfig(file, cfg), { code: 'EEXIST' }, 'never overwrites');
});
