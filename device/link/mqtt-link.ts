/**
 * The station's MQTT connection (DESIGN.md §4). MQTT 3.1.1 (protocolVersion 4: the embedded aedes refuses
 * MQTT 5), clean sessions, client id = username = station id.
 *
 * Rules this file carries out, each answering a way brokers were seen to lose messages (DESIGN.md §4):
 * - Clean sessions: every connect delivers the latest retained schedule, ack, line-up and headend state and
 *   nothing stale; the link keeps no session state on the broker.
 * - Presence: the Will is `{online:false, boot}` retained on the station's own state topic, and the retained
 *   state with `boot: {n, conn}` is republished on every connect. `conn` grows per connect and is persisted
 *   (the headend ignores a Will older than the last birth), so the Will must be rebuilt for every connect:
 *   this is why the link reconnects itself (mqtt.js's own reconnect reuses the first CONNECT's Will) with a
 *   jittered exponential backoff from the timing profile.
 * - Every payload is size-capped, routed by `parseTopic`, and handed to a handler that decodes it with the
 *   protocol's zod schemas; a handler that throws is a counted, logged drop — never a crash.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { reconnectBackoffMs } from '../../protocol/backoff.js';
import { MAX_PAYLOAD_BYTES } from '../../protocol/limits.js';
import type { Boot } from '../../protocol/messages/common.js';
import type { TimingProfile } from '../../protocol/timing.js';
import { type ParsedTopic, parseTopic, type Topics, topics } from '../../protocol/topics.js';
import type { Clock } from './clock.js';

/** What mqtt.js's `connect` looks like; passed in so tests can wrap or replace it. */
export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

/** Messages the link routes; the handler decodes and validates (see header). */
export type InboundKind = 'schedule' | 'ack' | 'rpc-req' | 'lineup' | 'guide' | 'headend-state';

/** Why an inbound message was dropped. */
export type DropReason = 'TOO_LARGE' | 'UNKNOWN_TOPIC' | 'HANDLER_ERROR';

export interface MqttLinkEvents {
  /** Connected and the birth state published. */
  up: [boot: Boot];
  /** Connection lost (or closed by `stop`). */
  down: [reason: string];
  /** A payload was dropped (also counted in `stats.drops`). */
  drop: [reason: DropReason, topic: string];
}

export interface MqttLinkOptions {
  stationId: string;
  brokerUrl: string;
  password?: string | undefined;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } | undefined;
  topicRoot: string;
  timing: Pick<TimingProfile, 'reconnectMinMs' | 'reconnectMaxMs' | 'reconnectJitter'>;
  clock: Clock;
  logger: Logger;
  /** mqtt.js `connect` (default) or a test double. */
  connect?: MqttConnect;
  /** Random source for the backoff jitter (tests pin it). */
  random?: () => number;
  /** Persisted counters: returns the boot counter and the NEXT connection counter (only grows). */
  nextConnection(): Boot;
  /** The retained state to publish for this connection (`online: true`). */
  birthState(boot: Boot): unknown;
  /** Inbound payload of a routed topic. May throw: the link counts and logs it as a drop. */
  onMessage(kind: InboundKind, payload: Buffer, topic: ParsedTopic): void;
}

/** Counters (state, telemetry, tests). */
export interface MqttLinkStats {
  connects: number;
  connectFailures: number;
  drops: Record<DropReason, number>;
  refusedSubscriptions: string[];
}

/** MQTT keepalive, seconds: a dead uplink is noticed within ~1.5× of it. */
const KEEPALIVE_S = 30;
/** CONNECT must complete within this. */
const CONNECT_TIMEOUT_MS = 10_000;

export class MqttLink extends EventEmitter<MqttLinkEvents> {
  private client: MqttClient | null = null;
  private boot: Boot | null = null;
  private isUp = false;
  private stopped = true;
  private attempt = 0;
  private cancelRetry: (() => void) | null = null;
  private readonly t: Topics;
  readonly stats: MqttLinkStats = {
    connects: 0,
    connectFailures: 0,
    drops: { TOO_LARGE: 0, UNKNOWN_TOPIC: 0, HANDLER_ERROR: 0 },
    refusedSubscriptions: [],
  };

  constructor(private readonly opts: MqttLinkOptions) {
    super();
    this.t = topics(opts.topicRoot);
  }

  /** Connected with the birth state published. */
  get connected(): boolean {
    return this.isUp;
  }

  /** The boot/connection counters of the current (or last) connection. */
  get currentBoot(): Boot | null {
    return this.boot;
  }

  /** Starts connecting (and keeps reconnecting until `stop`). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connectOnce();
  }

  /**
   * Clean stop: publishes `{online:false, boot}` retained (a clean DISCONNECT suppresses the Will) and
   * disconnects. Bounded: a dead link does not hold up shutdown.
   */
  async stop(offlineState?: unknown): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (this.isUp && offlineState !== undefined) {
      await withTimeout(
        client.publishAsync(this.t.state(this.opts.stationId), JSON.stringify(offlineState), {
          qos: 1,
          retain: true,
        }),
        2000,
      ).catch(() => undefined);
    }
    this.setDown('stopped');
    await withTimeout(client.endAsync(false), 2000).catch(() => client.end(true));
  }

  /** Publishes the retained state of the current connection. */
  async publishState(state: unknown): Promise<void> {
    await this.publish(this.t.state(this.opts.stationId), JSON.stringify(state), 1, true);
  }

  /** Publishes one event (QoS 1). Resolves on PUBACK; rejects when the connection goes first. */
  publishEvent = (payload: string): Promise<void> =>
    this.publish(this.t.events(this.opts.stationId), payload, 1, false);

  /** Telemetry is QoS 0 and dropped while offline (the per-minute summaries cover outages). */
  publishTelemetry(payload: unknown): void {
    if (!this.isUp || !this.client) return;
    this.client.publish(
      this.t.telemetry(this.opts.stationId),
      JSON.stringify(payload),
      { qos: 0 },
      () => undefined,
    );
  }

  /** Publishes an RPC response (QoS 1). */
  async publishRpcResponse(payload: unknown): Promise<void> {
    await this.publish(this.t.rpcRes(this.opts.stationId), JSON.stringify(payload), 1, false);
  }

  private async publish(topic: string, payload: string, qos: 0 | 1, retain: boolean): Promise<void> {
    const client = this.client;
    if (!client || !this.isUp) throw new Error('not connected');
    await client.publishAsync(topic, payload, { qos, retain });
  }

  /** Backoff before attempt `n` (0-based): min·2ⁿ capped at max, minus up to `jitter` of it at random. */
  backoffMs(n: number): number {
    return reconnectBackoffMs(n, this.opts.timing, (this.opts.random ?? Math.random)());
  }

  private connectOnce(): void {
    if (this.stopped) return;
    const o = this.opts;
    // The counters are taken (and persisted) before CONNECT so Will and birth carry the same, newer value.
    const boot = o.nextConnection();
    this.boot = boot;
    const options: IClientOptions = {
      clientId: o.stationId,
      username: o.stationId,
      ...(o.password !== undefined ? { password: o.password } : {}),
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      keepalive: KEEPALIVE_S,
      connectTimeout: CONNECT_TIMEOUT_MS,
      will: {
        topic: this.t.state(o.stationId),
        payload: Buffer.from(JSON.stringify({ online: false, boot })),
        qos: 1,
        retain: true,
      },
      ...(o.tls ?? {}),
    };
    const client = (o.connect ?? mqtt.connect)(o.brokerUrl, options);
    this.client = client;
    let wasUp = false;
    client.on('connect', () => {
      if (this.client !== client) return;
      wasUp = true;
      void this.onConnected(client, boot);
    });
    client.on('message', (topic, payload) => this.route(topic, payload));
    client.on('error', (err) => o.logger.warn({ err: err.message }, 'mqtt error'));
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = null;
      // Fail every QoS 1 publish still waiting for its PUBACK (mqtt.js only does this on a forced end).
      client.end(true);
      if (!wasUp) this.stats.connectFailures++;
      this.setDown(wasUp ? 'connection lost' : 'connect failed');
      this.scheduleReconnect();
    });
  }

  private async onConnected(client: MqttClient, boot: Boot): Promise<void> {
    const o = this.opts;
    this.stats.connects++;
    this.attempt = 0;
    try {
      // Subscriptions first, then the birth: the headend answers a birth at once (a clock exchange, pending
      // protect/delete requests), and a request published before our SUBSCRIBE is granted would be dropped
      // by the broker (a session queues only for subscriptions it has). Nothing of ours is published before
      // the birth: the outbox and state wait for 'up'. One SUBSCRIBE per filter: a refused filter (SUBACK
      // 0x80) makes mqtt.js reject the whole call.
      for (const filter of this.t.stationSubscriptions(o.stationId)) {
        try {
          const grants = await client.subscribeAsync(filter, { qos: 1 });
          if (grants.some((g) => g.qos === 128)) throw new Error('SUBACK 0x80');
        } catch (err) {
          this.stats.refusedSubscriptions.push(filter);
          o.logger.error({ filter, err: (err as Error).message }, 'subscription refused by the broker');
        }
      }
      await client.publishAsync(this.t.state(o.stationId), JSON.stringify(o.birthState(boot)), {
        qos: 1,
        retain: true,
      });
    } catch (err) {
      o.logger.warn({ err: (err as Error).message }, 'connection lost during setup');
      return;
    }
    if (this.client !== client) return;
    this.isUp = true;
    o.logger.info({ boot, broker: o.brokerUrl }, 'connected');
    this.emit('up', boot);
  }

  private setDown(reason: string): void {
    const wasUp = this.isUp;
    this.isUp = false;
    if (wasUp) {
      this.opts.logger.warn({ reason }, 'disconnected');
      this.emit('down', reason);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.backoffMs(this.attempt++);
    this.opts.logger.debug({ delay, attempt: this.attempt }, 'reconnecting');
    this.cancelRetry = this.opts.clock.schedule(delay, () => {
      this.cancelRetry = null;
      this.connectOnce();
    });
  }

  private route(topic: string, payload: Buffer): void {
    if (payload.length > MAX_PAYLOAD_BYTES) {
      this.drop('TOO_LARGE', topic, { bytes: payload.length });
      return;
    }
    const parsed = parseTopic(topic, this.opts.topicRoot);
    if (!parsed.ok) {
      this.drop('UNKNOWN_TOPIC', topic, { err: parsed.error.message });
      return;
    }
    const kind = inboundKind(parsed, this.opts.stationId);
    if (!kind) {
      this.drop('UNKNOWN_TOPIC', topic, {});
      return;
    }
    try {
      this.opts.onMessage(kind, payload, parsed);
    } catch (err) {
      this.drop('HANDLER_ERROR', topic, { err: (err as Error).message });
    }
  }

  private drop(reason: DropReason, topic: string, fields: Record<string, unknown>): void {
    this.stats.drops[reason]++;
    this.opts.logger.warn({ topic, reason, ...fields }, 'inbound message dropped');
    this.emit('drop', reason, topic);
  }
}

function inboundKind(p: ParsedTopic, stationId: string): InboundKind | null {
  switch (p.kind) {
    case 'lineup':
    case 'guide':
    case 'headend-state':
      return p.kind;
    case 'schedule':
    case 'ack':
    case 'rpc-req':
      return p.stationId === stationId ? p.kind : null;
    default:
      return null;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
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
