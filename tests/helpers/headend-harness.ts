/**
 * A real headend for HTTP, SSE and browser tests: `startHeadend` (the production composition root) on a
 * temp data dir, the embedded broker and HTTP on free ports, the short timing profile, a small line-up,
 * three provisioned stations in three counties, and one user of every role (two township operators, each
 * owning one station). Fake stations connect over MQTT with their real credentials to report presence.
 * Everything it starts is stopped by `stop()` (register it with `t.teardown`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { loadConfig } from '../../headend/config.js';
import { silentLogger } from '../../headend/log.js';
import { type RunningHeadend, startHeadend } from '../../headend/main.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import type { LineupInput } from '../../headend/store/lineup.js';
import { createUserStore } from '../../headend/users/index.js';
import { seedUsers } from '../../headend/users/seed.js';
import { topics } from '../../protocol/topics.js';
import { connectPeer } from './mqtt-peers.js';

/** Cheap scrypt for tests (production uses 2^15). */
export const TEST_SCRYPT = { ln: 10, r: 8, p: 1 };
export const PASSWORD = 'correct horse battery';

/** The seeded stations: id → county. */
export const STATIONS = {
  'kongtong-anguo': { name: '安国镇', county: 'kongtong' },
  'jingning-weirong': { name: '威戎镇', county: 'jingning' },
  'huating-mahu': { name: '马峡镇', county: 'huating' },
} as const;
export type SeededStation = keyof typeof STATIONS;

/** The seeded users: name → role and stations. */
export const USERS = {
  admin: { role: 'admin', stations: [] },
  control: { role: 'control-room', stations: [] },
  tech: { role: 'technician', stations: [] },
  anguo: { role: 'operator', stations: ['kongtong-anguo'] },
  weirong: { role: 'operator', stations: ['jingning-weirong'] },
} as const;
export type SeededUser = keyof typeof USERS;

/** A sample line-up (DOMAIN.md §2: historical CCTV multiplex at 3840 MHz H; a provincial carrier). */
export const LINEUP: LineupInput = {
  transponders: [
    {
      id: 't3840h',
      tuning: {
        frequencyMHz: 3840,
        polarisation: 'H',
        symbolRateKsps: 27500,
        system: 'DVB-S',
        modulation: 'QPSK',
        fec: '3/4',
        lnbLoMHz: 5150,
      },
    },
    {
      id: 't4020v',
      tuning: {
        frequencyMHz: 4020,
        polarisation: 'V',
        symbolRateKsps: 10490,
        system: 'DVB-S',
        modulation: 'QPSK',
        fec: '3/4',
        lnbLoMHz: 5150,
      },
    },
  ],
  services: [
    { key: 'cctv1', name: 'CCTV-1 综合', serviceId: 101, transponderId: 't3840h' },
    { key: 'cctv7', name: 'CCTV-7 农业军事', serviceId: 107, transponderId: 't3840h' },
    { key: 'gstv', name: '甘肃卫视', serviceId: 201, transponderId: 't4020v' },
  ],
};

/** One HTTP answer. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: unknown;
}

/** A fetch wrapper that keeps a session cookie and its CSRF token, or sends a bearer token. */
export class ApiClient {
  cookie: string | null = null;
  csrf: string | null = null;
  bearer: string | null = null;
  constructor(readonly base: string) {}

  async request(
    method: string,
    urlPath: string,
    body?: unknown,
    opts: {
      headers?: Record<string, string>;
      raw?: string | Buffer;
      contentType?: string;
      csrf?: boolean;
    } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.cookie) headers.cookie = this.cookie;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    if (this.csrf && opts.csrf !== false && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    let payload: string | Buffer | undefined;
    if (opts.raw !== undefined) {
      payload = opts.raw;
      headers['content-type'] = opts.contentType ?? 'application/xml';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const res = await fetch(`${this.base}${urlPath}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) {
      const m = /rsat_session=([^;]*)/.exec(setCookie);
      if (m) this.cookie = m[1] ? `rsat_session=${m[1]}` : null;
    }
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0)
      parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed };
  }

  get = (p: string, o?: Parameters<ApiClient['request']>[3]) => this.request('GET', p, undefined, o);
  post = (p: string, b?: unknown, o?: Parameters<ApiClient['request']>[3]) => this.request('POST', p, b, o);
  put = (p: string, b?: unknown, o?: Parameters<ApiClient['request']>[3]) => this.request('PUT', p, b, o);
  patch = (p: string, b?: unknown, o?: Parameters<ApiClient['request']>[3]) => this.request('PATCH', p, b, o);
  del = (p: string, o?: Parameters<ApiClient['request']>[3]) => this.request('DELETE', p, undefined, o);

  /** Logs in; throws unless it worked. */
  async login(user: string, password = PASSWORD): Promise<this> {
    const r = await this.post('/api/v1/auth/login', { user, password });
    if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${JSON.stringify(r.body)}`);
    this.csrf = (r.body as { csrf: string }).csrf;
    return this;
  }
}

/** A station simulated at the MQTT level: birth retained with a Will, as the agent does (DESIGN.md §4). */
export interface FakeStation {
  id: string;
  client: MqttClient;
  /** RPC requests received, in order (`clock.exchange` is answered by the fake itself). */
  requests: { rid: string; method: string; params: unknown }[];
  /** Drops the connection without DISCONNECT: the broker publishes the Will. */
  vanish(): Promise<void>;
}

export interface Harness {
  headend: RunningHeadend;
  url: string;
  dataDir: string;
  secrets: Record<SeededStation, string>;
  /** A new client logged in as `user`. */
  as(user: SeededUser): Promise<ApiClient>;
  /** An anonymous client. */
  anon(): ApiClient;
  /**
   * Connects a fake station, subscribes to its RPC requests (answered by `rpc`: a result, or
   * `{error: {code, message}}`; unanswered when omitted) and publishes its birth; resolves when the headend
   * shows it online.
   */
  connectStation(
    id: SeededStation,
    opts?: { boot?: { n: number; conn: number }; rpc?: (method: string, params: unknown) => unknown },
  ): Promise<FakeStation>;
  /** Imports an XMLTV document through the API (as the control room). */
  importGuide(xml: string): Promise<ApiResponse>;
  stop(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** XMLTV time `YYYYMMDDhhmmss +0800` of a UTC instant, written in Beijing time (DOMAIN.md §1, §5). */
export function xmltvTime(ms: number): string {
  const d = new Date(ms + 8 * 3_600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}00 +0800`;
}

/** A small XMLTV document: the given programmes, channel ids = service keys. */
export function xmltv(
  programmes: { service: string; startMs: number; stopMs: number; title: string; episode?: string }[],
): string {
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const services = [...new Set(programmes.map((p) => p.service))];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<tv generator-info-name="ruralsat-tests">',
    ...services.map((s) => `  <channel id="${s}"><display-name>${s}</display-name></channel>`),
    ...programmes.map(
      (p) =>
        `  <programme start="${xmltvTime(p.startMs)}" stop="${xmltvTime(p.stopMs)}" channel="${p.service}"><title lang="zh">${esc(p.title)}</title>${
          p.episode ? `<episode-num system="onscreen">${esc(p.episode)}</episode-num>` : ''
        }</programme>`,
    ),
    '</tv>',
  ].join('\n');
}

/** Starts the harness. */
export async function startHarness(
  opts: { loginLimits?: { maxPerUser?: number; maxPerAddress?: number; windowMs?: number } } = {},
): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-http-'));
  const config = loadConfig({
    env: {},
    flags: {
      'data-dir': dataDir,
      http: '127.0.0.1:0',
      mqtt: '127.0.0.1:0',
      'timing-base': 'short',
      'log-level': 'silent',
    },
  });
  const headend = await startHeadend(config, {
    logger: silentLogger(),
    api: {
      users: { scrypt: TEST_SCRYPT },
      sseHeartbeatMs: 1000,
      ...(opts.loginLimits ? { loginLimits: opts.loginLimits } : {}),
    },
  });
  const stations: FakeStation[] = [];
  const stop = async () => {
    for (const s of stations.splice(0)) await s.client.endAsync(true).catch(() => undefined);
    await headend.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const store = headend.store;
    const secrets = {} as Record<SeededStation, string>;
    for (const [id, s] of Object.entries(STATIONS)) {
      const r = provisionStation(
        { store, iterations: 100, headendUsername: config.headendUser.username, actor: 'test:harness' },
        { id, name: s.name, county: s.county },
      );
      secrets[id as SeededStation] = r.secret;
    }
    store.lineup.replace(LINEUP);
    headend.controlPlane.lineupChanged();
    headend.controlPlane.stationsChanged('test:harness');
    const users = createUserStore(store.db, { scrypt: TEST_SCRYPT });
    await seedUsers(users.users, {
      password: PASSWORD,
      names: { admin: 'admin', 'control-room': 'control', technician: 'tech' },
      operators: [
        { id: 'anguo', stations: ['kongtong-anguo'] },
        { id: 'weirong', stations: ['jingning-weirong'] },
      ],
    });
    const url = headend.httpUrl;
    const t = topics(config.topicRoot);
    const harness: Harness = {
      headend,
      url,
      dataDir,
      secrets,
      as: (user) => new ApiClient(url).login(user),
      anon: () => new ApiClient(url),
      async connectStation(id, opts = {}) {
        const boot = opts.boot ?? { n: 1, conn: 1 };
        const will = JSON.stringify({ online: false, boot });
        const client = await connectPeer(
          headend.broker?.url ?? headend.mqtt.url,
          { clientId: id, username: id, password: secrets[id] },
          { will: { topic: t.state(id), payload: Buffer.from(will), qos: 1, retain: true }, keepalive: 5 },
        );
        const requests: FakeStation['requests'] = [];
        client.on('message', (topic, payload) => {
          if (topic !== t.rpcReq(id)) return;
          const req = JSON.parse(payload.toString()) as {
            rid: string;
            method: string;
            params: { t1?: number };
          };
          requests.push(req);
          const now = Date.now();
          if (req.method !== 'clock.exchange' && !opts.rpc) return;
          const out =
            req.method === 'clock.exchange'
              ? { t1: req.params.t1 ?? now, t2: now, t3: now }
              : opts.rpc?.(req.method, req.params);
          const res =
            out && typeof out === 'object' && 'error' in out
              ? { rid: req.rid, ok: false, error: (out as { error: unknown }).error }
              : { rid: req.rid, ok: true, result: out };
          // The station may vanish while its answer is in flight (the headend exchanges clocks on connect).
          client.publishAsync(t.rpcRes(id), JSON.stringify(res), { qos: 1 }).catch(() => undefined);
        });
        await client.subscribeAsync(t.rpcReq(id), { qos: 1 });
        const birth = {
          online: true,
          boot,
          storeId: 'a1b2c3d4e5f60718',
          agentVersion: 'test-0.1',
          protocolRevision: 0,
          plannerVersion: 1,
          at: iso(Date.now()),
          schedule: null,
          receivers: [],
          clock: { offsetMs: 0, rttMs: 1, trusted: true },
        };
        await client.publishAsync(t.state(id), JSON.stringify(birth), { qos: 1, retain: true });
        const deadline = Date.now() + 5000;
        while (headend.controlPlane.presence.get(id)?.connection !== 'online') {
          if (Date.now() > deadline) throw new Error(`${id} did not come online at the headend`);
          await new Promise((r) => setTimeout(r, 20));
        }
        const fake: FakeStation = {
          id,
          client,
          requests,

          async vanish() {
            // A forced end closes the socket without DISCONNECT, so the broker publishes the Will.
            client.stream.destroy();
            await client.endAsync(true).catch(() => undefined);
          },
        };
        stations.push(fake);
        return fake;
      },
      async importGuide(xml) {
        const c = await harness.as('control');
        return c.post('/api/v1/guide/import?name=test.xml', undefined, {
          raw: xml,
          contentType: 'application/xml',
        });
      },
      stop,
    };
    return harness;
  } catch (err) {
    await stop();
    throw err;
  }
}
