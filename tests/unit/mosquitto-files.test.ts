/** Mosquitto file rendering (headend/broker/mosquitto-files.ts): queue sizing, listener options, file safety. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import {
  maxQueuedMessagesFor,
  renderMosquittoConf,
  renderPasswordFile,
  writeMosquittoFiles,
} from '../../headend/broker/mosquitto-files.js';

t.test(
  'max_queued_messages grows with the fleet (DESIGN.md §3: 1000 lost replies at 5 000 stations)',
  async (t) => {
    t.equal(maxQueuedMessagesFor(0), 1000, "never below Mosquitto's default");
    t.equal(maxQueuedMessagesFor(102), 2040);
    t.ok(maxQueuedMessagesFor(5000) >= 2 * 5000, 'room for every station to answer a fan-out, twice over');
  },
);

t.test('listener options follow the listener line; TLS when configured', async (t) => {
  const conf = renderMosquittoConf({
    passwordFile: '/etc/mosquitto/ruralsat/password_file',
    aclFile: '/etc/mosquitto/ruralsat/acl_file',
    listener: { host: '0.0.0.0', port: 8883, tls: { certFile: '/c.pem', keyFile: '/k.pem' } },
    stationCount: 102,
  });
  const lines = conf.split('\n');
  const listener = lines.indexOf('listener 8883 0.0.0.0');
  t.ok(listener > 0, 'one explicit listener');
  t.ok(
    lines.indexOf('use_username_as_clientid true') > listener,
    'use_username_as_clientid applies to that listener',
  );
  t.ok(
    lines.indexOf('certfile /c.pem') > listener && lines.includes('keyfile /k.pem'),
    'TLS on the listener',
  );
  t.ok(lines.includes('allow_anonymous false'));
  t.ok(lines.includes('max_queued_messages 2040'));
});

t.test('password_file: sorted, one line per user, refuses bad entries', async (t) => {
  t.equal(
    renderPasswordFile([
      { username: 'st-b', hash: '$7$1$a$b' },
      { username: 'st-a', hash: '$7$1$c$d' },
    ]),
    'st-a:$7$1$c$d\nst-b:$7$1$a$b\n',
  );
  t.throws(() => renderPasswordFile([{ username: 'a:b', hash: '$7$1$a$b' }]), TypeError);
  t.throws(() => renderPasswordFile([{ username: 'a', hash: 'plaintext' }]), TypeError, 'only hashes');
  t.throws(
    () =>
      renderPasswordFile([
        { username: 'a', hash: '$7$x' },
        { username: 'a', hash: '$7$y' },
      ]),
    TypeError,
  );
});

t.test('regenerating keeps the owner-chosen mode of existing files', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-mqf-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const input = {
    topicRoot: 'ruralsat/v1',
    headend: { username: 'headend', hash: '$7$1$a$b' },
    stations: [{ id: 'kongtong-anguo', hash: '$7$1$c$d' }],
    listener: { host: '127.0.0.1', port: 1883 },
  };
  const out = writeMosquittoFiles(dir, input);
  t.equal(fs.statSync(out.passwordFile).mode & 0o777, 0o600, 'password_file private by default');
  fs.chmodSync(out.passwordFile, 0o640);
  writeMosquittoFiles(dir, { ...input, stations: [] });
  t.equal(fs.statSync(out.passwordFile).mode & 0o777, 0o640, 'an admin-set mode survives regeneration');
  t.equal(fs.readFileSync(out.passwordFile, 'utf8'), 'headend:$7$1$a$b\n');
  t.same(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp files left',
  );
  t.throws(
    () => writeMosquittoFiles(dir, { ...input, stations: [{ id: 'headend', hash: '$7$1$e$f' }] }),
    TypeError,
  );
});
