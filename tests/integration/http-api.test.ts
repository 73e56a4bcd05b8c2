/**
 * What the API answers (issue 6): field errors from the same zod schemas, body limits, JSON problems with
 * stable codes; the planner preview showing "truncated by the conference" before anything is saved; the
 * station's plan with that outcome after saving; every control action in the audit log with before/after;
 * XMLTV upload; protect/delete requests that wait for a disconnected station; the OpenAPI document.
 */
import t from 'tap';
import { type Harness, startHarness, xmltv } from '../helpers/headend-harness.js';

const S = 'kongtong-anguo';
const HOUR = 3_600_000;
const base = Math.ceil(Date.now() / HOUR) * HOUR + 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface Problem {
  code: string;
  message: string;
  status: number;
  issues?: { path: string; message: string }[];
}

let h: Harness;
t.before(async () => {
  h = await startHarness();
});
t.teardown(() => h.stop());

t.test('validation errors name every bad field', async (t) => {
  const c = await h.as('control');
  const bad = await c.post('/api/v1/entries', {
    kind: 'recording',
    title: '',
    service: 'CCTV 7',
    when: { type: 'weekly', weekdays: [1, 1, 9], startLocal: '25:00', durationMin: 0, from: '2026-13-01' },
    target: { type: 'station', stationId: 'Not An Id' },
  });
  t.equal(bad.status, 400);
  const p = bad.body as Problem;
  t.equal(p.code, 'VALIDATION_FAILED');
  t.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const paths = (p.issues ?? []).map((i) => i.path);
  for (const want of [
    'body.title',
    'body.service',
    'body.when.startLocal',
    'body.when.durationMin',
    'body.when.from',
    'body.target.stationId',
  ])
    t.ok(
      paths.some((x) => x.startsWith(want)),
      `field error at ${want}`,
      { paths },
    );
  t.ok(
    paths.some((x) => x.startsWith('body.when.weekdays')),
    'and at the weekdays',
  );

  const order = await c.post('/api/v1/entries', {
    kind: 'recording',
    title: 'x',
    service: 'cctv7',
    when: { type: 'once', start: iso(base + HOUR), end: iso(base) },
    target: { type: 'station', stationId: S },
  });
  t.equal(order.status, 400);
  t.match(order.body, { issues: [{ path: 'body.when.end', message: /after start/ }] });

  const unknownService = await c.post('/api/v1/entries', {
    kind: 'recording',
    title: 'x',
    service: 'nosuch',
    when: { type: 'once', start: iso(base), end: iso(base + HOUR) },
    target: { type: 'station', stationId: S },
  });
  t.equal(unknownService.status, 400, 'cross-field checks of the scheduler come back the same way');
  t.match(unknownService.body, { code: 'VALIDATION_FAILED', issues: [{ path: 'service' }] });

  const noStation = await c.post('/api/v1/entries', {
    kind: 'recording',
    title: 'x',
    service: 'cctv7',
    when: { type: 'once', start: iso(base), end: iso(base + HOUR) },
    target: { type: 'station', stationId: 'nowhere-town' },
  });
  t.equal(noStation.status, 404);
  t.match(noStation.body, { code: 'NOT_FOUND' });

  const query = await c.get('/api/v1/events?limit=lots');
  t.equal(query.status, 400);
  t.match(query.body, { issues: [{ path: 'query.limit' }] });
  const extra = await c.get(`/api/v1/stations/${S}/plan?from=yesterday`);
  t.equal(extra.status, 400);
  t.match(extra.body, { issues: [{ path: 'query.from' }] });
  const param = await c.get('/api/v1/stations/NOT..AN..ID');
  t.equal(param.status, 400);
  t.match(param.body, { issues: [{ path: 'params.id' }] });
  const unknownField = await c.patch('/api/v1/auth/me', { locale: 'en', role: 'admin' });
  t.equal(unknownField.status, 400, 'unknown fields are refused, not ignored');
  t.match(unknownField.body, { issues: [{ message: /role/ }] });
});

t.test('bodies: JSON only, bounded, well-formed', async (t) => {
  const c = await h.as('admin');
  const notJson = await c.request('POST', '/api/v1/groups', undefined, {
    raw: '{"id":"x"}',
    contentType: 'text/plain',
  });
  t.equal(notJson.status, 415);
  t.match(notJson.body, { code: 'UNSUPPORTED_MEDIA_TYPE' });
  const broken = await c.request('POST', '/api/v1/groups', undefined, {
    raw: '{"id": "x",',
    contentType: 'application/json',
  });
  t.equal(broken.status, 400);
  t.match(broken.body, { code: 'INVALID_JSON' });
  const huge = await c.post('/api/v1/groups', { id: 'big', name: 'x', description: 'y'.repeat(300 * 1024) });
  t.equal(huge.status, 413);
  t.match(huge.body, { code: 'PAYLOAD_TOO_LARGE' });
  const none = await c.get('/api/v1/nothing-here');
  t.equal(none.status, 404);
  t.match(none.body, { code: 'NOT_FOUND' });
  t.equal((await c.get('/api/v1/groups')).status, 200, 'the server is fine afterwards');
});

t.test('preview shows the outcome before saving; the plan shows it after', async (t) => {
  const control = await h.as('control');
  const operator = await h.as('anguo');
  const conference = {
    kind: 'conference',
    title: '全市春耕视频会议',
    service: 'cctv1',
    record: true,
    when: { type: 'once', start: iso(base + 30 * 60_000), end: iso(base + 90 * 60_000) },
    target: { type: 'county', county: 'kongtong' },
  };
  const saved = await control.post('/api/v1/entries', conference);
  t.equal(saved.status, 201);
  const confId = (saved.body as { entry: { id: string } }).entry.id;

  const mine = {
    kind: 'recording',
    title: '致富经',
    service: 'gstv',
    when: { type: 'once', start: iso(base), end: iso(base + HOUR) },
    target: { type: 'station', stationId: S },
  };
  const window = `from=${encodeURIComponent(iso(base - HOUR))}&to=${encodeURIComponent(iso(base + 3 * HOUR))}`;
  const before = (await operator.get(`/api/v1/entries?station=${S}`)).body as unknown[];
  const preview = await operator.post(`/api/v1/entries/preview?${window}`, mine);
  t.equal(preview.status, 200);
  const st = (
    preview.body as {
      stations: {
        stationId: string;
        occurrences: {
          outcome: string;
          reason: { code: string; by: { entryId: string; title: string } } | null;
          text: string;
        }[];
      }[];
    }
  ).stations;
  t.equal(st.length, 1);
  t.match(
    st[0],
    {
      stationId: S,
      occurrences: [
        {
          outcome: 'truncated',
          reason: { code: 'truncated-by', by: { entryId: confId, title: '全市春耕视频会议' } },
        },
      ],
    },
    'truncated by the conference, which is named',
  );
  t.match(st[0]?.occurrences[0]?.text, /truncated \(by "全市春耕视频会议"/);
  t.same((await operator.get(`/api/v1/entries?station=${S}`)).body, before, 'a preview saves nothing');

  const created = await operator.post('/api/v1/entries', mine);
  t.equal(created.status, 201);
  const entryId = (created.body as { entry: { id: string } }).entry.id;
  const plan = (await operator.get(`/api/v1/stations/${S}/plan?${window}`)).body as {
    timeZone: string;
    occurrences: {
      entryId: string;
      outcome: string;
      reason: { by: { title: string } } | null;
      execution: unknown;
    }[];
  };
  t.equal(plan.timeZone, 'Asia/Shanghai');
  const occ = plan.occurrences.find((o) => o.entryId === entryId);
  t.match(
    occ,
    { outcome: 'truncated', reason: { by: { title: '全市春耕视频会议' } }, execution: null },
    "the station's plan shows the same outcome",
  );
  t.ok(
    plan.occurrences.some((o) => o.entryId === confId),
    'and the conference',
  );

  const edit = await control.patch(`/api/v1/entries/${confId}`, {
    when: { type: 'once', start: iso(base + 30 * 60_000), end: iso(base + 120 * 60_000) },
  });
  t.equal(edit.status, 200, 'the control room extends the conference');
  const stale = await control.patch(`/api/v1/entries/${confId}`, { expectedRev: 1, title: 'x' });
  t.equal(stale.status, 409, 'an edit based on an old revision is refused');
  t.match(stale.body, { code: 'CONFLICT' });

  const audit = (await control.get(`/api/v1/audit?target=${encodeURIComponent(`entry:${confId}`)}`)).body as {
    actor: string;
    action: string;
    details: { before?: { when: { end: string } }; after?: { when: { end: string } } };
  }[];
  const upd = audit.find((a) => a.action === 'entry.update');
  t.match(
    upd,
    {
      actor: 'http:control',
      details: {
        before: { when: { end: iso(base + 90 * 60_000) } },
        after: { when: { end: iso(base + 120 * 60_000) } },
      },
    },
    'audited with before and after',
  );
  t.ok(
    audit.some((a) => a.action === 'entry.create'),
    'the creation too',
  );
});

t.test('guide: XMLTV upload and the grid', async (t) => {
  const control = await h.as('control');
  const ok = await h.importGuide(
    xmltv([
      { service: 'cctv7', startMs: base, stopMs: base + HOUR, title: '<script>alert(1)</script>乡村大世界' },
      { service: 'cctv7', startMs: base + HOUR, stopMs: base + 2 * HOUR, title: '每日农经', episode: '12' },
    ]),
  );
  t.equal(ok.status, 200);
  t.match(ok.body, { totals: { imported: 2 } });
  const grid = (
    await control.get(
      `/api/v1/guide?service=cctv7&from=${encodeURIComponent(iso(base))}&to=${encodeURIComponent(iso(base + 3 * HOUR))}`,
    )
  ).body as { programmes: { title: string; start: string }[] };
  t.same(
    grid.programmes.map((p) => p.title),
    ['<script>alert(1)</script>乡村大世界', '每日农经'],
    'titles come back verbatim (the UI renders them as text)',
  );
  const found = (
    await control.get(`/api/v1/guide?q=${encodeURIComponent('农经')}&from=${encodeURIComponent(iso(base))}`)
  ).body as { programmes: unknown[] };
  t.equal(found.programmes.length, 1, 'search by title');

  const broken = await control.request('POST', '/api/v1/guide/import', undefined, {
    raw: '<tv><programme start="2026',
    contentType: 'application/xml',
  });
  t.equal(broken.status, 422, 'a broken file is refused');
  t.match(broken.body, { code: /XML_SYNTAX|NOT_XMLTV/ });
  const wrongType = await control.post('/api/v1/guide/import', { tv: [] });
  t.equal(wrongType.status, 415);
  const still = (await control.get(`/api/v1/guide?service=cctv7&from=${encodeURIComponent(iso(base))}`))
    .body as { programmes: unknown[] };
  t.equal(still.programmes.length, 2, 'and the guide is unchanged');
  const runs = (await control.get('/api/v1/guide/imports')).body as { status: string }[];
  t.ok(
    runs.some((r) => r.status === 'ok'),
    'imports are listed',
  );
});

t.test('protect and delete wait for a station that is away', async (t) => {
  h.headend.store.recordings.upsert({
    stationId: S,
    recordingId: 'r-42',
    entryId: 'e1',
    status: 'completed',
    quality: 97,
    bytes: 1024,
    manifest: { title: '新闻' },
    updatedAt: iso(base - 48 * HOUR),
  });
  const operator = await h.as('anguo');
  const first = await operator.post(`/api/v1/stations/${S}/recordings/r-42/protect`, { protect: true });
  t.equal(first.status, 202);
  t.match(
    first.body,
    { action: 'protect', status: 'pending' },
    'recorded as desired; sent when the station can be reached',
  );
  const second = await operator.del(`/api/v1/stations/${S}/recordings/r-42`);
  t.match(second.body, { action: 'delete', status: 'pending' });
  const reqs = (await operator.get(`/api/v1/stations/${S}/recording-requests`)).body as {
    action: string;
    status: string;
  }[];
  t.same(
    reqs.map((r) => [r.action, r.status]),
    [
      ['delete', 'pending'],
      ['protect', 'superseded'],
    ],
    'the newest request wins',
  );
  const list = (await operator.get('/api/v1/recordings')).body as {
    recordingId: string;
    quality: number;
    title: string;
    request: { action: string } | null;
  }[];
  t.match(
    list.find((r) => r.recordingId === 'r-42'),
    { quality: 97, title: '新闻', request: { action: 'delete' } },
  );
  const bad = await operator.del(`/api/v1/stations/${S}/recordings/${encodeURIComponent('a/b')}`);
  t.equal(bad.status, 400, 'ids that are not recording ids never reach a station');
  t.match(bad.body, { issues: [{ path: 'params.recordingId' }] });
});

t.test('backup', async (t) => {
  const admin = await h.as('admin');
  const b = await admin.post('/api/v1/backup');
  t.equal(b.status, 201);
  t.match(b.body, { name: /^headend-\d{8}T\d{6}Z\.db$/, schemaVersion: Number });
  const list = (await admin.get('/api/v1/backups')).body as { name: string }[];
  t.equal(list[0]?.name, (b.body as { name: string }).name);
});

t.test('the OpenAPI document comes from the same schemas', async (t) => {
  const doc = (await h.anon().get('/api/v1/openapi.json')).body as {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          requestBody?: { content: Record<string, { schema: { oneOf?: unknown[]; anyOf?: unknown[] } }> };
          parameters: { name: string; in: string }[];
          security?: unknown[];
        }
      >
    >;
    components: { securitySchemes: Record<string, unknown> };
  };
  t.equal(doc.openapi, '3.1.0');
  t.ok(
    doc.components.securitySchemes.session &&
      doc.components.securitySchemes.bearer &&
      doc.components.securitySchemes.csrf,
  );
  const create = doc.paths['/api/v1/entries']?.post;
  const schema = create?.requestBody?.content['application/json']?.schema;
  t.ok(
    schema?.oneOf ?? schema?.anyOf,
    'the entry body is the discriminated union of recording and conference',
  );
  t.match(JSON.stringify(schema), /"weekdays"/, 'with the weekly rule');
  t.match(
    JSON.stringify(schema),
    /"\^\[a-z0-9\]\[a-z0-9-\]\{1,62\}\$"/,
    'and the station id pattern of the protocol',
  );
  const plan = doc.paths['/api/v1/stations/{id}/plan']?.get;
  t.same(
    plan?.parameters.map((p) => `${p.in}:${p.name}`),
    ['path:id', 'query:from', 'query:to'],
  );
  t.ok(plan?.security, 'protected routes name their security');
  t.notOk(doc.paths['/api/v1/openapi.json']?.get?.security, 'public ones do not');
});
