/**
 * MQTT test peers for the broker tests: MQTT 3.1.1 clients with clean sessions and no reconnect
 * (DESIGN.md §4), a CONNECT that reports the CONNACK code of a refusal, and a collector that records what a
 * privileged observer sees. Denials are checked with FENCES, not sleeps: messages from one publisher at one
 * QoS arrive in order (MQTT 3.1.1 §4.6), so once a fence published after a message has arrived, the message
 * would have arrived too.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

/** Credentials of one MQTT peer. */
export interface Creds {
  username?: string;
  password?: string;
  clientId: string;
}

/** Options every test client uses: MQTT 3.1.1, clean session, no reconnect. */
function options(c: Creds, extra: Partial<IClientOptions> = {}): IClientOptions {
  return {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: c.clientId,
    ...(c.username === undefined ? {} : { username: c.username }),
    ...(c.password === undefined ? {} : { password: c.password }),
    ...extra,
  };
}

/** Connects; rejects with the broker's refusal (`code` = CONNACK return code) or a socket error. */
export function connectPeer(url: string, c: Creds, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, options(c, extra));
    const fail = (err: Error) => {
      client.end(true);
      reject(err);
    };
    client.once('connect', () => {
      client.off('error', fail);
      client.on('error', () => {});
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before CONNACK')));
  });
}

/** Tries to connect and returns the CONNACK refusal code (fails the promise if the broker accepted). */
export async function refusalCode(url: string, c: Creds): Promise<number> {
  let client: MqttClient;
  try {
    client = await connectPeer(url, c);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'number' ? code : -1;
  }
  await client.endAsync(true);
  throw new Error(`broker accepted ${c.username ?? '(anonymous)'} as ${c.clientId}`);
}

/** One received message. */
export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Records every message a client receives and waits for specific ones. */
export class Inbox {
  readonly messages: Received[] = [];
  private waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload: payload.toString('utf8'), retain: packet.retain };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  /** Messages on `topic`. */
  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** Resolves with the first message (already received or future) matching; rejects after `timeoutMs`. */
  waitFor(match: (m: Received) => boolean, what: string, timeoutMs = 5000): Promise<Received> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Waits for a message on `topic` whose payload is `payload`. */
  waitForPayload(topic: string, payload: string, timeoutMs = 5000): Promise<Received> {
    return this.waitFor(
      (m) => m.topic === topic && m.payload === payload,
      `${payload} on ${topic}`,
      timeoutMs,
    );
  }
}

/** Resolves when the client's connection closes (rejects after `timeoutMs`). */
export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  if (!client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection stayed open')), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Unique fence payloads. */
let fenceCounter = 0;
export function fence(label: string): string {
  fenceCounter += 1;
  return `fence-${label}-${fenceCounter}-${process.pid}`;
}
