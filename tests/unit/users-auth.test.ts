/**
 * The users module and the pure parts of access control, with a fake clock: scrypt hashes, session idle
 * and absolute expiry, API token expiry and revocation, the login limiter's window, role permissions, the
 * live stream's per-user filter, and the UI's two dictionaries having the same keys.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { LoginLimiter, type Principal } from '../../headend/http/auth.js';
import { SseHub } from '../../headend/http/sse.js';
import { silentLogger } from '../../headend/log.js';
import { openStore } from '../../headend/store/index.js';
import { createUserStore } from '../../headend/users/index.js';
import { hashPassword, verifyPassword } from '../../headend/users/passwords.js';
import { permissionsOf, ROLES, roleCan } from '../../headend/users/roles.js';
import type { User } from '../../headend/users/users-repo.js';

const COST = { ln: 8, r: 8, p: 1 };

t.test('passwords', async (t) => {
  const a = await hashPassword('correct horse battery', COST);
  const b = await hashPassword('correct horse battery', COST);
  t.match(a, /^\$scrypt\$ln=8,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/, 'PHC-style, cost recorded');
  t.not(a, b, 'salted');
  t.ok(await verifyPassword('correct horse battery', a));
  t.notOk(await verifyPassword('correct horse batterY', a));
  t.notOk(await verifyPassword('x', 'not a hash'), 'a malformed hash is false, not a crash');
  t.notOk(await verifyPassword('x', '$scrypt$ln=99,r=8,p=1$AAAA$AAAA'), 'an absurd cost is refused');
  t.notOk(await verifyPassword('x'.repeat(10_000), a), 'an absurd password is refused without hashing it');
});

function clock(start = Date.parse('2026-11-27T00:00:00Z')) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

t.test('sessions expire when idle and in any case after the absolute lifetime', async (t) => {
  const c = clock();
  const store = openStore(':memory:', { now: c.now });
  t.teardown(() => store.close());
  const u = createUserStore(store.db, {
    now: c.now,
    scrypt: COST,
    sessions: { idleMs: 60 * 60_000, absoluteMs: 3 * 60 * 60_000, touchEveryMs: 60_000 },
  });
  await u.users.create({ id: 'control', displayName: 'c', role: 'control-room', password: 'long enough pw' });
  const { token, session } = u.sessions.create('control');
  t.equal(u.sessions.resolve(token)?.csrf, session.csrf);
  c.advance(59 * 60_000);
  t.ok(u.sessions.resolve(token), 'used within the idle time: alive (and refreshed)');
  c.advance(59 * 60_000);
  t.ok(u.sessions.resolve(token), 'still alive: each use moves the idle expiry');
  c.advance(59 * 60_000);
  t.ok(u.sessions.resolve(token), 'at 2 h 57 min');
  c.advance(5 * 60_000);
  t.equal(u.sessions.resolve(token), undefined, 'past the absolute lifetime, however busy');
  const second = u.sessions.create('control');
  c.advance(61 * 60_000);
  t.equal(u.sessions.resolve(second.token), undefined, 'idle too long');
  t.equal(u.sessions.resolve(''), undefined);
  t.equal(u.sessions.prune(), 0, 'expired sessions were deleted when read');
});

t.test('API tokens', async (t) => {
  const c = clock();
  const store = openStore(':memory:', { now: c.now });
  t.teardown(() => store.close());
  const u = createUserStore(store.db, { now: c.now, scrypt: COST });
  await u.users.create({ id: 'tech', displayName: 't', role: 'technician', password: 'long enough pw' });
  const expiring = u.tokens.create('tech', 'nightly', new Date(c.now().getTime() + 3_600_000).toISOString());
  const forever = u.tokens.create('tech', 'probe');
  t.match(expiring.token, /^rsat_[A-Za-z0-9_-]{43}$/);
  t.ok(u.tokens.resolve(expiring.token));
  c.advance(3_600_000);
  t.equal(u.tokens.resolve(expiring.token), undefined, 'expired');
  t.ok(u.tokens.resolve(forever.token));
  u.tokens.revoke(forever.info.id);
  t.equal(u.tokens.resolve(forever.token), undefined, 'revoked');
  t.equal(u.tokens.resolve('rsat_guess'), undefined);
  t.equal(u.tokens.resolve('not even the prefix'), undefined);
  t.match(
    u.tokens.list('tech').find((x) => x.name === 'probe'),
    { name: 'probe', revokedAt: String },
    'listed, revoked',
  );
  t.notOk(
    JSON.stringify(store.db.prepare('SELECT * FROM api_tokens').all()).includes(forever.token),
    'only hashes stored',
  );
});

t.test('login limiter', async (t) => {
  let now = 0;
  const l = new LoginLimiter({ maxPerUser: 3, maxPerAddress: 5, windowMs: 60_000 }, () => now);
  for (let i = 0; i < 2; i++) l.fail('Alice', '10.0.0.1');
  t.equal(l.retryAfterS('alice', '10.0.0.1'), 0, 'two failures: still allowed');
  l.fail('alice', '10.0.0.1');
  t.equal(l.retryAfterS('alice', '10.0.0.2'), 60, 'three: the name is locked from any address');
  now += 30_000;
  t.equal(l.retryAfterS('alice', '10.0.0.2'), 30);
  now += 30_001;
  t.equal(l.retryAfterS('alice', '10.0.0.2'), 0, 'the window slides');
  for (const name of ['a', 'b', 'c', 'd', 'e']) l.fail(name, '10.0.0.9');
  t.ok(l.retryAfterS('fresh-name', '10.0.0.9') > 0, 'an address spraying names is locked too');
  l.fail('bob', '10.0.0.3');
  l.fail('bob', '10.0.0.3');
  l.succeed('bob');
  l.fail('bob', '10.0.0.3');
  t.equal(l.retryAfterS('bob', '10.0.0.3'), 0, 'a success clears the name');
});

t.test('roles', async (t) => {
  t.ok(
    ROLES.every((r) => roleCan(r, 'fleet.read')),
    'everyone reads the fleet (operators: scoped)',
  );
  t.same(permissionsOf('admin').length > permissionsOf('control-room').length, true);
  t.notOk(roleCan('technician', 'entries.write'), 'technicians schedule nothing');
  t.ok(roleCan('technician', 'diagnostics.run'));
  t.notOk(roleCan('operator', 'entries.control'));
  t.notOk(roleCan('control-room', 'users.manage'));
  t.notOk(roleCan('control-room', 'diagnostics.run'));
});

t.test('the live stream shows each user only what they may see', async (t) => {
  const user = (role: User['role'], stations: string[] = []): Principal => ({
    via: 'session',
    user: {
      id: role,
      displayName: role,
      role,
      locale: 'zh-CN',
      stations,
      disabledAt: null,
      passwordChangedAt: '',
      createdAt: '',
      updatedAt: '',
    },
  });
  const op = user('operator', ['kongtong-anguo']);
  const ctl = user('control-room');
  const mine = { type: 'station' as const, stations: ['kongtong-anguo'], data: {} };
  const theirs = { type: 'station' as const, stations: ['jingning-weirong'], data: {} };
  const both = { type: 'schedule' as const, stations: ['jingning-weirong', 'kongtong-anguo'], data: {} };
  const fleet = { type: 'guide' as const, stations: 'all' as const, data: {} };
  t.ok(SseHub.visible(op, mine));
  t.notOk(SseHub.visible(op, theirs));
  t.ok(SseHub.visible(op, both), 'a change reaching its station too');
  t.ok(SseHub.visible(op, fleet));
  t.ok(SseHub.visible(ctl, theirs));
  const hub = new SseHub({ logger: silentLogger(), replay: 2 });
  t.teardown(() => hub.close());
  for (let i = 0; i < 3; i++) hub.publish(mine);
  t.same(hub.stats(), { clients: 0, published: 3, dropped: 0 });
});

t.test('the UI dictionaries have the same keys', async (t) => {
  const file = pathToFileURL(path.resolve('headend/web/js/i18n.js')).href;
  const mod = (await import(file)) as { DICTIONARIES: Record<string, Record<string, string>> };
  const zh = Object.keys(mod.DICTIONARIES['zh-CN'] ?? {}).sort();
  const en = Object.keys(mod.DICTIONARIES.en ?? {}).sort();
  t.ok(zh.length > 100);
  t.same(en, zh, 'every Chinese text has its English one and back');
  for (const [k, v] of Object.entries(mod.DICTIONARIES.en ?? {})) {
    const want = (mod.DICTIONARIES['zh-CN']?.[k]?.match(/\{\w+\}/g) ?? []).sort();
    t.same((v.match(/\{\w+\}/g) ?? []).sort(), want, `${k}: same placeholders`);
  }
});
