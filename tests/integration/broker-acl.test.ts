/**
 * The ACL matrix (DESIGN.md §4 "ACL", issue 5) against the embedded aedes broker, plus what only the
 * embedded broker does: counting and reporting refused credentials (for the "credentials rejected" alarm)
 * and disconnecting a station revoked while connected. The same matrix runs against Mosquitto in
 * broker-acl-mosquitto.test.ts.
 */
import t from 'tap';
import type { RejectedConnect } from '../../headend/broker/embedded.js';
import {
  type Credentialed,
  provisionStation,
  revokeStation,
  rotateCredential,
} from '../../headend/provisioning/provisioning.js';
import { type AclBroker, aclMatrix } from '../helpers/acl-matrix.js';
import { startTestBroker } from '../helpers/aedes.js';
import { closed, connectPeer, refusalCode } from '../helpers/mqtt-peers.js';

t.test('embedded broker: ACL matrix', async (t) => {
  const { store, url, headend, broker } = await startTestBroker(t);
  const deps = { store, iterations: 1000, headendUsername: headend.username, actor: 'test' };
  const make = (id: string, county = 'kongtong'): Credentialed =>
    provisionStation(deps, { id, name: id, county });
  const a = make('kongtong-anguo');
  const b = make('huating-shangguan', 'huating');
  const revoked = make('jingning-weirong', 'jingning');
  revokeStation(deps, revoked.station.id, 'test');
  const rotating = make('lingtai-xinkai', 'lingtai');
  const rejected: RejectedConnect[] = [];
  broker.onRejected((r) => rejected.push(r));
  const subject: AclBroker = {
    url,
    headend,
    a: { id: a.station.id, secret: a.secret },
    b: { id: b.station.id, secret: b.secret },
    revoked: { id: revoked.station.id, secret: revoked.secret, formerSecret: revoked.secret },
    rotating: { id: rotating.station.id, secret: rotating.secret },
    deniedPublish: 'disconnect',
    subscribeRefusal: 'suback',
    clientIdMismatch: 'refused',
    retainEnforced: true,
    rotate: async (id) => rotateCredential(deps, id).secret,
  };
  aclMatrix(t, () => subject);
  t.test('every refused connection is counted and reported with its reason', async (t) => {
    t.ok(broker.stats().rejectedConnects >= rejected.length, 'counter covers the reported refusals');
    const reasons = new Set(rejected.map((r) => r.reason));
    for (const reason of [
      'no-username',
      'unknown-station',
      'wrong-secret',
      'revoked',
      'client-id-mismatch',
    ] as const) {
      t.ok(reasons.has(reason), `reported: ${reason}`);
    }
    const revokedTry = rejected.find((r) => r.reason === 'revoked');
    t.equal(revokedTry?.username, revoked.station.id, 'the report names the station');
    t.ok(broker.stats().deniedSubscriptions > 0 && broker.stats().deniedPublishes > 0, 'denials counted');
  });
});

t.test('embedded broker: a station revoked while connected is disconnected', async (t) => {
  const { store, url, headend, broker } = await startTestBroker(t);
  const deps = { store, iterations: 1000, headendUsername: headend.username, actor: 'test' };
  const s = provisionStation(deps, { id: 'chongxin-huanghua', name: 'Huanghua', county: 'chongxin' });
  const client = await connectPeer(url, {
    username: s.station.id,
    password: s.secret,
    clientId: s.station.id,
  });
  t.teardown(() => client.end(true));
  t.same(broker.revalidate(), [], 'nothing to drop while the station is valid');
  revokeStation(deps, s.station.id);
  t.same(broker.revalidate(), [s.station.id], 'revalidation drops the revoked station');
  await closed(client);
  t.equal(
    await refusalCode(url, { username: s.station.id, password: s.secret, clientId: s.station.id }),
    5,
    'and it cannot come back',
  );
});

t.test('embedded broker: MQTT 5 clients are refused (the contract is MQTT 3.1.1)', async (t) => {
  const { store, url, headend } = await startTestBroker(t);
  const s = provisionStation(
    { store, iterations: 1000, headendUsername: headend.username, actor: 'test' },
    { id: 'zhuanglang-nanhu', name: 'Nanhu', county: 'zhuanglang' },
  );
  await t.rejects(
    connectPeer(
      url,
      { username: s.station.id, password: s.secret, clientId: s.station.id },
      { protocolVersion: 5 },
    ),
    'MQTT 5 CONNECT refused',
  );
});
