/**
 * A simulated station for the telemetry-ingest bench (DESIGN.md §8 "headend ingest of 10 000 stations'
 * telemetry at 30 s"): light enough that 10 000 fit in one process, yet everything the headend sees of it
 * is what a real agent sends (DESIGN.md §4) — a clean session with a Will carrying `boot`, a retained birth,
 * every schedule document validated with the protocol schema and its applied version and SHA-256 reported
 * back, clock exchanges answered (the headend runs them with every connected station), and a QoS 0,
 * not-retained telemetry sample (protocol/messages/telemetry.ts) whenever `sendTelemetry` is called.
 *
 * The figures drift a little from sample to sample (margin, C/N, CPU, disk) and stay healthy (margin
 * 5–10 dB, DOMAIN.md §2), so the headend's roll-ups and alarm rules do their normal steady-state work.
 */
import { createHash, randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { compareVersions, PROTOCOL_REVISION, type ScheduleVersion } from '../../protocol/messages/common.js';
import { decodePayload } from '../../protocol/messages/decode.js';
import { RpcRequestEnvelope } from '../../protocol/messages/rpc.js';
import { ScheduleDocument } from '../../protocol/messages/schedule.js';
import type { StationBirth } from '../../protocol/messages/state.js';
import type { Telemetry } from '../../protocol/messages/telemetry.js';
import { PLANNER_VERSION } from '../../protocol/planner/index.js';
import { type Topics, topics } from '../../protocol/topics.js';

export interface TelemetryStationOptions {
  id: string;
  password: string;
  url: string;
  topicRoot: string;
  /** Position in the fleet: decides receivers (every third station has two), recording and figures. */
  index: number;
  /** Line-up service keys the receivers are tuned to. */
  services: readonly string[];
}

/** Counters shared by all stations of a process. */
export interface TelemetryCounters {
  sent: number;
  rpcAnswered: number;
}

const iso = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** QPSK 3/4 needs about 4.1 dB C/N (DOMAIN.md §2); C/N = margin + that. */
const REQUIRED_CN_DB = 4.1;
const GIB = 1024 ** 3;

export class TelemetryStation {
  private client: MqttClient | null = null;
  private readonly t: Topics;
  private readonly storeId = randomBytes(8).toString('hex');
  private readonly receivers: { id: string; service: string; baseMargin: number }[];
  private readonly recording: boolean;
  private applied: { version: ScheduleVersion; hash: string; appliedAt: string } | null = null;
  private boot = { n: 1, conn: 0 };
  private samples = 0;
  private bytes = 0;

  constructor(
    private readonly opts: TelemetryStationOptions,
    private readonly counters: TelemetryCounters,
  ) {
    this.t = topics(opts.topicRoot);
    const s = opts.services;
    const i = opts.index;
    this.receivers = [{ id: 'rx1', service: s[i % s.length] as string, baseMargin: 5 + (i % 50) / 10 }];
    if (i % 3 === 0) {
      this.receivers.push({
        id: 'rx2',
        service: s[(i + 7) % s.length] as string,
        baseMargin: 6 + (i % 30) / 10,
      });
    }
    this.recording = i % 5 === 0;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  private birth(): StationBirth {
    return {
      online: true,
      boot: this.boot,
      storeId: this.storeId,
      agentVersion: 'bench-telemetry-station',
      protocolRevision: PROTOCOL_REVISION,
      plannerVersion: PLANNER_VERSION,
      at: iso(),
      schedule: this.applied,
      receivers: this.receivers.map((r) => ({
        id: r.id,
        link: 'up',
        locked: true,
        service: r.service,
        marginDb: r.baseMargin,
        lnb: 'ok',
        family: 'rx8200',
        sharing: 'service',
      })),
      clock: { offsetMs: 0, rttMs: 1, trusted: true },
    };
  }

  /** Connects, publishes the birth and subscribes; resolves once all three are done. */
  connect(): Promise<void> {
    this.boot = { n: this.boot.n, conn: this.boot.conn + 1 };
    const id = this.opts.id;
    const client = mqtt.connect(this.opts.url, {
      clientId: id,
      username: id,
      password: this.opts.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      will: {
        topic: this.t.state(id),
        payload: Buffer.from(JSON.stringify({ online: false, boot: this.boot })),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      client.once('connect', () => {
        void (async () => {
          await client.publishAsync(this.t.state(id), JSON.stringify(this.birth()), { qos: 1, retain: true });
          await client.subscribeAsync([this.t.schedule(id), this.t.ack(id), this.t.rpcReq(id)], { qos: 1 });
        })().then(resolve, reject);
      });
      client.once('error', reject);
    });
  }

  /** One telemetry sample (QoS 0, not retained), as the agent's telemetry loop publishes it. */
  sendTelemetry(): void {
    const c = this.client;
    if (!c?.connected) return;
    this.samples++;
    const k = this.samples;
    const wobble = Math.sin(k * 0.7 + this.opts.index) * 0.3;
    const t: Telemetry = {
      at: iso(),
      receivers: this.receivers.map((r) => {
        const margin = round(r.baseMargin + wobble);
        return {
          id: r.id,
          link: 'up',
          locked: true,
          service: r.service,
          level: { value: round(-42 - r.baseMargin / 2 + wobble, 1), unit: 'dBm' },
          cnDb: round(margin + REQUIRED_CN_DB),
          marginDb: margin,
          ber: 1e-8,
          lnb: 'ok',
        };
      }),
      recorders: [],
      disk: { freeBytes: 180 * GIB - this.bytes, usedBytes: 20 * GIB + this.bytes, quotaBytes: null },
      host: {
        cpuPct: round(8 + (this.recording ? 3 : 0) + Math.abs(wobble) * 4, 1),
        memUsedBytes: 310 * 1024 ** 2,
        memTotalBytes: 1024 ** 3,
      },
    };
    if (this.recording) {
      // 6 Mbit/s for the 30 s period (DOMAIN.md §4: a typical SD programme).
      this.bytes += 22_500_000;
      const r = this.receivers[0];
      t.recorders.push({
        entryId: `rec-${this.opts.index}`,
        nominalStart: iso(Math.floor(Date.now() / 3_600_000) * 3_600_000),
        receiverId: r?.id ?? 'rx1',
        bitrateBps: 6_000_000 + Math.round(wobble * 100_000),
        bytes: this.bytes,
        ccErrors: 0,
      });
    }
    c.publish(this.t.telemetry(this.opts.id), JSON.stringify(t), { qos: 0, retain: false });
    this.counters.sent++;
  }

  stop(): void {
    const c = this.client;
    this.client = null;
    c?.end(true);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const c = this.client;
    if (!c) return;
    const id = this.opts.id;
    if (topic === this.t.schedule(id)) {
      const d = decodePayload(ScheduleDocument, payload);
      if (!d.ok || (this.applied && compareVersions(d.value.version, this.applied.version) <= 0)) return;
      this.applied = {
        version: d.value.version,
        hash: createHash('sha256').update(payload).digest('hex'),
        appliedAt: iso(),
      };
      c.publish(this.t.state(id), JSON.stringify(this.birth()), { qos: 1, retain: true }, () => undefined);
      return;
    }
    if (topic !== this.t.rpcReq(id)) return;
    const t2 = Date.now();
    const req = decodePayload(RpcRequestEnvelope, payload);
    if (!req.ok) return;
    const { rid, method, params } = req.value;
    const t1 = typeof params === 'object' && params !== null && 't1' in params ? params.t1 : null;
    const res =
      method === 'clock.exchange' && typeof t1 === 'number'
        ? { rid, ok: true, result: { t1, t2, t3: Date.now() } }
        : { rid, ok: false, error: { code: 'UNKNOWN_METHOD', message: `${method}: not simulated here` } };
    c.publish(this.t.rpcRes(id), JSON.stringify(res), { qos: 1 }, () => undefined);
    this.counters.rpcAnswered++;
  }
}
