/**
 * The headend side of the agent tests (tests/helpers/agent-harness.ts has the rest):
 * - `HeadendDouble`: a minimal headend-side subscriber that stores events keyed `(storeId, seq)`, publishes
 *   the retained ack after storing (the highest seq with nothing missing below it — arrival order is never
 *   trusted, DESIGN.md §4), republishes its retained documents on every connect, plays the headend's side
 *   of `clock.exchange`, and sends RPCs. The real headend ingest is built separately.
 * - `uplinkSwitch`: the station's uplink as a switch, to take an agent offline without stopping it.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Test } from 'tap';
import { ClockSync } from '../../device/link/clock.js';
import type { StationEvent } from '../../protocol/messages/events.js';
import type { ScheduleDocumentInput } from '../../protocol/messages/schedule.js';
import { topics } from '../../protocol/topics.js';
import { freeTcpPort } from './net.js';

const T = topics();

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function until<V>(
  fn: () => V | Promise<V>,
  what: string,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<NonNullable<V>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<V>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------------------------- headend double

interface StoredEvent {
  event: StationEvent;
  payload: string;
}

/** The headend side, as little as the agent's tests need (see the file header). */
export class HeadendDouble {
  private client: MqttClient | null = null;
  /** Events keyed `${storeId}/${seq}`; survives this double's own restarts, like a database. */
  readonly events = new Map<string, StoredEvent>();
  readonly duplicates: string[] = [];
  readonly conflicts: string[] = [];
  readonly states: { payload: unknown; retain: boolean }[] = [];
  readonly telemetry: unknown[] = [];
  private readonly retained = new Map<string, string>();
  private readonly acked = new Map<string, number>();
  private readonly waiters = new Map<
    string,
    (res: { ok: boolean; result?: unknown; error?: unknown }) => void
  >();
  private clockTimer: NodeJS.Timeout | null = null;
  private clockEstimate: { offsetMs: number; rttMs: number; samples: number } | null = null;
  /** When false, events are received but neither stored nor acked (a headend whose database is away). */
  storing = true;

  constructor(private readonly brokerUrl: string) {}

  get connected(): boolean {
    return this.client?.connected === true;
  }

  async up(): Promise<void> {
    if (this.client) return;
    const client = mqtt.connect(this.brokerUrl, {
      clientId: `headend-${randomUUID().slice(0, 8)}`,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 200,
      connectTimeout: 2000,
    });
    this.client = client;
    client.on('error', () => undefined);
    client.on('connect', () => {
      void (async () => {
        await client.subscribeAsync([T.allEvents(), T.allStates(), T.allRpcRes(), T.allTelemetry()], {
          qos: 1,
        });
        // The headend republishes every retained document on (re)connect (DESIGN.md §4).
        for (const [topic, payload] of this.retained)
          await client.publishAsync(topic, payload, { qos: 1, retain: true });
      })().catch(() => undefined);
    });
    client.on('message', (topic, payload, packet) =>
      this.onMessage(topic, payload.toString('utf8'), packet.retain),
    );
    await until(() => client.connected, 'headend double to connect', 10_000);
  }

  async down(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync(true);
  }

  /** Publishes (and remembers, for republishing) a retained document. */
  async retain(topic: string, payload: string | Buffer): Promise<void> {
    this.retained.set(topic, payload.toString());
    if (this.client?.connected) await this.client.publishAsync(topic, payload, { qos: 1, retain: true });
  }

  async publishSchedule(stationId: string, doc: ScheduleDocumentInput | string): Promise<string> {
    const payload = typeof doc === 'string' ? doc : JSON.stringify(doc);
    await this.retain(T.schedule(stationId), payload);
    return payload;
  }

  /** Stored events of one store, by seq. */
  storeEvents(storeId: string): StationEvent[] {
    return [...this.events.values()]
      .map((e) => e.event)
      .filter((e) => e.storeId === storeId)
      .sort((a, b) => a.seq - b.seq);
  }

  latestState(): Record<string, unknown> | undefined {
    return this.states.at(-1)?.payload as Record<string, unknown> | undefined;
  }

  /** Sends an RPC and waits for its response. */
  async rpc(
    stationId: string,
    method: string,
    params: unknown,
    opts: { rid?: string; ttlMs?: number; sentAt?: string; timeoutMs?: number } = {},
  ): Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }> {
    const rid = opts.rid ?? randomUUID().replace(/-/g, '').slice(0, 24);
    const res = new Promise<{ ok: boolean; result?: unknown; error?: unknown }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`rpc ${method} ${rid}: no answer`)),
        opts.timeoutMs ?? 8000,
      );
      this.waiters.set(rid, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    // The publish below may never settle once the client is closed (teardown): whoever awaits `res` still gets
    // its rejection, but an abandoned one must not surface as an unhandled rejection after the test.
    res.catch(() => undefined);
    const req = {
      rid,
      method,
      params,
      ttlMs: opts.ttlMs ?? 5000,
      sentAt: opts.sentAt ?? new Date().toISOString(),
    };
    try {
      await this.client?.publishAsync(T.rpcReq(stationId), JSON.stringify(req), { qos: 1 });
    } catch (err) {
      // Not sent (the broker is down): settle the waiter now so its timer cannot reject unobserved.
      this.waiters.get(rid)?.({ ok: false, error: { code: 'NOT_SENT', message: String(err) } });
      this.waiters.delete(rid);
    }
    return res as Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }>;
  }

  /** Runs `clock.exchange` every `periodMs`, handing back the measured offset the next time. */
  startClockExchanges(stationId: string, periodMs = 300): void {
    const once = async () => {
      const t1 = Date.now();
      const params = { t1, ...(this.clockEstimate ? { estimate: this.clockEstimate } : {}) };
      try {
        const r = await this.rpc(stationId, 'clock.exchange', params, { timeoutMs: 2000 });
        const t4 = Date.now();
        if (r.ok) {
          const { t2, t3 } = r.result as { t2: number; t3: number };
          const { offsetMs, delayMs } = ClockSync.compute({ t1, t2, t3, t4 });
          this.clockEstimate = { offsetMs, rttMs: delayMs, samples: (this.clockEstimate?.samples ?? 0) + 1 };
        }
      } catch {
        // not connected right now: the next round tries again
      }
    };
    this.clockTimer = setInterval(() => void once(), periodMs);
    void once();
  }

  stopClockExchanges(): void {
    if (this.clockTimer) clearInterval(this.clockTimer);
    this.clockTimer = null;
  }

  async close(): Promise<void> {
    this.stopClockExchanges();
    await this.down();
  }

  private onMessage(topic: string, payload: string, retain: boolean): void {
    const kind = topic.split('/').slice(4).join('/');
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      return;
    }
    if (kind === 'state') this.states.push({ payload: json, retain });
    else if (kind === 'telemetry') this.telemetry.push(json);
    else if (kind === 'rpc/res') {
      const r = json as { rid: string; ok: boolean };
      this.waiters.get(r.rid)?.(r);
      this.waiters.delete(r.rid);
    } else if (kind === 'events') this.onEvent(topic.split('/')[3] ?? '', json as StationEvent, payload);
  }

  private onEvent(stationId: string, event: StationEvent, payload: string): void {
    if (!this.storing) return;
    const key = `${event.storeId}/${event.seq}`;
    const have = this.events.get(key);
    if (have) {
      (have.payload === payload ? this.duplicates : this.conflicts).push(key);
    } else {
      this.events.set(key, { event, payload });
    }
    // Ack after the "commit": the highest seq with no gap below it (arrival order is never trusted).
    let seq = this.acked.get(event.storeId) ?? 0;
    while (this.events.has(`${event.storeId}/${seq + 1}`)) seq++;
    if (seq > (this.acked.get(event.storeId) ?? 0)) {
      this.acked.set(event.storeId, seq);
      void this.retain(T.ack(stationId), JSON.stringify({ storeId: event.storeId, seq })).catch(
        () => undefined,
      );
    }
  }
}

export async function startHeadendDouble(t: Test, brokerUrl: string): Promise<HeadendDouble> {
  const h = new HeadendDouble(brokerUrl);
  await h.up();
  t.teardown(() => h.close());
  return h;
}

/**
 * The station's uplink as a switch: while cut, the agent's current connection is destroyed and new ones
 * are refused (they go to a closed port), so the agent stays up and offline (DESIGN.md §6 offline first).
 */
export interface UplinkSwitch {
  connect: (url: string, opts: mqtt.IClientOptions) => MqttClient;
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
}

export async function uplinkSwitch(): Promise<UplinkSwitch> {
  const deadPort = await freeTcpPort();
  let cut = false;
  const clients = new Set<MqttClient>();
  return {
    connect(url, opts) {
      const c = mqtt.connect(cut ? `mqtt://127.0.0.1:${deadPort}` : url, opts);
      clients.add(c);
      c.on('close', () => clients.delete(c));
      return c;
    },
    cut() {
      cut = true;
      for (const c of clients) c.stream?.destroy();
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
  };
}
