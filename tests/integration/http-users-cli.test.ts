/**
 * The first admin of a new headend comes from the admin CLI (there is no default password): `user-add`
 * prints a generated password once, which then logs in over HTTP; `user-password` replaces it and ends the
 * sessions; `users` lists. Bad input is a usage error, not a crash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runCli } from '../../headend/cli.js';
import { loadConfig } from '../../headend/config.js';
import { silentLogger } from '../../headend/log.js';
import { startHeadend } from '../../headend/main.js';
import { ApiClient } from '../helpers/headend-harness.js';

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

t.test('first admin from the CLI, then the browser', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-users-cli-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const base = ['--data-dir', dataDir, '--log-level', 'silent'];

  t.equal(
    (await cli(['user-add', ...base, '--id', 'root', '--role', 'superuser'])).code,
    2,
    'unknown role: usage error',
  );
  const noStation = await cli(['user-add', ...base, '--id', 'anguo', '--role', 'operator']);
  t.equal(noStation.code, 1);
  t.match(noStation.stderr, /INVALID_INPUT.*stations/);
  const added = await cli([
    'user-add',
    ...base,
    '--id',
    'zhang',
    '--role',
    'admin',
    '--display-name',
    '张主任',
  ]);
  t.equal(added.code, 0, added.stderr);
  const password = /password: (\S+)/.exec(added.stdout)?.[1] ?? '';
  t.ok(password.length >= 16, 'a generated password, printed once');
  t.match(added.stderr, /shown this once/);
  t.equal((await cli(['user-add', ...base, '--id', 'zhang', '--role', 'admin'])).code, 1, 'no duplicates');
  const list = await cli(['users', ...base]);
  t.match(list.stdout, /zhang\tadmin\t张主任/);
  t.notMatch(list.stdout, new RegExp(password), 'the list never shows a password');

  const config = loadConfig({
    env: {},
    flags: { 'data-dir': dataDir, http: '127.0.0.1:0', mqtt: '127.0.0.1:0', 'log-level': 'silent' },
  });
  const headend = await startHeadend(config, { logger: silentLogger() });
  t.teardown(() => headend.stop());
  const browser = await new ApiClient(headend.httpUrl).login('zhang', password);
  t.equal((await browser.get('/api/v1/users')).status, 200, 'the CLI-made admin logs in and administers');

  const reset = await cli(['user-password', ...base, '--id', 'zhang']);
  t.equal(reset.code, 0);
  const next = /: (\S+)\n/.exec(reset.stdout)?.[1] ?? '';
  t.not(next, password);
  t.equal((await browser.get('/api/v1/users')).status, 401, 'the reset ended the session');
  t.equal(
    (await new ApiClient(headend.httpUrl).post('/api/v1/auth/login', { user: 'zhang', password })).status,
    401,
  );
  t.equal(
    (await new ApiClient(headend.httpUrl).post('/api/v1/auth/login', { user: 'zhang', password: next }))
      .status,
    200,
  );
  t.ok(
    headend.store.audit
      .list({ target: 'user:zhang' })
      .some((a) => a.action === 'user.password' && a.actor.startsWith('cli:')),
    'audited',
  );
});
