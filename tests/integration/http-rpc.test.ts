/**
 * What the API forwards to a station (issue 6, DESIGN.md §4 RPC, §6 Diagnostics): protect / delete of a
 * recording — sent at once to a connected station, kept pending for a disconnected one and sent when it is
 * back, with the same `rid` (the station journals rids of side-effect methods, so it never acts twice) —
 * and a technician's diagnostics, answered or refused with the station's own error.
 */
import t from 'tap';
import { startHarness } from '../helpers/headend-harness.js';

const S = 'kongtong-anguo';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

t.test('protect, delete and diagnostics reach the station', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  h.headend.store.recordings.upsert({
    stationId: S,
    recordingId: 'r-1',
    status: 'completed',
    quality: 99,
    manifest: {},
    updatedAt: iso(Date.now() - 3_600_000),
  });
  const operator = await h.as('anguo');
  const tech = await h.as('tech');

  const away = await operator.post(`/api/v1/stations/${S}/recordings/r-1/protect`, { protect: true });
  t.match(
    away.body,
    { status: 'pending', attempts: 1, lastError: /DISCONNECTED/ },
    'a station that is away: pending, with the reason',
  );
  const diagAway = await tech.post(`/api/v1/stations/${S}/diagnostics/receiver.status`, {});
  t.equal(diagAway.status, 503);
  t.match(
    diagAway.body,
    { code: 'RPC_DISCONNECTED', message: /kongtong-anguo is not connected/ },
    'answered at once',
  );

  // The station comes back: the pending request is sent on its birth.
  const station = await h.connectStation(S, {
    rpc: (method, params) => {
      if (method === 'recordings.protect')
        return { recordingId: (params as { recordingId: string }).recordingId, protected: true };
      if (method === 'recordings.delete')
        return { error: { code: 'REFUSED', message: 'the recording is running' } };
      if (method === 'receiver.status')
        return {
          receivers: [
            {
              id: 'rx1',
              link: 'up',
              locked: true,
              service: 'cctv1',
              level: null,
              cnDb: 9.1,
              marginDb: 2.2,
              ber: null,
              lnb: 'ok',
              alarms: [],
            },
          ],
        };
      return { error: { code: 'UNKNOWN_METHOD', message: method } };
    },
  });
  const deadline = Date.now() + 5000;
  let reqs: { action: string; status: string }[] = [];
  while (Date.now() < deadline) {
    reqs = (await operator.get(`/api/v1/stations/${S}/recording-requests`)).body as typeof reqs;
    if (reqs[0]?.status === 'done') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.match(reqs[0], { action: 'protect', status: 'done' }, 'sent when the station came back, and confirmed');
  const sent = station.requests.filter((r) => r.method === 'recordings.protect');
  t.equal(sent.length, 1, 'sent once');
  t.match(sent[0]?.params, { recordingId: 'r-1', protect: true });
  const row = h.headend.store.db
    .prepare('SELECT rid FROM recording_requests WHERE action = ?')
    .get('protect') as { rid: string };
  t.equal(sent[0]?.rid, row.rid, 'with the rid stored for it (a redelivery is recognised by the station)');

  const refused = await operator.del(`/api/v1/stations/${S}/recordings/r-1`);
  t.equal(refused.status, 202);
  t.match(
    refused.body,
    { action: 'delete', status: 'failed', lastError: 'REFUSED: the recording is running' },
    "the station's refusal is shown",
  );

  const diag = await tech.post(`/api/v1/stations/${S}/diagnostics/receiver.status`, {});
  t.equal(diag.status, 200);
  t.match(diag.body, {
    method: 'receiver.status',
    result: { receivers: [{ id: 'rx1', locked: true, marginDb: 2.2 }] },
  });
  const badParams = await tech.post(`/api/v1/stations/${S}/diagnostics/logs.tail`, { lines: 0 });
  t.equal(badParams.status, 400, 'params are checked against the protocol before sending');
  t.match(badParams.body, { issues: [{ path: 'lines' }] });
  const reset = await tech.post(`/api/v1/stations/${S}/diagnostics/receiver.reset`, { receiverId: 'rx1' });
  t.equal(reset.status, 502, "the station's error comes back");
  t.match(reset.body, { code: 'RPC_UNKNOWN_METHOD' });
  t.ok(
    h.headend.store.audit
      .list({ target: S })
      .some((a) => a.action === 'rpc.receiver.reset' && a.actor === 'http:tech'),
    'side-effect methods are audited',
  );
  t.ok(
    h.headend.store.audit.list({ target: S }).some((a) => a.action === 'rpc.receiver.status'),
    'read-only ones too (issue 8: every call is audited)',
  );
});
