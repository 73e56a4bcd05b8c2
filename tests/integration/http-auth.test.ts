/**
 * Access control as a user meets it (issue 6): logging in and out, what the session cookie looks like,
 * CSRF protection of cookie sessions, the login rate limit, password changes and disabled accounts ending
 * sessions, API tokens, security headers, and an admin who cannot lock everyone out.
 */
import t from 'tap';
import { ApiClient, PASSWORD, startHarness } from '../helpers/headend-harness.js';

const S = 'kongtong-anguo';
const HOUR = 3_600_000;
const at = (hours: number) =>
  new Date(Math.ceil(Date.now() / HOUR) * HOUR + hours * HOUR).toISOString().replace('.000Z', 'Z');
const recording = (hours: number) => ({
  kind: 'recording',
  title: 'x',
  service: 'cctv7',
  when: { type: 'once', start: at(hours), end: at(hours + 1) },
  target: { type: 'station', stationId: S },
});

t.test('login, session cookie, logout', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const c = h.anon();

  const wrong = await c.post('/api/v1/auth/login', { user: 'anguo', password: 'not the password' });
  const unknown = await c.post('/api/v1/auth/login', { user: 'nobody', password: 'not the password' });
  t.equal(wrong.status, 401);
  t.equal(unknown.status, 401);
  t.same(wrong.body, unknown.body, 'an unknown user and a wrong password read the same');
  t.match(wrong.body, { code: 'LOGIN_FAILED' });
  t.equal(c.cookie, null, 'no cookie after a failed login');

  const ok = await c.post('/api/v1/auth/login', { user: 'Anguo ', password: PASSWORD });
  t.equal(ok.status, 200, 'user names are case- and space-insensitive');
  const setCookie = ok.headers.get('set-cookie') ?? '';
  t.match(setCookie, /^rsat_session=[A-Za-z0-9_-]{40,};/, 'a random session cookie');
  t.match(setCookie, /HttpOnly/i, 'HttpOnly');
  t.match(setCookie, /SameSite=Strict/i, 'SameSite=Strict');
  t.match(setCookie, /Path=\//);
  t.notMatch(setCookie, /Secure/i, 'not Secure on plain HTTP (it is over TLS)');
  const me = ok.body as {
    user: { id: string; role: string; stations: string[] };
    csrf: string;
    permissions: string[];
    timeZone: string;
  };
  t.match(me, { user: { id: 'anguo', role: 'operator', stations: [S] }, timeZone: 'Asia/Shanghai' });
  t.ok(
    me.permissions.includes('entries.write') && !me.permissions.includes('entries.control'),
    'permissions of an operator',
  );
  t.match(me.csrf, /^[A-Za-z0-9_-]{40,}$/, 'a CSRF token comes with the session');
  c.csrf = me.csrf;

  const row = h.headend.store.db
    .prepare('SELECT token_sha256 FROM sessions WHERE user_id = ?')
    .get('anguo') as { token_sha256: string };
  t.notOk(c.cookie?.includes(row.token_sha256), 'the database keeps only a hash of the cookie');
  const audit = h.headend.store.audit.list({ target: 'user:anguo' });
  t.ok(
    audit.some((a) => a.action === 'user.login'),
    'logins are audited',
  );

  t.equal((await c.get('/api/v1/auth/me')).status, 200);
  t.equal((await c.post('/api/v1/auth/logout')).status, 204);
  t.equal((await c.get('/api/v1/auth/me')).status, 401, 'logged out');
  const stolen = new ApiClient(h.url);
  stolen.cookie = `rsat_session=${encodeURIComponent('forged-or-expired-value-forged-or-expired-value')}`;
  t.equal((await stolen.get('/api/v1/stations')).status, 401, 'an unknown cookie is anonymous');

  const headers = (await h.anon().get('/')).headers;
  t.match(
    headers.get('content-security-policy'),
    /default-src 'self'.*script-src 'self'/,
    'CSP: only own scripts',
  );
  t.match(headers.get('content-security-policy'), /frame-ancestors 'none'/, 'the UI cannot be framed');
  t.equal(headers.get('x-content-type-options'), 'nosniff');
  t.equal(
    (await h.anon().get('/api/v1/openapi.json')).headers.get('cache-control'),
    'no-store',
    'API answers are not cached',
  );
});

t.test('CSRF protection of cookie sessions', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const c = await h.as('anguo');
  const token = c.csrf;

  const none = await c.post('/api/v1/entries', recording(30), { csrf: false });
  t.equal(none.status, 403, 'a change without the header is refused');
  t.match(none.body, { code: 'CSRF_FAILED' });
  const wrong = await c.post('/api/v1/entries', recording(30), {
    csrf: false,
    headers: { 'x-csrf-token': `${token}x` },
  });
  t.equal(wrong.status, 403, 'a wrong token is refused');
  const other = await h.as('weirong');
  const crossed = await c.post('/api/v1/entries', recording(30), {
    csrf: false,
    headers: { 'x-csrf-token': other.csrf ?? '' },
  });
  t.equal(crossed.status, 403, "another session's token is refused");
  t.same((await c.get('/api/v1/entries')).body, [], 'nothing was created');

  t.equal((await c.get('/api/v1/stations')).status, 200, 'reads need no token');
  t.equal((await c.post('/api/v1/entries', recording(30))).status, 201, 'with the token it works');

  const form = await c.request('POST', '/api/v1/entries', undefined, {
    raw: 'kind=recording&title=x',
    contentType: 'application/x-www-form-urlencoded',
  });
  t.equal(
    form.status,
    415,
    'a form post (what a cross-site page can send) is not accepted even with the token',
  );
  t.equal(
    (await c.post('/api/v1/auth/logout', undefined, { csrf: false })).status,
    403,
    'logout needs the token too',
  );
});

t.test('login rate limit', async (t) => {
  const h = await startHarness({ loginLimits: { maxPerUser: 3, maxPerAddress: 100, windowMs: 60_000 } });
  t.teardown(() => h.stop());
  const c = h.anon();
  for (let i = 0; i < 3; i++)
    t.equal((await c.post('/api/v1/auth/login', { user: 'control', password: `guess-${i}` })).status, 401);
  const limited = await c.post('/api/v1/auth/login', { user: 'control', password: PASSWORD });
  t.equal(limited.status, 429, 'locked after 3 failures, even with the right password');
  t.match(limited.body, { code: 'RATE_LIMITED' });
  const retry = Number(limited.headers.get('retry-after'));
  t.ok(retry > 0 && retry <= 60, `Retry-After ${retry} s`);
  t.equal(
    (await c.post('/api/v1/auth/login', { user: 'admin', password: PASSWORD })).status,
    200,
    'other users are not locked',
  );
  const sessions = h.headend.store.db
    .prepare('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?')
    .get('control') as { n: number };
  t.equal(sessions.n, 0, 'no session for the locked user');
});

t.test('password change, disabled users, tokens, the last admin', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const admin = await h.as('admin');
  const laptop = await h.as('weirong');
  const phone = await h.as('weirong');

  const badCurrent = await laptop.put('/api/v1/auth/me/password', {
    current: 'wrong wrong wrong',
    next: 'a new password 1',
  });
  t.equal(badCurrent.status, 403);
  const short = await laptop.put('/api/v1/auth/me/password', { current: PASSWORD, next: 'short' });
  t.equal(short.status, 400);
  t.match(short.body, { code: 'VALIDATION_FAILED', issues: [{ path: 'body.next' }] });
  t.equal(
    (await laptop.put('/api/v1/auth/me/password', { current: PASSWORD, next: 'a new password 1' })).status,
    204,
  );
  t.equal((await phone.get('/api/v1/auth/me')).status, 401, 'the other session ended');
  const again = await laptop.get('/api/v1/auth/me');
  t.equal(again.status, 200, 'this browser got a fresh session');
  laptop.csrf = (again.body as { csrf: string }).csrf;
  t.equal(
    (await h.anon().post('/api/v1/auth/login', { user: 'weirong', password: PASSWORD })).status,
    401,
    'the old password is dead',
  );

  const tok = (await admin.post('/api/v1/users/tech/tokens', { name: 'probe' })).body as {
    token: string;
    info: { id: string };
  };
  t.match(tok.token, /^rsat_/);
  const listed = (await admin.get('/api/v1/users/tech/tokens')).body as Record<string, unknown>[];
  t.notOk(JSON.stringify(listed).includes(tok.token), 'a token is never shown again');
  const bot = h.anon();
  bot.bearer = tok.token;
  t.equal((await bot.get('/api/v1/stations')).status, 200);

  const techSession = await h.as('tech');
  t.equal((await admin.patch('/api/v1/users/tech', { disabled: true })).status, 200);
  t.equal((await techSession.get('/api/v1/stations')).status, 401, "a disabled user's session ends at once");
  t.equal((await bot.get('/api/v1/stations')).status, 401, 'and their tokens stop working');
  t.equal(
    (await h.anon().post('/api/v1/auth/login', { user: 'tech', password: PASSWORD })).status,
    401,
    'and they cannot log in',
  );
  t.equal((await admin.patch('/api/v1/users/tech', { disabled: false })).status, 200);
  t.equal(
    (await h.anon().post('/api/v1/auth/login', { user: 'tech', password: PASSWORD })).status,
    200,
    'enabled again',
  );

  const demote = await admin.patch('/api/v1/users/admin', { role: 'technician' });
  t.equal(demote.status, 409, 'the last enabled admin cannot be demoted');
  t.equal((await admin.del('/api/v1/users/admin')).status, 409, 'nor deleted');
  const scoped = await admin.post('/api/v1/users', {
    id: 'loner',
    displayName: 'x',
    role: 'operator',
    password: PASSWORD,
  });
  t.equal(scoped.status, 400, 'an operator without stations is refused');
  t.match(scoped.body, { issues: [{ path: 'stations' }] });
  const dup = await admin.post('/api/v1/users', {
    id: 'anguo',
    displayName: 'x',
    role: 'technician',
    password: PASSWORD,
  });
  t.equal(dup.status, 409);

  const changes = h.headend.store.audit.list({ target: 'user:tech' });
  const disable = changes.find(
    (a) => a.action === 'user.update' && (a.details?.after as { disabled?: boolean })?.disabled === true,
  );
  t.match(
    disable,
    { actor: 'http:admin', details: { before: { disabled: false }, after: { disabled: true } } },
    'audited with before/after',
  );
  t.notOk(
    JSON.stringify(h.headend.store.audit.list({ limit: 1000 })).includes(PASSWORD),
    'no password ever reaches the audit log',
  );

  const role = await admin.patch('/api/v1/users/weirong', { stations: ['huating-mahu'] });
  t.equal(role.status, 200);
  t.equal(
    (await laptop.get('/api/v1/stations/jingning-weirong')).status,
    403,
    'a changed scope applies at the next request',
  );
  t.equal((await laptop.get('/api/v1/stations/huating-mahu')).status, 200);
});
