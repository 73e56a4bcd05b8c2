/**
 * The authorization matrix of `/api/v1` (issue 6), shared by tests/integration/http-authz*.test.ts: one row
 * per route with the roles allowed and the success status, the cross-township cases, and the fixtures the
 * rows act on (built through the API itself, as the users it names).
 */
import { type ApiClient, type ApiResponse, type Harness, PASSWORD, xmltv } from './headend-harness.js';

export type Role = 'admin' | 'control' | 'tech' | 'anguo';
export const ROLES: Role[] = ['admin', 'control', 'tech', 'anguo'];
/** The operator's own station and another township's. */
export const S = 'kongtong-anguo';
export const T = 'jingning-weirong';

export const HOUR = 3_600_000;
export const at = (hours: number) =>
  new Date(Math.ceil(Date.now() / HOUR) * HOUR + hours * HOUR).toISOString().replace('.000Z', 'Z');

/** One call of one row for one role. */
export interface Call {
  path: string;
  body?: unknown;
  raw?: string;
  /** Use a freshly logged-in client (the call ends or changes the session). */
  fresh?: boolean;
  /** An SSE stream: only the status is read. */
  stream?: boolean;
}

export interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The route as the OpenAPI document names it. */
  route: string;
  /** Roles allowed; `public` = anyone, anonymous included. */
  allow: Role[] | 'public';
  /**
   * Success status of an allowed call; `'authorized'` = any answer but 401/403/5xx (actions whose outcome
   * depends on the clock, e.g. ending a conference that has not started; their own tests pin those down).
   */
  ok: number | 'authorized';
  call(role: Role): Call;
}

export const recording = (target: unknown, hours: number, cls = 'operator') => ({
  kind: 'recording',
  class: cls,
  title: `rec ${hours}`,
  service: 'cctv7',
  when: { type: 'once', start: at(hours), end: at(hours + 1) },
  target,
});
export const conference = (target: unknown, hours: number) => ({
  kind: 'conference',
  title: `conference ${hours}`,
  service: 'cctv1',
  when: { type: 'once', start: at(hours), end: at(hours + 1) },
  target,
});

export const conferenceInput = (target: unknown, hours: number) => ({
  title: `会议 ${hours}`,
  organiser: '市委办',
  service: 'cctv1',
  start: at(hours),
  end: at(hours + 1),
  target,
});

export interface Fixtures {
  entryS: string;
  /** An operator entry at S the control room moves to T. */
  movable: string;
  confS: string;
  deletable: Record<Role, string>;
  tokens: Record<Role, string>;
  programmeId: string;
  /** A conference at S (the operator's station), and one at T only. */
  conf: string;
  confT: string;
  /** Per role, a conference to act on. */
  confs: Record<Role, string>;
  /** The line-up as PUT /lineup takes it. */
  lineupBody: Record<string, unknown>;
}

export function rows(f: Fixtures): Row[] {
  const all: Role[] = ROLES;
  const admin: Role[] = ['admin'];
  const schedulers: Role[] = ['admin', 'control', 'anguo'];
  const enc = encodeURIComponent;
  return [
    {
      method: 'POST',
      route: '/auth/login',
      allow: 'public',
      ok: 200,
      call: (r) => ({ path: '/auth/login', body: { user: r, password: PASSWORD }, fresh: true }),
    },
    {
      method: 'POST',
      route: '/auth/logout',
      allow: all,
      ok: 204,
      call: () => ({ path: '/auth/logout', fresh: true }),
    },
    { method: 'GET', route: '/auth/me', allow: all, ok: 200, call: () => ({ path: '/auth/me' }) },
    {
      method: 'PATCH',
      route: '/auth/me',
      allow: all,
      ok: 200,
      call: () => ({ path: '/auth/me', body: { locale: 'zh-CN' } }),
    },
    { method: 'GET', route: '/users', allow: admin, ok: 200, call: () => ({ path: '/users' }) },
    {
      method: 'POST',
      route: '/users',
      allow: admin,
      ok: 201,
      call: (r) => ({
        path: '/users',
        body: { id: `new-${r}`, displayName: 'x', role: 'technician', password: PASSWORD },
      }),
    },
    { method: 'GET', route: '/users/{id}', allow: admin, ok: 200, call: () => ({ path: '/users/anguo' }) },
    {
      method: 'PATCH',
      route: '/users/{id}',
      allow: admin,
      ok: 200,
      call: (r) => ({ path: `/users/victim-${r}`, body: { displayName: 'renamed' } }),
    },
    {
      method: 'DELETE',
      route: '/users/{id}',
      allow: admin,
      ok: 204,
      call: (r) => ({ path: `/users/victim-${r}` }),
    },
    {
      method: 'GET',
      route: '/users/{id}/tokens',
      allow: admin,
      ok: 200,
      call: () => ({ path: '/users/control/tokens' }),
    },
    {
      method: 'POST',
      route: '/users/{id}/tokens',
      allow: admin,
      ok: 201,
      call: () => ({ path: '/users/control/tokens', body: { name: 'script' } }),
    },
    {
      method: 'DELETE',
      route: '/tokens/{tokenId}',
      allow: admin,
      ok: 204,
      call: (r) => ({ path: `/tokens/${f.tokens[r]}` }),
    },
    { method: 'GET', route: '/stations', allow: all, ok: 200, call: () => ({ path: '/stations' }) },
    { method: 'GET', route: '/stations/{id}', allow: all, ok: 200, call: () => ({ path: `/stations/${S}` }) },
    {
      method: 'PATCH',
      route: '/stations/{id}',
      allow: admin,
      ok: 200,
      call: () => ({ path: `/stations/${S}`, body: { tags: ['pilot'] } }),
    },
    {
      method: 'GET',
      route: '/stations/{id}/plan',
      allow: all,
      ok: 200,
      call: () => ({ path: `/stations/${S}/plan` }),
    },
    {
      method: 'GET',
      route: '/stations/{id}/events',
      allow: all,
      ok: 200,
      call: () => ({ path: `/stations/${S}/events` }),
    },
    {
      method: 'GET',
      route: '/stations/{id}/telemetry',
      allow: all,
      ok: 200,
      call: () => ({ path: `/stations/${S}/telemetry` }),
    },
    {
      method: 'GET',
      route: '/stations/{id}/history',
      allow: all,
      ok: 200,
      call: () => ({ path: `/stations/${S}/history` }),
    },
    { method: 'GET', route: '/groups', allow: all, ok: 200, call: () => ({ path: '/groups' }) },
    {
      method: 'POST',
      route: '/groups',
      allow: admin,
      ok: 201,
      call: (r) => ({ path: '/groups', body: { id: `made-by-${r}`, name: 'x' } }),
    },
    {
      method: 'DELETE',
      route: '/groups/{id}',
      allow: admin,
      ok: 204,
      call: (r) => ({ path: `/groups/doomed-${r}` }),
    },
    {
      method: 'POST',
      route: '/groups/{id}/members',
      allow: admin,
      ok: 200,
      call: (r) => ({ path: `/groups/pilot-${r}/members`, body: { add: [S] } }),
    },
    { method: 'GET', route: '/lineup', allow: all, ok: 200, call: () => ({ path: '/lineup' }) },
    {
      method: 'PUT',
      route: '/lineup',
      allow: admin,
      ok: 200,
      call: () => ({ path: '/lineup', body: 'LINEUP' }),
    },
    { method: 'GET', route: '/guide', allow: all, ok: 200, call: () => ({ path: '/guide?service=cctv7' }) },
    {
      method: 'GET',
      route: '/guide/programmes/{service}/{programmeId}',
      allow: all,
      ok: 200,
      call: () => ({ path: `/guide/programmes/cctv7/${enc(f.programmeId)}` }),
    },
    {
      method: 'POST',
      route: '/guide/import',
      allow: ['admin', 'control'],
      ok: 200,
      call: () => ({
        path: '/guide/import',
        raw: xmltv([
          {
            service: 'gstv',
            startMs: Date.now() + 30 * HOUR,
            stopMs: Date.now() + 31 * HOUR,
            title: '陇原新闻',
          },
        ]),
      }),
    },
    { method: 'GET', route: '/guide/imports', allow: all, ok: 200, call: () => ({ path: '/guide/imports' }) },
    { method: 'GET', route: '/entries', allow: all, ok: 200, call: () => ({ path: '/entries' }) },
    {
      method: 'GET',
      route: '/entries/{id}',
      allow: all,
      ok: 200,
      call: () => ({ path: `/entries/${f.entryS}` }),
    },
    {
      method: 'POST',
      route: '/entries/preview',
      allow: schedulers,
      ok: 200,
      call: () => ({ path: '/entries/preview', body: recording({ type: 'station', stationId: S }, 30) }),
    },
    {
      method: 'POST',
      route: '/entries',
      allow: schedulers,
      ok: 201,
      call: (r) => ({
        path: '/entries',
        body: recording({ type: 'station', stationId: S }, 40 + ROLES.indexOf(r)),
      }),
    },
    {
      method: 'POST',
      route: '/entries/{id}/preview',
      allow: schedulers,
      ok: 200,
      call: () => ({ path: `/entries/${f.entryS}/preview`, body: { title: 'renamed' } }),
    },
    {
      method: 'PATCH',
      route: '/entries/{id}',
      allow: schedulers,
      ok: 200,
      call: () => ({ path: `/entries/${f.entryS}`, body: { priority: 1 } }),
    },
    {
      method: 'DELETE',
      route: '/entries/{id}',
      allow: schedulers,
      ok: 200,
      call: (r) => ({ path: `/entries/${f.deletable[r]}` }),
    },
    { method: 'GET', route: '/recordings', allow: all, ok: 200, call: () => ({ path: '/recordings' }) },
    {
      method: 'GET',
      route: '/stations/{id}/recordings/{recordingId}',
      allow: all,
      ok: 200,
      call: () => ({ path: `/stations/${S}/recordings/rec-s1` }),
    },
    {
      method: 'POST',
      route: '/stations/{id}/recordings/{recordingId}/protect',
      allow: schedulers,
      ok: 202,
      call: () => ({ path: `/stations/${S}/recordings/rec-s1/protect`, body: { protect: true } }),
    },
    {
      method: 'DELETE',
      route: '/stations/{id}/recordings/{recordingId}',
      allow: schedulers,
      ok: 202,
      call: () => ({ path: `/stations/${S}/recordings/rec-s1` }),
    },
    {
      method: 'GET',
      route: '/stations/{id}/recording-requests',
      allow: all,
      ok: 200,
      call: () => ({ path: `/stations/${S}/recording-requests` }),
    },
    { method: 'GET', route: '/events', allow: all, ok: 200, call: () => ({ path: '/events' }) },
    { method: 'GET', route: '/audit', allow: all, ok: 200, call: () => ({ path: '/audit' }) },
    { method: 'GET', route: '/alarms', allow: all, ok: 200, call: () => ({ path: '/alarms' }) },
    { method: 'POST', route: '/backup', allow: admin, ok: 201, call: () => ({ path: '/backup' }) },
    { method: 'GET', route: '/backups', allow: admin, ok: 200, call: () => ({ path: '/backups' }) },
    {
      // No station RPC client runs in this headend: an allowed call gets 503 NOT_AVAILABLE, never 403.
      method: 'POST',
      route: '/stations/{id}/diagnostics/{method}',
      allow: ['admin', 'tech'],
      ok: 503,
      call: () => ({ path: `/stations/${S}/diagnostics/receiver.status`, body: {} }),
    },
    // Technicians' routes (issue 8): alarms with causes, signal history, sun outages, diagnostics methods.
    {
      method: 'GET',
      route: '/alarms/history',
      allow: all,
      ok: 200,
      call: () => ({ path: '/alarms/history' }),
    },
    // No alarm exists in the fixture: an allowed caller gets 404, never 403.
    {
      method: 'GET',
      route: '/alarms/{id}',
      allow: all,
      ok: 'authorized',
      call: () => ({ path: '/alarms/a-none' }),
    },
    {
      method: 'POST',
      route: '/alarms/{id}/acknowledge',
      allow: ['admin', 'control', 'tech'],
      ok: 'authorized',
      call: () => ({ path: '/alarms/a-none/acknowledge', body: {} }),
    },
    {
      method: 'GET',
      route: '/diagnostics/methods',
      allow: all,
      ok: 200,
      call: () => ({ path: '/diagnostics/methods' }),
    },
    {
      method: 'GET',
      route: '/stations/{id}/signal',
      allow: all,
      ok: 200,
      call: () => ({ path: `/stations/${S}/signal` }),
    },
    {
      method: 'GET',
      route: '/stations/{id}/sun-outages',
      allow: all,
      ok: 200,
      call: () => ({ path: `/stations/${S}/sun-outages` }),
    },
    { method: 'GET', route: '/stream', allow: all, ok: 200, call: () => ({ path: '/stream', stream: true }) },
    { method: 'GET', route: '/conferences', allow: all, ok: 200, call: () => ({ path: '/conferences' }) },
    {
      method: 'POST',
      route: '/conferences',
      allow: ['admin', 'control'],
      ok: 201,
      call: (r) => ({
        path: '/conferences',
        body: conferenceInput({ type: 'stations', stationIds: [S] }, 100 + ROLES.indexOf(r)),
      }),
    },
    {
      method: 'GET',
      route: '/conferences/{id}',
      allow: all,
      ok: 200,
      call: () => ({ path: `/conferences/${f.conf}` }),
    },
    {
      method: 'PATCH',
      route: '/conferences/{id}',
      allow: ['admin', 'control'],
      ok: 200,
      call: (r) => ({ path: `/conferences/${f.confs[r]}`, body: { notes: 'x' } }),
    },
    {
      method: 'POST',
      route: '/conferences/{id}/start-now',
      allow: ['admin', 'control'],
      ok: 'authorized',
      call: (r) => ({ path: `/conferences/${f.confs[r]}/start-now` }),
    },
    {
      method: 'POST',
      route: '/conferences/{id}/extend',
      allow: ['admin', 'control'],
      ok: 'authorized',
      call: (r) => ({ path: `/conferences/${f.confs[r]}/extend`, body: { minutes: 10 } }),
    },
    {
      method: 'POST',
      route: '/conferences/{id}/end-now',
      allow: ['admin', 'control'],
      ok: 'authorized',
      call: (r) => ({ path: `/conferences/${f.confs[r]}/end-now` }),
    },
    {
      method: 'POST',
      route: '/conferences/{id}/cancel',
      allow: ['admin', 'control'],
      ok: 'authorized',
      call: (r) => ({ path: `/conferences/${f.confs[r]}/cancel` }),
    },
    {
      method: 'GET',
      route: '/conferences/{id}/attendance',
      allow: all,
      ok: 200,
      call: () => ({ path: `/conferences/${f.conf}/attendance` }),
    },
    {
      method: 'GET',
      route: '/conferences/{id}/report',
      allow: all,
      ok: 200,
      call: () => ({ path: `/conferences/${f.conf}/report` }),
    },
    {
      method: 'GET',
      route: '/conferences/{id}/report.csv',
      allow: all,
      ok: 200,
      call: () => ({ path: `/conferences/${f.conf}/report.csv` }),
    },
    {
      method: 'GET',
      route: '/conferences/{id}/delivery',
      allow: all,
      ok: 200,
      call: () => ({ path: `/conferences/${f.conf}/delivery` }),
    },
    {
      method: 'GET',
      route: '/openapi.json',
      allow: 'public',
      ok: 200,
      call: () => ({ path: '/openapi.json' }),
    },
    // Last: a password change ends every other session of the user, the matrix's own clients included.
    {
      method: 'PUT',
      route: '/auth/me/password',
      allow: all,
      ok: 204,
      call: () => ({ path: '/auth/me/password', body: { current: PASSWORD, next: PASSWORD }, fresh: true }),
    },
  ];
}

export async function send(
  h: Harness,
  client: ApiClient,
  method: Row['method'],
  c: Call,
): Promise<ApiResponse> {
  const path = `/api/v1${c.path}`;
  if (c.stream) {
    const ac = new AbortController();
    const headers: Record<string, string> = {};
    if (client.cookie) headers.cookie = client.cookie;
    if (client.bearer) headers.authorization = `Bearer ${client.bearer}`;
    const res = await fetch(`${h.url}${path}`, { headers, signal: ac.signal });
    ac.abort();
    return { status: res.status, headers: res.headers, body: null };
  }
  if (c.raw !== undefined)
    return client.request(method, path, undefined, { raw: c.raw, contentType: 'application/xml' });
  return client.request(method, path, c.body);
}

function expect(r: ApiResponse, status: number): void {
  if (r.status !== status) throw new Error(`fixture: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Logs every role in. */
export async function loginAll(h: Harness): Promise<Record<Role, ApiClient>> {
  return Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await h.as(r)] as const))) as Record<
    Role,
    ApiClient
  >;
}

/** Builds the fixtures every row acts on. */
export async function buildFixtures(h: Harness, clients: Record<Role, ApiClient>): Promise<Fixtures> {
  const admin = clients.admin;
  const start = Date.now() + 26 * HOUR;
  expect(
    await h.importGuide(xmltv([{ service: 'cctv7', startMs: start, stopMs: start + HOUR, title: '致富经' }])),
    200,
  );
  const guide = (await admin.get(`/api/v1/guide?service=cctv7&from=${new Date(start - HOUR).toISOString()}`))
    .body as { programmes: { programmeId: string }[] };
  const programmeId = guide.programmes[0]?.programmeId ?? 'none';
  for (const [station, rid] of [
    [S, 'rec-s1'],
    [T, 'rec-t1'],
  ] as const) {
    h.headend.store.recordings.upsert({
      stationId: station,
      recordingId: rid,
      status: 'completed',
      quality: 99,
      manifest: {},
      updatedAt: at(-2),
    });
  }
  const created = async (c: ApiClient, body: unknown) => {
    const r = await c.post('/api/v1/entries', body);
    if (r.status !== 201) throw new Error(`fixture entry: ${r.status} ${JSON.stringify(r.body)}`);
    return (r.body as { entry: { id: string } }).entry.id;
  };
  const entryS = await created(clients.anguo, recording({ type: 'station', stationId: S }, 20));
  const confS = await created(clients.control, conference({ type: 'station', stationId: S }, 21));
  const movable = await created(clients.anguo, recording({ type: 'station', stationId: S }, 22));
  const deletable = {} as Record<Role, string>;
  const tokens = {} as Record<Role, string>;
  for (const [i, r] of ROLES.entries()) {
    deletable[r] = await created(clients.control, recording({ type: 'station', stationId: S }, 80 + i));
    expect(
      await admin.post('/api/v1/users', {
        id: `victim-${r}`,
        displayName: 'v',
        role: 'technician',
        password: PASSWORD,
      }),
      201,
    );
    expect(await admin.post('/api/v1/groups', { id: `doomed-${r}`, name: 'd' }), 201);
    expect(await admin.post('/api/v1/groups', { id: `pilot-${r}`, name: 'p' }), 201);
    tokens[r] = (
      (await admin.post('/api/v1/users/tech/tokens', { name: `t-${r}` })).body as { info: { id: string } }
    ).info.id;
  }
  const conferenceFixture = async (target: unknown, hours: number) => {
    const r = await clients.control.post('/api/v1/conferences', conferenceInput(target, hours));
    if (r.status !== 201) throw new Error(`fixture conference: ${r.status} ${JSON.stringify(r.body)}`);
    return (r.body as { conference: { id: string } }).conference.id;
  };
  const conf = await conferenceFixture({ type: 'stations', stationIds: [S] }, 90);
  const confT = await conferenceFixture({ type: 'stations', stationIds: [T] }, 91);
  const confs = {} as Record<Role, string>;
  for (const [i, r] of ROLES.entries())
    confs[r] = await conferenceFixture({ type: 'stations', stationIds: [S] }, 92 + i);
  const lineup = (await admin.get('/api/v1/lineup')).body as Record<string, unknown>;
  const { version: _v, ...lineupBody } = lineup;
  return { conf, confT, confs, entryS, movable, confS, deletable, tokens, programmeId, lineupBody };
}
