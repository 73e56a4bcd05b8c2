/**
 * The agent as a service (`node dist/device/main.js --config …`, here through tsx): a bad config fails at
 * start with every field error listed on stderr and exit code 2; `--help` prints the usage; an unknown flag
 * is a usage error.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { REPO, tempDir } from '../helpers/agent-harness.js';

function runMain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(REPO, 'device/main.ts'), ...args],
      { cwd: REPO, timeout: 30_000, env: { ...process.env, RURALSAT_AGENT_CONFIG: '' } },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

t.test('a bad config fails fast with every field error', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'agent.json');
  await writeFile(
    file,
    JSON.stringify({
      stationId: 'BAD ID',
      broker: { url: 'ftp://x' },
      receiver: { family: 'rx9' },
      dataDir: '',
    }),
  );
  const r = await runMain(['--config', file]);
  t.equal(r.code, 2, 'exit code 2');
  for (const field of [
    'stationId',
    'broker.url',
    'receiver.family',
    'receiver.transport',
    'streamUrl',
    'recordingsDir',
    'dataDir',
  ]) {
    t.match(r.stderr, new RegExp(`\\b${field.replace('.', '\\.')}:`), `names ${field}`);
  }
});

t.test('usage', async (t) => {
  const help = await runMain(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--config/);
  const bad = await runMain(['--frobnicate']);
  t.equal(bad.code, 2, 'unknown flag: exit 2');
  t.match(bad.stderr, /usage/);
});
