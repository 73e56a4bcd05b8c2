/**
 * "Power cut: boot after gap → reconcile schedule; resume an in-window job as a new segment; report the
 * gap" (DOMAIN.md §6), reported end to end through the RUNNING headend (issue 8). The agent runs as a
 * CHILD process and is killed with SIGKILL mid-recording (what a power cut does to it); the restarted
 * agent raises `power_cut` (cause row `power-cut`) with the last sign of life, the boot time, the gap and
 * the work that was in progress, and clears it once recovery has resumed the recording. A clean stop
 * (SIGTERM → agent.stop()) followed by a start raises nothing.
 */
import t from 'tap';
import {
  agentConfig,
  sleep,
  spawnAgentProcess,
  startSimReceiver,
  tempDir,
} from '../helpers/agent-harness.js';
import { startTechnicianRig, until } from '../helpers/technician-rig.js';

const S = 'kongtong-cut1';

t.test('kill -9 mid-recording: power_cut with the gap, cleared when recovery is done', async (t) => {
  const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
  const cp = rig.headend.controlPlane;
  const dir = await tempDir(t, 'power-cut-');
  const rx = await startSimReceiver(t);
  const config = agentConfig({
    dir,
    brokerUrl: rig.brokerUrl,
    port: rx.port,
    streamUrl: rx.streamUrl,
    stationId: S,
    extra: { broker: { url: rig.brokerUrl, password: rig.secrets[S] ?? '' } },
  });
  const online = (what: string) => until(() => cp.presence.get(S)?.connection === 'online', what, 30_000);
  const powerCuts = (type: string, from: number) =>
    rig.transitions.filter(
      (x) => x.station === S && x.kind === 'power_cut' && x.type === type && x.at >= from,
    );

  const first = await spawnAgentProcess(t, config, 'agent-1');
  await online('first run online');
  t.same(powerCuts('raised', 0), [], 'the very first start is not a power cut');
  rig.record(S, 'cctv1', 4000, 40_000);
  await until(
    () => cp.telemetry.latest(S)?.telemetry.recorders.some((r) => r.bytes > 0),
    'recording with data on disk',
    40_000,
  );
  await sleep(1500);

  // The power goes: no clean stop, nothing flushed beyond what SQLite committed.
  const cutAt = Date.now();
  first.proc.kill('SIGKILL');
  await first.exited;
  await sleep(3000);
  const bootAt = Date.now();
  const second = await spawnAgentProcess(t, config, 'agent-2');
  const raised = await until(() => powerCuts('raised', cutAt)[0], 'power_cut at the headend', 30_000, 20);
  const a = raised.alarm;
  t.equal(a.cause.row, 'power-cut', `cause: ${a.cause.text}`);
  t.equal(a.severity, 'warning');
  const f = a.evidence.facts;
  t.equal(f.occurrencesInProgress, 1, 'the recording that was running is named');
  t.equal(f.previousBoot, 1);
  t.equal(f.boot, 2);
  const lastSeen = Date.parse(String(f.lastSeenAt));
  t.ok(
    lastSeen <= cutAt && lastSeen >= cutAt - 2000,
    `last sign of life ${String(f.lastSeenAt)} just before the cut`,
  );
  t.ok(Math.abs(Date.parse(String(f.bootAt)) - bootAt) < 5000, `boot time ${String(f.bootAt)}`);
  const gap = Number(f.gapMs);
  t.ok(gap >= 3000 && gap < 10_000, `gap ${gap} ms covers the 3 s the station was dark`);
  t.match(a.evidence.text, /unclean stop .* dark for \d+ s; 1 occurrence was in progress/, a.evidence.text);
  t.comment(`power cut: raised ${raised.at - bootAt} ms after the restart, gap reported ${gap} ms`);

  const cleared = await until(
    () => powerCuts('cleared', cutAt)[0],
    'power_cut cleared after recovery',
    30_000,
    20,
  );
  t.ok(cleared.at >= raised.at, 'raised → cleared: the fact with its fix');
  const log = await second.log();
  t.match(log, /recovery: journal reconciled/, 'recovery ran');
  t.match(log, /"resumed":\["[^"]+"\]/, 'and resumed the recording');
  t.same(rig.alarms({ station: S, kind: 'power_cut' }), [], 'not left active');

  // A clean stop is not a power cut.
  second.proc.kill('SIGTERM');
  t.equal((await second.exited).code, 0, 'SIGTERM → clean stop');
  const t2 = Date.now();
  await spawnAgentProcess(t, config, 'agent-3');
  await until(
    () => cp.presence.get(S)?.connection === 'online' && (cp.presence.get(S)?.boot?.n ?? 0) >= 3,
    'third run online',
    30_000,
  );
  await sleep(3000);
  t.same(powerCuts('raised', t2), [], 'a start after a clean stop raises no power_cut');
});
