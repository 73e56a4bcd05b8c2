/**
 * The conference API through the real headend (issue 7): the control room pushes a conference, stations
 * that connect show up on the live board within a second over SSE — an operator only ever sees their own
 * station's row, on the stream as in the API —, bad input and impossible actions answer typed problems,
 * and the report downloads as CSV. (Which role may call which route is the authorization matrix's job,
 * tests/integration/http-authz.test.ts.)
 */
import t, { type Test } from 'tap';
import { type ApiClient, type Harness, startHarness } from '../helpers/headend-harness.js';

const S = 'kongtong-anguo';
const T = 'jingning-weirong';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Msg {
  event: string;
  data: { conferenceId?: string; op?: string; row?: { stationId: string; status: string } };
}

/** Reads `/api/v1/stream` as `client` and collects its messages. */
async function stream(t: Test, h: Harness, client: ApiClient): Promise<Msg[]> {
  const ac = new AbortController();
  const res = await fetch(`${h.url}/api/v1/stream`, {
    headers: { accept: 'text/event-stream', cookie: client.cookie ?? '' },
    signal: ac.signal,
  });
  t.teardown(() => ac.abort());
  const out: Msg[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data) out.push({ event, data: JSON.parse(data) as Msg['data'] });
        }
      }
    } catch {
      // aborted at teardown
    }
  })();
  return out;
}

async function until<V>(fn: () => V, what: string, ms = 15_000): Promise<NonNullable<V>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<V>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

t.test('live board over SSE, scoped to what each user may see', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const control = await h.as('control');
  const operator = await h.as('anguo');
  const tech = await h.as('tech');
  const controlLive = await stream(t, h, control);
  const operatorLive = await stream(t, h, operator);

  const start = Date.now() + 30_000;
  const created = await control.post('/api/v1/conferences', {
    title: '全市防汛视频会',
    organiser: '市应急管理局',
    service: 'cctv1',
    start: iso(start),
    end: iso(start + 600_000),
    target: { type: 'all' },
    notes: '<b>not markup</b>',
  });
  t.equal(created.status, 201);
  const id = (created.body as { conference: { id: string } }).conference.id;
  await until(
    () => operatorLive.find((m) => m.event === 'conference' && m.data.op === 'create'),
    'the lifecycle message',
  );

  // A station connects: its row moves from offline to "schedule not applied yet" within a second or so.
  const t0 = Date.now();
  await h.connectStation(S);
  await h.connectStation(T);
  const rowOf = (msgs: Msg[], station: string, status: string) =>
    msgs.find(
      (m) => m.data.conferenceId === id && m.data.row?.stationId === station && m.data.row.status === status,
    );
  await until(
    () => rowOf(controlLive, S, 'not_applied') && rowOf(controlLive, T, 'not_applied'),
    'rows on the stream',
  );
  t.comment(`rows on the stream ${Date.now() - t0} ms after the stations connected`);
  await until(() => rowOf(operatorLive, S, 'not_applied'), 'the operator’s own row');
  t.notOk(
    operatorLive.some((m) => m.data.row && m.data.row.stationId !== S),
    'the operator never gets another township’s row',
  );

  const board = (await operator.get(`/api/v1/conferences/${id}/attendance`)).body as {
    rows: { stationId: string }[];
    counts: { all: { total: number } };
    conference: { stations: string[]; notes: string };
  };
  t.same(
    board.rows.map((r) => r.stationId),
    [S],
    'the operator’s board: their station only',
  );
  t.equal(board.counts.all.total, 1, 'counts over what they see');
  t.same(board.conference.stations, [S]);
  t.equal(board.conference.notes, '<b>not markup</b>', 'notes are data, returned as given');
  const full = (await tech.get(`/api/v1/conferences/${id}/attendance`)).body as { rows: unknown[] };
  t.equal(full.rows.length, 3, 'a technician reads the whole board');
  const report = (await operator.get(`/api/v1/conferences/${id}/report`)).body as {
    stations: unknown[];
    final: boolean;
  };
  t.equal(report.stations.length, 1, 'the operator’s report: their station only');
  t.equal(report.final, false, 'provisional before the end');
  const csv = await operator.get(`/api/v1/conferences/${id}/report.csv`);
  t.equal(csv.status, 200);
  t.match(csv.headers.get('content-type'), /^text\/csv; charset=utf-8/);
  t.equal(
    String(csv.body)
      .split('\r\n')
      .filter((l) => l.startsWith(T)).length,
    0,
    'no other township in the CSV',
  );
});

t.test('typed problems for bad input and impossible actions', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const control = await h.as('control');
  const operator = await h.as('anguo');
  const start = Date.now() + 3_600_000;
  const body = {
    title: '会',
    organiser: '市政府',
    service: 'cctv1',
    start: iso(start),
    end: iso(start + 600_000),
    target: { type: 'stations', stationIds: [T] },
  };
  const bad = await control.post('/api/v1/conferences', { ...body, end: iso(start - 1000) });
  t.equal(bad.status, 400);
  t.match(bad.body, { code: 'VALIDATION_FAILED', issues: [{ path: 'body.end' }] }, 'the field is named');
  const unknown = await control.post('/api/v1/conferences', { ...body, service: 'nope' });
  t.equal(unknown.status, 400, 'a service not in the line-up');
  t.match(unknown.body, { code: 'VALIDATION_FAILED' });
  const county = await control.post('/api/v1/conferences', {
    ...body,
    target: { type: 'counties', counties: ['kongtong', 'atlantis'] },
  });
  t.equal(county.status, 404, 'an unknown county');
  const r = await control.post('/api/v1/conferences', body);
  t.equal(r.status, 201);
  const id = (r.body as { conference: { id: string } }).conference.id;
  const endEarly = await control.post(`/api/v1/conferences/${id}/end-now`);
  t.equal(endEarly.status, 409, 'cannot end what has not started');
  t.match(endEarly.body, { code: 'CONFLICT', message: /cancel it instead/ });
  t.equal(
    (await control.post(`/api/v1/conferences/${id}/extend`, { minutes: 0 })).status,
    400,
    'extend ≥ 1 min',
  );
  t.equal((await operator.get(`/api/v1/conferences/${id}`)).status, 404, 'not the operator’s: not found');
  t.equal((await control.post(`/api/v1/conferences/${id}/cancel`)).status, 200);
  const again = await control.post(`/api/v1/conferences/${id}/cancel`);
  t.equal(again.status, 409, 'cancelled once');
  const list = (await control.get('/api/v1/conferences?phase=cancelled')).body as { id: string }[];
  t.same(
    list.map((c) => c.id),
    [id],
    'listed as cancelled',
  );
  const audit = h.headend.store.audit.list({ target: `conference:${id}` }).map((a) => a.action);
  t.same(audit, ['conference.cancel', 'conference.create'], 'each change audited');
});

t.test("a conference's entry is changed only through /conferences", async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const control = await h.as('control');
  const start = Date.now() + 60_000;
  const created = await control.post('/api/v1/conferences', {
    title: '全市春耕视频会议',
    organiser: '市农业农村局',
    service: 'cctv1',
    start: iso(start),
    end: iso(start + 600_000),
    target: { type: 'all' },
  });
  t.equal(created.status, 201);
  const id = (created.body as { conference: { id: string } }).conference.id;
  const patched = await control.patch(`/api/v1/entries/${id}`, { title: 'renamed behind its back' });
  t.equal(patched.status, 409, 'PATCH /entries is refused');
  t.match(patched.body, { code: 'CONFLICT', message: /\/conferences\// });
  const deleted = await control.del(`/api/v1/entries/${id}`);
  t.equal(deleted.status, 409, 'DELETE /entries is refused');
  const after = await control.get(`/api/v1/conferences/${id}`);
  t.match(after.body, { title: '全市春耕视频会议' }, 'the conference is unchanged');
});
