/**
 * Remote diagnostics end to end (issue 8; DESIGN.md §4 RPC, §6): a technician at the headend's API runs
 * the methods on a REAL agent whose simulated RX8200 is locked and streaming real MPEG-TS — receiver status
 * and info, a stream probe (services, bitrate, PAT/PMT, CC errors, scrambling from the receiver's own
 * bytes), the agent's log, the disk, the retention remedy. A side-effecting call redelivered with the same
 * rid runs once. Every call is audited with who, method, params and result; operators and the control room
 * are refused; a station that is not connected answers at once.
 */
import t from 'tap';
import { startTechnicianRig, until } from '../helpers/technician-rig.js';

const S = 'kongtong-diag1';
const AWAY = 'huating-away1';

type Body = Record<string, unknown> & { result?: Record<string, unknown>; code?: string; message?: string };

t.test('a technician diagnoses a station from the city', async (t) => {
  const rig = await startTechnicianRig(t, {
    stations: [
      { id: S, county: 'kongtong' },
      { id: AWAY, county: 'huating' },
    ],
  });
  const st = await rig.station(S);
  rig.tuneConference(S, 'cctv1');
  const cp = rig.headend.controlPlane;
  await until(
    () => cp.telemetry.latest(S)?.telemetry.receivers.some((r) => r.locked && r.service === 'cctv1'),
    'the receiver locked on cctv1 (telemetry)',
    30_000,
  );
  const tech = await rig.as('tech');
  const run = async (method: string, params: unknown = {}) => {
    const r = await tech.post(`/api/v1/stations/${S}/diagnostics/${method}`, params);
    return { status: r.status, body: r.body as Body };
  };

  const status = await run('receiver.status');
  t.equal(status.status, 200, 'receiver.status answered');
  t.match(status.body.result, {
    receivers: [{ id: 'rx1', link: 'up', locked: true, service: 'cctv1', lnb: 'ok', marginDb: Number }],
  });

  const info = await run('receiver.info');
  t.match(info.body.result, {
    receivers: [{ id: 'rx1', family: 'rx8200', transport: 'serial', outputs: String }],
  });

  const probe = await run('stream.probe', { durationMs: 2500 });
  t.equal(probe.status, 200, `stream.probe answered (${JSON.stringify(probe.body).slice(0, 200)})`);
  const p = probe.body.result as {
    bitrateBps: number;
    ccErrors: number;
    patPresent: boolean;
    packets: number;
    services: {
      serviceId: number;
      name: string | null;
      scrambled: boolean;
      pmtPresent: boolean;
      streams: { type: string; codec: string | null }[];
    }[];
  };
  t.ok(p.bitrateBps > 50_000, `bitrate measured (${Math.round(p.bitrateBps / 1000)} kbit/s)`);
  t.ok(p.packets > 100, 'TS packets read');
  t.equal(p.patPresent, true, 'PAT present');
  const svc = p.services.find((s) => s.serviceId === 101);
  t.ok(svc, 'the tuned service (programme 101) is in the stream');
  t.match(svc, { pmtPresent: true, scrambled: false, name: /CCTV/ });
  t.same(
    svc?.streams.map((s) => [s.type, s.codec]),
    [
      ['video', 'mpeg2video'],
      ['audio', 'mp2'],
    ],
    'its streams with codec names',
  );
  t.equal(p.ccErrors, 0, 'no continuity errors on a clean local stream');

  const logs = await run('logs.tail', { lines: 200 });
  const entries = (logs.body.result as { entries: { msg: string; module?: string }[] }).entries;
  t.ok(entries.length > 0, `the agent's log lines (${entries.length})`);
  t.ok(
    entries.some((e) => /tuned and locked/.test(e.msg)),
    'including the tune',
  );
  const warns = await run('logs.tail', { lines: 5, minLevel: 'error' });
  t.equal(warns.status, 200, 'filtered by level');

  const disk = await run('disk.usage');
  t.match(disk.body.result, { path: st.agent.config.recordingsDir, readOnly: false, totalBytes: Number });

  const policy = await run('recordings.retention', { policy: { maxAgeDays: 30, keepPerEntry: 5 } });
  t.match(policy.body.result, { policy: { maxAgeDays: 30, keepPerEntry: 5 } }, 'retention policy changed');
  const swept = await run('recordings.retention', { sweep: true });
  t.match(
    swept.body.result,
    { policy: { maxAgeDays: 30 }, swept: { deleted: 0, freedBytes: 0 } },
    'and swept now',
  );

  const bad = await run('stream.probe', { durationMs: 10 });
  t.equal(bad.status, 400, 'params are checked against the protocol before anything is sent');
  const unknownRx = await run('receiver.reset', { receiverId: 'rx9' });
  t.equal(unknownRx.status, 404, "the station's own NOT_FOUND comes back");
  t.match(unknownRx.body, { code: 'RPC_NOT_FOUND', message: /rx9/ });

  // Side effects run once even if the request is delivered twice (DESIGN.md §4: rids journalled).
  const first = await cp.rpc.call(S, 'receiver.retune', { receiverId: 'rx1' }, { rid: 'retune-twice-1' });
  const again = await cp.rpc.call(S, 'receiver.retune', { receiverId: 'rx1' }, { rid: 'retune-twice-1' });
  t.equal(first.ok, true, 'the retune ran');
  t.same(again, first, 'the redelivery is answered from the journal, identically');
  await until(
    () =>
      rig.headend.store.db
        .prepare("SELECT COUNT(*) AS n FROM events WHERE station_id = ? AND type = 'rpc.executed'")
        .get(S),
    'rpc.executed events ingested',
  );
  const executed = rig.headend.store.db
    .prepare("SELECT payload FROM events WHERE station_id = ? AND type = 'rpc.executed'")
    .all(S) as { payload: string }[];
  t.equal(
    executed.filter((e) => (JSON.parse(e.payload) as { rid: string }).rid === 'retune-twice-1').length,
    1,
    'the station executed it once (one rpc.executed event)',
  );
  t.ok(
    st.logs.all().some((l) => /redelivered rpc not re-run/.test(l.msg)),
    'and logged the redelivery it did not run',
  );

  // Who may call.
  const operator = await rig.as(`op-${S}`);
  const opCall = await operator.post(`/api/v1/stations/${S}/diagnostics/receiver.status`, {});
  t.equal(opCall.status, 403, 'an operator may not run diagnostics, even on the own station');
  const control = await rig.as('control');
  t.equal(
    (await control.post(`/api/v1/stations/${S}/diagnostics/receiver.reset`, { receiverId: 'rx1' })).status,
    403,
  );
  const admin = await rig.as('admin');
  t.equal((await admin.post(`/api/v1/stations/${S}/diagnostics/disk.usage`, {})).status, 200, 'admins may');
  const methods = (await tech.get('/api/v1/diagnostics/methods')).body as {
    method: string;
    sideEffects: boolean;
  }[];
  t.ok(
    methods.some((m) => m.method === 'receiver.lnb' && m.sideEffects),
    'the methods list names the remedies',
  );
  t.same((await operator.get('/api/v1/diagnostics/methods')).body, [], 'and offers an operator none');

  // A station that is not connected answers at once, with since when.
  const t0 = performance.now();
  const away = await tech.post(`/api/v1/stations/${AWAY}/diagnostics/receiver.status`, {});
  const awayMs = performance.now() - t0;
  t.equal(away.status, 503);
  t.match(away.body, { code: 'RPC_DISCONNECTED', message: /not connected/ });
  t.ok(awayMs < 1000, `a never-connected station answered in ${awayMs.toFixed(0)} ms`);
  t.comment(`never-connected station: ${awayMs.toFixed(1)} ms`);

  // Every call is audited: who, method, params, outcome, result.
  const audit = rig.headend.store.audit.list({ target: S, limit: 200 });
  const byAction = (a: string) => audit.filter((x) => x.action === a);
  t.ok(
    byAction('rpc.receiver.status').some((a) => a.actor === 'http:tech'),
    'receiver.status audited',
  );
  const probeRow = byAction('rpc.stream.probe').find((a) => (a.details as { ok?: boolean }).ok === true);
  t.match(probeRow, {
    actor: 'http:tech',
    details: { params: { durationMs: 2500 }, ok: true, sideEffects: false, rid: String, tookMs: Number },
  });
  const kept = (probeRow?.details ?? {}) as { result?: unknown; resultHead?: string };
  t.ok(kept.result !== undefined || kept.resultHead, 'with its result');
  t.match(byAction('rpc.recordings.retention')[0], { details: { sideEffects: true, ok: true } });
  t.match(
    byAction('rpc.receiver.reset').find((a) => a.actor === 'http:tech'),
    { details: { ok: false, error: { code: 'NOT_FOUND' } } },
    "the technician's reset reached the station (which has no such receiver)",
  );
  // A refused attempt is a call too (issue 8: "each call is audited"): who tried what, and that it was refused.
  t.match(
    audit.filter((a) => a.actor === `http:op-${S}`),
    [{ action: 'rpc.receiver.status', details: { ok: false, refused: /role operator may not/ } }],
    "the operator's refused attempt is audited, and it never reached the station",
  );
  t.match(
    rig.headend.store.audit.list({ target: S, limit: 200 }).filter((a) => a.actor === 'http:control'),
    [{ action: 'rpc.receiver.reset', details: { ok: false, refused: /may not call receiver\.reset/ } }],
    "the control room's refused reset too",
  );

  const metrics = await fetch(`${rig.url}/metrics`);
  const text = await metrics.text();
  t.equal(metrics.status, 200, '/metrics');
  t.match(text, /ruralsat_stations\{connection="online",app="ruralsat-headend"\} 1/);
  t.match(
    text,
    /ruralsat_diagnostics_calls_total\{method="stream.probe",outcome="ok",app="ruralsat-headend"\} 1/,
  );
  t.match(text, /nodejs_eventloop_lag_seconds/);
  t.match(text, /ruralsat_alarms_active\{severity="critical"/);

  // The station disconnects: "disconnected since …" at once.
  await st.agent.stop();
  await until(() => cp.presence.get(S)?.connection === 'disconnected', 'disconnected at the headend');
  const t1 = performance.now();
  const gone = await tech.post(`/api/v1/stations/${S}/diagnostics/receiver.status`, {});
  const goneMs = performance.now() - t1;
  t.equal(gone.status, 503);
  t.match(gone.body, { code: 'RPC_DISCONNECTED', message: /disconnected since 20\d\d-/ });
  t.ok(goneMs < 1000, `answered in ${goneMs.toFixed(0)} ms`);
  t.comment(`disconnected station: ${goneMs.toFixed(1)} ms`);
});
