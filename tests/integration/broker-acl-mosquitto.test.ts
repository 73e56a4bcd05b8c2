/**
 * The same ACL matrix (tests/helpers/acl-matrix.ts) against a real Mosquitto configured ONLY from the
 * files the headend generates from its registry (password_file with `$7$` hashes, acl_file, mosquitto.conf),
 * including rotate/revoke → regenerate → SIGHUP (DESIGN.md §3, §4; issue 5).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { writeMosquittoFiles } from '../../headend/broker/mosquitto-files.js';
import { hashSecret } from '../../headend/provisioning/password-hash.js';
import {
  type Credentialed,
  provisionStation,
  revokeStation,
  rotateCredential,
} from '../../headend/provisioning/provisioning.js';
import { openStore } from '../../headend/store/index.js';
import { DEFAULT_TOPIC_ROOT } from '../../protocol/topics.js';
import { type AclBroker, aclMatrix } from '../helpers/acl-matrix.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { freeTcpPort } from '../helpers/net.js';

t.test('mosquitto from generated files: ACL matrix', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-mosq-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const headend = { username: 'headend', password: randomBytes(18).toString('base64url') };
  const headendHash = hashSecret(headend.password, { iterations: 1000 });
  const deps = { store, iterations: 1000, headendUsername: headend.username, actor: 'test' };
  const make = (id: string, county: string): Credentialed => provisionStation(deps, { id, name: id, county });
  const a = make('kongtong-anguo', 'kongtong');
  const b = make('huating-shangguan', 'huating');
  const revoked = make('jingning-weirong', 'jingning');
  const rotating = make('lingtai-xinkai', 'lingtai');
  const port = await freeTcpPort();
  const generate = () =>
    writeMosquittoFiles(dir, {
      topicRoot: DEFAULT_TOPIC_ROOT,
      headend: { username: headend.username, hash: headendHash },
      stations: store.stations.activeCredentials(),
      listener: { host: '127.0.0.1', port },
    });
  const files = generate();
  const mosquitto = await startMosquitto(t, { confFile: files.confFile, port });
  // Revoke after start, like an admin would: regenerate and reload.
  revokeStation(deps, revoked.station.id, 'test');
  generate();
  await mosquitto.reload();

  const subject: AclBroker = {
    url: mosquitto.url,
    headend,
    a: { id: a.station.id, secret: a.secret },
    b: { id: b.station.id, secret: b.secret },
    revoked: { id: revoked.station.id, secret: revoked.secret, formerSecret: revoked.secret },
    rotating: { id: rotating.station.id, secret: rotating.secret },
    deniedPublish: 'silent',
    subscribeRefusal: 'filtered',
    clientIdMismatch: 'replaced',
    retainEnforced: false,
    rotate: async (id) => {
      const { secret } = rotateCredential(deps, id);
      generate();
      await mosquitto.reload();
      return secret;
    },
  };
  aclMatrix(t, () => subject);

  t.test('the generated files are what Mosquitto ran with', async (t) => {
    const pw = fs.readFileSync(files.passwordFile, 'utf8');
    t.match(pw, new RegExp(`^${a.station.id}:\\$7\\$1000\\$`, 'm'), 'station line in $7$ format');
    t.notMatch(pw, revoked.station.id, 'revoked station has no line');
    t.notOk(pw.includes(a.secret), 'no secret in the file');
    t.notMatch(mosquitto.log(), /Error/, 'Mosquitto logged no error');
  });
});
