/**
 * The headend's own MQTT connection (DESIGN.md §4): MQTT 3.1.1 (aedes refuses MQTT 5), clean sessions,
 * client id = username = the headend's internal user, to the embedded broker or an external one.
 *
 * Rules carried out here, each answering a way brokers were seen to lose or reorder messages:
 * - Presence: the Will is `{online:false}` retained on `headend/state`; on every connect the headend
 *   publishes `{online:true, epoch, version}` there first, so stations tell "headend away" from "uplink down".
 * - Every connection is a fresh mqtt.js client (its own reconnect would reuse the first CONNECT's Will and
 *   resend a dead connection's QoS 1 publishes after newer ones); a closed connection fails every publish
 *   still waiting for its PUBACK, and the publisher republishes from SQLite on the next `up`.
 * - Inbound: size-capped, routed by `parseTopic`, and handed to the handler as raw bytes; the handler
 *   decodes with the protocol's zod schemas. A handler that throws is a counted, logged drop, never a crash.
 */

import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { reconnectBackoffMs } from '../../protocol/backoff.js';
import { MAX_PAYLOAD_BYTES } from '../../protocol/limits.js';
import type { HeadendState } from '../../protocol/messages/headend-state.js';
import type { TimingProfile } from '../../protocol/timing.js';
import { parseTopic, type Topics, topics } from '../../protocol/topics.js';

/** mqtt.js `connect`, passed in so tests can wrap it. */
export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

/** Station → headend topics the headend reads. */
export type StationTopicKind = 'state' | 'events' | 'telemetry' | 'rpc-res';

/** Why an inbound message was dropped before or by its handler. */
export type InboundDropReason = 'TOO_LARGE' | 'UNKNOWN_TOPIC' | 'HANDLER_ERROR';

/** Handler of one inbound message. May throw: the client counts and logs it as a drop. */
export type InboundHandler = (kind: StationTopicKind, stationId: string, payload: Buffer) => void;

export interface HeadendMqttEvents {
  /** Connected, headend state published, subscriptions granted. */
  up: [];
  /** Connection lost (or closed by `stop`). */
  down: [reason: string];
}

export interface HeadendMqttOptions {
  /** `mqtt://host:port` or `mqtts://…`. */
  url: string;
  username: string;
  password: string;
  topicRoot: string;
  timing: Pick<TimingProfile, 'reconnectMinMs' | 'reconnectMaxMs' | 'reconnectJitter'>;
  logger: Logger;
  /** Headend software version, shown in `headend/state`. */
  version: string;
  /** The current schedule epoch, shown in `headend/state` (a restore starts a new one). */
  epoch: () => number;
  now?: () => Date;
  /** TLS options for an `mqtts://` broker. */
  tls?: { ca?: Buffer; rejectUnauthorized?: boolean };
  connect?: MqttConnect;
  /** Random source of the reconnect jitter. */
  random?: () => number;
  /** MQTT keepalive, seconds (default 30). */
  keepaliveS?: number;
  /** A publish not acknowledged within this fails (the publisher retries); default 30 s. */
  publishTimeoutMs?: number;
}

/** Counters for `/healthz` and metrics. */
export interface HeadendMqttStats {
  connects: number;
  connectFailures: number;
  received: number;
  published: number;
  publishFailures: number;
  drops: Record<InboundDropReason, number>;
}

/** The station → headend kinds the headend routes. */
const ROUTED: ReadonlySet<string> = new Set<StationTopicKind>(['state', 'events', 'telemetry', 'rpc-res']);
/**
 * Routed topics remembered (a few per station: 5 000 stations × 4 kinds fit): a fleet-wide push brings
 * one state per station, and parsing and checking each topic name again was ~8 % of the headend's CPU in
 * scripts/bench/fanout-mosquitto.ts. Only topics that parsed and route are kept; past the cap it starts over.
 */
const MAX_CACHED_ROUTES = 50_000;

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The headend's MQTT client; `start()` connects and keeps reconnecting until `stop()`. */
export class HeadendMqtt extends EventEmitter<HeadendMqttEvents> {
  readonly topics: Topics;
  readonly stats: HeadendMqttStats = {
    connects: 0,
    connectFailures: 0,
    received: 0,
    published: 0,
    publishFailures: 0,
    drops: { TOO_LARGE: 0, UNKNOWN_TOPIC: 0, HANDLER_ERROR: 0 },
  };
  private client: MqttClient | null = null;
  private isUp = false;
  private stopped = true;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private handler: InboundHandler | null = null;
  private readonly routes = new Map<string, { kind: StationTopicKind; stationId: string }>();
  private readonly now: () => Date;

  constructor(private readonly opts: HeadendMqttOptions) {
    super();
    this.topics = topics(opts.topicRoot);
    this.now = opts.now ?? (() => new Date());
  }

  /** Connected, with the headend state published and the subscriptions granted. */
  get connected(): boolean {
    return this.isUp;
  }

  /** Sets the handler of inbound station messages (one handler: the ingest router). */
  onInbound(handler: InboundHandler): void {
    this.handler = handler;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connectOnce();
  }

  /** Publishes `{online:false}` retained (a clean DISCONNECT suppresses the Will), then disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (this.isUp) {
      await withTimeout(
        client.publishAsync(this.topics.headendState(), JSON.stringify(this.headendState(false)), {
          qos: 1,
          retain: true,
        }),
        2000,
      ).catch(() => undefined);
    }
    this.setDown('stopped');
    await withTimeout(client.endAsync(false), 2000).catch(() => client.end(true));
  }

  /**
   * Publishes on the current connection; resolves on PUBACK (QoS 1). Rejects when not connected, when the
   * connection closes first, or after `publishTimeoutMs`.
   */
  async publish(
    topic: string,
    payload: Buffer | string,
    options: { qos: 0 | 1; retain: boolean },
  ): Promise<void> {
    const client = this.client;
    if (!client || !this.isUp) throw new Error('not connected to the broker');
    try {
      await withTimeout(client.publishAsync(topic, payload, options), this.opts.publishTimeoutMs ?? 30_000);
      this.stats.published++;
    } catch (err) {
      this.stats.publishFailures++;
      throw err;
    }
  }

  /** The retained headend state (also the Will, with `online: false`). */
  headendState(online: boolean): HeadendState {
    return { online, at: iso(this.now()), epoch: this.opts.epoch(), version: this.opts.version };
  }

  /** Backoff before attempt `n` (0-based): min·2ⁿ capped at max, minus up to `jitter` of it at random. */
  backoffMs(n: number): number {
    return reconnectBackoffMs(n, this.opts.timing, (this.opts.random ?? Math.random)());
  }

  private connectOnce(): void {
    if (this.stopped) return;
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.username,
      username: o.username,
      password: o.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      keepalive: o.keepaliveS ?? 30,
      connectTimeout: 10_000,
      will: {
        topic: this.topics.headendState(),
        payload: Buffer.from(JSON.stringify(this.headendState(false))),
        qos: 1,
        retain: true,
      },
      ...(o.tls ?? {}),
    };
    const client = (o.connect ?? mqtt.connect)(o.url, options);
    this.client = client;
    let wasUp = false;
    client.on('connect', () => {
      if (this.client !== client) return;
      wasUp = true;
      void this.onConnected(client);
    });
    client.on('message', (topic, payload) => this.route(topic, payload));
    client.on('error', (err) => o.logger.warn({ event: 'mqtt-error', err: err.message }, 'MQTT error'));
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = null;
      // Fail every QoS 1 publish still waiting for its PUBACK (mqtt.js only does that on a forced end).
      client.end(true);
      if (!wasUp) this.stats.connectFailures++;
      this.setDown(wasUp ? 'connection lost' : 'connect failed');
      this.scheduleReconnect();
    });
  }

  private async onConnected(client: MqttClient): Promise<void> {
    const o = this.opts;
    this.stats.connects++;
    this.attempt = 0;
    try {
      await client.publishAsync(this.topics.headendState(), JSON.stringify(this.headendState(true)), {
        qos: 1,
        retain: true,
      });
      // One SUBSCRIBE per filter, so a refused filter is named (mqtt.js rejects the whole call on 0x80).
      for (const filter of this.topics.headendSubscriptions()) {
        const grants = await client.subscribeAsync(filter, { qos: 1 });
        if (grants.some((g) => g.qos === 128)) {
          o.logger.error({ event: 'subscription-refused', filter }, 'the broker refused a subscription');
        }
      }
    } catch (err) {
      o.logger.warn({ event: 'setup-failed', err: (err as Error).message }, 'connection lost during setup');
      return;
    }
    if (this.client !== client) return;
    this.isUp = true;
    o.logger.info({ event: 'mqtt-up', url: o.url }, 'connected to the broker');
    this.emit('up');
  }

  private setDown(reason: string): void {
    const wasUp = this.isUp;
    this.isUp = false;
    if (wasUp) {
      this.opts.logger.warn({ event: 'mqtt-down', reason }, 'disconnected from the broker');
      this.emit('down', reason);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.backoffMs(this.attempt++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connectOnce();
    }, delay);
  }

  private route(topic: string, payload: Buffer): void {
    this.stats.received++;
    if (payload.length > MAX_PAYLOAD_BYTES) {
      this.drop('TOO_LARGE', topic, { bytes: payload.length });
      return;
    }
    let routed = this.routes.get(topic);
    if (routed === undefined) {
      const parsed = parseTopic(topic, this.opts.topicRoot);
      if (!parsed.ok || !ROUTED.has(parsed.kind) || !('stationId' in parsed)) {
        this.drop('UNKNOWN_TOPIC', topic, parsed.ok ? {} : { err: parsed.error.message });
        return;
      }
      routed = { kind: parsed.kind as StationTopicKind, stationId: parsed.stationId };
      if (this.routes.size >= MAX_CACHED_ROUTES) this.routes.clear();
      this.routes.set(topic, routed);
    }
    try {
      this.handler?.(routed.kind, routed.stationId, payload);
    } catch (err) {
      this.drop('HANDLER_ERROR', topic, { err: (err as Error).message });
    }
  }

  private drop(reason: InboundDropReason, topic: string, fields: Record<string, unknown>): void {
    this.stats.drops[reason]++;
    this.opts.logger.warn({ event: 'inbound-dropped', topic, reason, ...fields }, 'inbound message dropped');
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
