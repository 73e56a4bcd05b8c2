/**
 * The quick start shows alarms with their causes (issue 8 "Done when": "the quick-start fleet shows at
 * least three alarm kinds with causes"). Runs the REAL demo entry (scripts/demo.ts) as a child process with
 * 12 stations and the short timing profile (`--timing short`, the demo's own flag), logs in as the admin it
 * prints, and asks the HTTP API what the control room sees: every faulty station the demo lists shows the
 * alarm its fault table promises (kind and failure-table row of the cause, scripts/fleet/demo-faults.ts), with
 * a cause text and evidence — not merely any three kinds, which start-up noise could supply. Then Ctrl-C (SIGINT) — and every process the demo
 * started (the fleet process, ffmpeg sources and recorders) must be gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { FAILURES } from '../../protocol/failures.js';
import { demoFaults } from '../../scripts/fleet/demo-faults.js';
import { tree } from '../../scripts/fleet/proc-sample.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The web UI's alarm texts (plain JS, the module the browser loads). */
const cause = (await import(pathToFileURL(path.join(ROOT, 'headend/web/js/cause-i18n.js')).href)) as {
  alarmTexts(
    a: unknown,
    tz: string,
    loc: string,
  ): Record<'cause' | 'evidence', { text: string; english: boolean }>;
};

interface AlarmView {
  kind: string;
  severity: string;
  station: string | null;
  cause: { row: string; failure: string; respond: string; text: string };
  evidence: { text: string; facts: Record<string, unknown> };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves with the stdout text once `pattern` appears (rejects when the child exits first or at `ms`). */
function waitForOutput(child: ChildProcess, out: { text: string; err: string }, pattern: RegExp, ms: number) {
  return new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${ms} ms; output so far:\n${out.text}`));
    }, ms);
    const check = () => {
      const m = pattern.exec(out.text);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const exited = (code: number | null) => {
      cleanup();
      reject(new Error(`the demo exited (${code}) before ${pattern}:\n${out.text}\n${out.err}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', exited);
    };
    child.stdout?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

t.test('the quick-start fleet shows at least three alarm kinds with causes and evidence', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-quickstart-'));
  const out = { text: '', err: '' };
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import=tsx',
      path.join(ROOT, 'scripts/demo.ts'),
      '--stations',
      '12',
      '--port',
      '0',
      '--dir',
      dir,
      '--timing',
      'short',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out.text += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    out.err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Every PID seen under the demo while it ran; all must be gone after the stop.
  const seen = new Set<number>();
  const sampleTree = () => {
    if (child.pid && alive(child.pid)) for (const p of tree(child.pid)) seen.add(p.pid);
  };
  const sampler = setInterval(sampleTree, 1000);
  t.teardown(async () => {
    clearInterval(sampler);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ready = await waitForOutput(child, out, /Ctrl-C stops everything/, 60_000);
  t.ok(ready, `the demo is up after ${Date.now() - started} ms`);
  const url = /open (http:\/\/127\.0\.0\.1:\d+)\//.exec(out.text)?.[1];
  const password = /^ {4}admin +(\S+) +admin$/m.exec(out.text)?.[1];
  t.ok(url, 'the demo printed its URL');
  t.ok(password, 'the demo printed the admin login');
  if (!url || !password) return;
  // The demo prints each faulty station with what it shows; the table it printed from says which alarm
  // (kind and cause row) each fault must make — start-up noise (schedule lag, a power cut) does not count.
  const table = demoFaults();
  const expected = out.text.split('\n').flatMap((line) => {
    const m = /^ {4}([a-z0-9-]+) +(\S.*)$/.exec(line);
    const fault = m ? table.find((f) => f.shows === m[2]) : undefined;
    return m?.[1] && fault ? [{ station: m[1], ...fault.alarm }] : [];
  });
  t.ok(
    expected.length >= 3,
    `the demo lists its faulty stations and what each shows: ${expected.map((e) => `${e.station} → ${e.kind}`).join(', ')}`,
  );
  t.equal(
    new Set(expected.map((e) => e.kind)).size,
    expected.length,
    'each faulty station shows a different alarm kind',
  );

  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'admin', password }),
  });
  t.equal(login.status, 200, 'the printed admin login works');
  const cookie = /rsat_session=[^;]*/.exec(login.headers.get('set-cookie') ?? '')?.[0] ?? '';
  const csrf = ((await login.json()) as { csrf: string }).csrf;

  // Bounded: the short profile raises within seconds of the faults; 45 s leaves room on a busy machine.
  let alarms: AlarmView[] = [];
  const deadline = Date.now() + 45_000;
  const shown = (e: (typeof expected)[number]) =>
    alarms.find((a) => a.station === e.station && a.kind === e.kind && a.cause.row === e.row);
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/api/v1/alarms`, { headers: { cookie } });
    alarms = (await res.json()) as AlarmView[];
    if (expected.every(shown)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  t.comment(
    `after ${Date.now() - started} ms: ${alarms.map((a) => `${a.station}:${a.kind}/${a.cause.row}`).join(', ')}`,
  );
  for (const e of expected) {
    const a = shown(e);
    const there = alarms.filter((x) => x.station === e.station).map((x) => `${x.kind}/${x.cause.row}`);
    t.ok(
      a,
      `${e.station} shows ${e.kind} with cause row ${e.row} (it has: ${there.join(', ') || 'nothing'})`,
    );
    if (!a) continue;
    t.ok(a.cause.row in FAILURES, `${e.kind}: the row is one of the failure table`);
    t.ok(a.cause.text.length > 0, `${e.kind}: a cause text ("${a.cause.text}")`);
    t.ok(
      a.cause.failure.length > 0 && a.cause.respond.length > 0,
      `${e.kind}: the row's failure and response`,
    );
    t.ok(a.evidence.text.length > 0, `${e.kind}: evidence ("${a.evidence.text}")`);
    t.ok(Object.keys(a.evidence.facts).length > 0, `${e.kind}: evidence facts`);
    // What the Chinese UI (the default) shows for it: the cause and evidence said from the facts, no English.
    const zh = cause.alarmTexts(a, 'Asia/Shanghai', 'zh-CN');
    t.notOk(zh.cause.english, `${e.kind}: the zh UI says the cause in Chinese ("${zh.cause.text}")`);
    t.notOk(zh.evidence.english, `${e.kind}: the zh UI says the evidence in Chinese ("${zh.evidence.text}")`);
  }
  // The faulty stations show their alarms on the fleet board too (the same API the board reads).
  const stations = (await (await fetch(`${url}/api/v1/stations`, { headers: { cookie } })).json()) as {
    id: string;
    alarms: { kind: string; severity: string }[];
  }[];
  for (const e of expected)
    t.ok(
      stations.find((s) => s.id === e.station)?.alarms.some((a) => a.kind === e.kind),
      `the fleet board marks ${e.station} with ${e.kind}`,
    );

  // A technician's `logs.tail` works on a quick-start station: each fleet agent keeps its recent lines.
  const healthy = stations.find((s) => s.alarms.length === 0)?.id ?? '';
  const tail = await fetch(`${url}/api/v1/stations/${healthy}/diagnostics/logs.tail`, {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ lines: 20 }),
  });
  const tailBody = (await tail.json()) as { result?: { entries: { msg: string }[] } };
  t.equal(tail.status, 200, `logs.tail answers at ${healthy}`);
  t.ok(
    (tailBody.result?.entries.length ?? 0) > 0,
    `logs.tail returns the agent's recent lines (${tailBody.result?.entries.length ?? 0}), e.g. "${tailBody.result?.entries.at(-1)?.msg ?? ''}"`,
  );

  // Ctrl-C: the demo stops the fleet (every agent, every ffmpeg) and the headend, then exits.
  sampleTree();
  const pids = [...seen].filter((p) => p !== child.pid);
  t.ok(pids.length >= 2, `the demo started a fleet process and ffmpeg (${pids.length} processes seen)`);
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  t.equal(code, 0, `the demo exits cleanly on Ctrl-C${out.err ? ` (stderr: ${out.err.slice(0, 500)})` : ''}`);
  // The fleet process exits after its agents stopped; give a second for the last ffmpeg to be reaped.
  const gone = Date.now() + 5000;
  while (Date.now() < gone && [...seen].some(alive)) await new Promise((r) => setTimeout(r, 200));
  t.same(
    [...seen].filter(alive),
    [],
    'nothing the demo started is still running (fleet process, ffmpeg sources and recorders)',
  );
});
