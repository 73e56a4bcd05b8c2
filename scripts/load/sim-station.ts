/**
 * A lightweight simulated station for load tests, the fan-out bench and headend tests: it speaks the v1
 * contract (DESIGN.md §4) with only protocol/ code — no receiver, no recorder, no station database — so
 * hundreds fit in one process. It connects as its station id with a clean session and a Will carrying
 * `boot`, publishes its birth, validates every schedule document with the protocol schema, applies it only
 * when its version is newer (a new epoch is newer), reports the applied version and the SHA-256 of the
 * payload bytes in its retained state, and sends events with `(storeId, seq)` that it keeps until the
 * headend's retained ack covers them. It reconnects with a new connection counter, like the real agent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { Ack } from '../../protocol/messages/ack.js';
import {
  type Boot,
  compareVersions,
  PROTOCOL_REVISION,
  type ScheduleVersion,
} from '../../protocol/messages/common.js';
import { decodePayload } from '../../protocol/messages/decode.js';
import { ScheduleDocument } from '../../protocol/messages/schedule.js';
import type { StationBirth } from '../../protocol/messages/state.js';
import { PLANNER_VERSION } from '../../protocol/planner/index.js';
import { topics } from '../../protocol/topics.js';

/** What the simulated station applied. */
export interface SimApplied {
  version: ScheduleVersion;
  hash: string;
  appliedAt: string;
  doc: ScheduleDocument;
}

export interface SimStationOptions {
  id: string;
  password: string;
  url: string;
  topicRoot?: string;
  /** Receiver ids this station has (default `rx1`, the agent's default). */
  receivers?: string[];
  /** Reconnect after a lost connection (default true)… */
  reconnect?: boolean;
  /** …after this delay (default 200 ms). */
  reconnectMs?: number;
  /** Keep the retained `state` updated with the applied schedule (default true). */
  reportState?: boolean;
  storeId?: string;
  boot?: Boot;
}

export interface SimStationEvents {
  applied: [applied: SimApplied];
  ack: [ack: { storeId: string; seq: number }];
  up: [];
}

const iso = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class SimStation extends EventEmitter<SimStationEvents> {
  readonly storeId: string;
  boot: Boot;
  applied: SimApplied | null = null;
  /** Last retained ack of this station's store. */
  ack: { storeId: string; seq: number } | null = null;
  /** Schedule payloads received (including stale and equal ones). */
  schedulesReceived = 0;
  private seq = 0;
  private client: MqttClient | null = null;
  private stopped = false;
  private readonly t;

  constructor(readonly opts: SimStationOptions) {
    super();
    this.storeId = opts.storeId ?? randomBytes(8).toString('hex');
    this.boot = opts.boot ?? { n: 1, conn: 0 };
    this.t = topics(opts.topicRoot);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** The retained state this station publishes. */
  birth(): StationBirth {
    return {
      online: true,
      boot: this.boot,
      storeId: this.storeId,
      agentVersion: 'sim-station',
      protocolRevision: PROTOCOL_REVISION,
      plannerVersion: PLANNER_VERSION,
      at: iso(),
      schedule: this.applied
        ? { version: this.applied.version, hash: this.applied.hash, appliedAt: this.applied.appliedAt }
        : null,
      receivers: (this.opts.receivers ?? ['rx1']).map((id) => ({
        id,
        link: 'up',
        locked: true,
        service: null,
        marginDb: 6,
        lnb: 'ok',
        family: 'rx8200',
        sharing: 'service',
      })),
      clock: { offsetMs: 0, rttMs: 1, trusted: true },
    };
  }

  /** Connects (a new connection counter per connect); resolves once birth and subscriptions are done. */
  connect(): Promise<void> {
    this.stopped = false;
    this.boot = { n: this.boot.n, conn: this.boot.conn + 1 };
    const boot = this.boot;
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.id,
      username: this.opts.id,
      password: this.opts.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      will: {
        topic: this.t.state(this.opts.id),
        payload: Buffer.from(JSON.stringify({ online: false, boot })),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', () => undefined);
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = null;
      client.end(true);
      if (!this.stopped && this.opts.reconnect !== false)
        setTimeout(() => void this.connect().catch(() => undefined), this.opts.reconnectMs ?? 200);
    });
    return new Promise((resolve, reject) => {
      client.once('connect', () => {
        void (async () => {
          await client.publishAsync(this.t.state(this.opts.id), JSON.stringify(this.birth()), {
            qos: 1,
            retain: true,
          });
          await client.subscribeAsync(this.t.schedule(this.opts.id), { qos: 1 });
          await client.subscribeAsync(this.t.ack(this.opts.id), { qos: 1 });
          this.emit('up');
        })().then(resolve, reject);
      });
      client.once('error', reject);
    });
  }

  /** Publishes the next event `{storeId, seq, at, ...body}`; returns the payload sent. */
  async sendEvent(body: Record<string, unknown>): Promise<string> {
    this.seq++;
    const payload = JSON.stringify({ storeId: this.storeId, seq: this.seq, at: iso(), ...body });
    await this.publishRaw(this.t.events(this.opts.id), payload);
    return payload;
  }

  /** Publishes any payload on any topic (tests use it for reordered, duplicated or hostile messages). */
  async publishRaw(topic: string, payload: string, retain = false): Promise<void> {
    const c = this.client;
    if (!c) throw new Error(`${this.opts.id} is not connected`);
    await c.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** Resolves when a document at least as new as `version` is applied. */
  waitApplied(version: ScheduleVersion, timeoutMs = 10_000): Promise<SimApplied> {
    const done = () => this.applied !== null && compareVersions(this.applied.version, version) >= 0;
    if (done()) return Promise.resolve(this.applied as SimApplied);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('applied', on);
        const v = this.applied ? `${this.applied.version.epoch}.${this.applied.version.n}` : 'none';
        reject(
          new Error(
            `${this.opts.id}: ${version.epoch}.${version.n} not applied in ${timeoutMs} ms (has ${v})`,
          ),
        );
      }, timeoutMs);
      const on = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.off('applied', on);
        resolve(this.applied as SimApplied);
      };
      this.on('applied', on);
    });
  }

  /** Resolves when the retained ack covers `seq` of this store. */
  waitAck(seq: number, timeoutMs = 10_000): Promise<void> {
    const done = () => this.ack?.storeId === this.storeId && this.ack.seq >= seq;
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ack', on);
        reject(
          new Error(
            `${this.opts.id}: ack ${seq} not seen in ${timeoutMs} ms (has ${this.ack?.seq ?? 'none'})`,
          ),
        );
      }, timeoutMs);
      const on = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.off('ack', on);
        resolve();
      };
      this.on('ack', on);
    });
  }

  /** Disconnects. `clean`: publishes `{online:false}` first (like a clean agent stop); else the Will fires. */
  async stop(clean = true): Promise<void> {
    this.stopped = true;
    const c = this.client;
    this.client = null;
    if (!c) return;
    if (clean && c.connected) {
      await c
        .publishAsync(this.t.state(this.opts.id), JSON.stringify({ online: false, boot: this.boot }), {
          qos: 1,
          retain: true,
        })
        .catch(() => undefined);
      await c.endAsync(false).catch(() => c.end(true));
    } else {
      // No DISCONNECT packet: the broker publishes the Will, as for a cut uplink.
      c.stream.destroy();
      c.end(true);
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === this.t.ack(this.opts.id)) {
      const d = decodePayload(Ack, payload);
      if (d.ok) {
        this.ack = d.value;
        this.emit('ack', d.value);
      }
      return;
    }
    if (topic !== this.t.schedule(this.opts.id)) return;
    this.schedulesReceived++;
    const d = decodePayload(ScheduleDocument, payload);
    if (!d.ok) return;
    const doc = d.value;
    if (this.applied && compareVersions(doc.version, this.applied.version) <= 0) return;
    const receivers = this.opts.receivers ?? ['rx1'];
    if (doc.receivers.some((r) => !receivers.includes(r.id))) return;
    this.applied = {
      version: doc.version,
      hash: createHash('sha256').update(payload).digest('hex'),
      appliedAt: iso(),
      doc,
    };
    this.emit('applied', this.applied);
    if (this.opts.reportState !== false && this.client) {
      this.client.publish(
        this.t.state(this.opts.id),
        JSON.stringify(this.birth()),
        { qos: 1, retain: true },
        () => undefined,
      );
    }
  }
}
