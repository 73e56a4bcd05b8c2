/**
 * The embedded MQTT broker (DESIGN.md §3: aedes 1.x in the headend process, MQTT 3.1.1 only). It enforces
 * the contract's access rules (DESIGN.md §4 "ACL", rules in protocol/acl.ts):
 *  - authentication against the fleet registry (`$7$` hashes, headend/provisioning/password-hash.ts) plus
 *    the headend's own internal user; revoked and unknown stations are refused;
 *  - client id = username, else CONNACK 2 "identifier rejected" (Mosquitto was seen accepting station A's
 *    secret under B's client id);
 *  - SUBSCRIBE: a filter is granted only if every topic it can match is readable, else SUBACK 128;
 *  - PUBLISH: own write topics only, retain only on `state`; aedes closes the connection on a denied
 *    publish (DESIGN.md §4 says the agent quarantines an outbox row that keeps causing that).
 * Rejected credentials are counted and reported through `onRejected`, for the "credentials rejected" alarm.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { authorizeConnect, authorizePublish, authorizeSubscribe } from '../../protocol/acl.js';
import { MAX_PAYLOAD_BYTES } from '../../protocol/limits.js';
import { VerifiedCache } from '../provisioning/password-hash.js';
import type { StationCredential } from '../store/stations.js';

/** Why a CONNECT was refused. */
export type RejectReason =
  | 'no-username'
  | 'bad-username'
  | 'client-id-mismatch'
  | 'unknown-station'
  | 'revoked'
  | 'no-credential'
  | 'wrong-secret';

/** One refused CONNECT, for logs, counters and the "credentials rejected" alarm. */
export interface RejectedConnect {
  at: string;
  username: string | null;
  clientId: string;
  reason: RejectReason;
  remoteAddress: string | null;
}

/** One denied SUBSCRIBE filter or PUBLISH. */
export interface DeniedAction {
  at: string;
  username: string;
  action: 'subscribe' | 'publish';
  topic: string;
  code: string;
  reason: string;
}

/** Counters of the broker (exported as metrics by the HTTP layer). */
export interface BrokerStats {
  connected: number;
  rejectedConnects: number;
  deniedSubscriptions: number;
  deniedPublishes: number;
}

/** What the embedded broker needs. */
export interface EmbeddedBrokerDeps {
  /** Registry look-up: the station's stored hash and whether it is revoked (undefined = unknown). */
  credentialOf(stationId: string): StationCredential | undefined;
  topicRoot: string;
  /** The headend's own MQTT user (full access below the root). */
  headendUser: { username: string; password: string };
  logger: Logger;
  /** Where to listen; port 0 picks a free port. */
  listen: { host: string; port: number };
  /** PEM material: when given the listener speaks TLS only. */
  tls?: { cert: Buffer | string; key: Buffer | string; ca?: Buffer | string };
  /** How often connected stations are re-checked against the registry (revoked → disconnected); 0 = never. */
  revalidateEveryMs?: number;
  now?: () => Date;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /** `mqtt://host:port` or `mqtts://…` of the bound listener. */
  readonly url: string;
  readonly port: number;
  stats(): BrokerStats;
  /** Subscribes to refused CONNECTs; returns the unsubscribe function. */
  onRejected(listener: (r: RejectedConnect) => void): () => void;
  /** Subscribes to denied subscriptions and publishes. */
  onDenied(listener: (d: DeniedAction) => void): () => void;
  /** Disconnects connected stations that are now revoked or unknown; returns their ids. */
  revalidate(): string[];
  close(): Promise<void>;
}

const RETURN_CODE: Record<RejectReason, 2 | 4 | 5> = {
  'no-username': 4,
  'bad-username': 4,
  'client-id-mismatch': 2,
  'unknown-station': 4,
  revoked: 5,
  'no-credential': 5,
  'wrong-secret': 4,
};

function authError(reason: RejectReason): AuthenticateError {
  const err = new Error(`connection refused: ${reason}`) as AuthenticateError;
  err.returnCode = RETURN_CODE[reason] as AuthenticateError['returnCode'];
  return err;
}

function digest(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

function remoteAddressOf(client: Client): string | null {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress ?? null;
}

/** Starts aedes with the contract's auth and ACL on a TCP (or TLS) listener. */
export async function startEmbeddedBroker(deps: EmbeddedBrokerDeps): Promise<EmbeddedBroker> {
  const log = deps.logger;
  const now = deps.now ?? (() => new Date());
  const root = deps.topicRoot;
  const headendUsername = deps.headendUser.username;
  const headendDigest = digest(deps.headendUser.password);
  const cache = new VerifiedCache();
  const events = new EventEmitter();
  const usernames = new WeakMap<Client, string>();
  const clients = new Map<string, Client>();
  const counters = { rejectedConnects: 0, deniedSubscriptions: 0, deniedPublishes: 0 };

  const reject = (client: Client, username: string | undefined, reason: RejectReason): AuthenticateError => {
    counters.rejectedConnects += 1;
    const r: RejectedConnect = {
      at: now().toISOString(),
      username: username ?? null,
      clientId: client.id,
      reason,
      remoteAddress: remoteAddressOf(client),
    };
    log.warn({ event: 'connect-refused', ...r }, 'MQTT connection refused');
    events.emit('rejected', r);
    return authError(reason);
  };

  const deny = (
    username: string,
    action: DeniedAction['action'],
    topic: string,
    code: string,
    reason: string,
  ) => {
    if (action === 'subscribe') counters.deniedSubscriptions += 1;
    else counters.deniedPublishes += 1;
    const d: DeniedAction = { at: now().toISOString(), username, action, topic, code, reason };
    log.warn({ event: `${action}-denied`, ...d }, `MQTT ${action} denied`);
    events.emit('denied', d);
  };

  async function check(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<RejectReason | null> {
    if (username === undefined || username === '') return 'no-username';
    const c = authorizeConnect({ clientId: client.id, username, headendUsername });
    if (!c.ok) return c.code === 'CLIENT_ID_MISMATCH' ? 'client-id-mismatch' : 'bad-username';
    const secret = password ?? Buffer.alloc(0);
    if (username === headendUsername)
      return timingSafeEqual(digest(secret), headendDigest) ? null : 'wrong-secret';
    const cred = deps.credentialOf(username);
    if (!cred) return 'unknown-station';
    if (cred.revoked) return 'revoked';
    if (!cred.hash) return 'no-credential';
    return (await cache.verify(secret, cred.hash)) ? null : 'wrong-secret';
  }

  const aedes = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      check(client, username, password).then(
        (reason) => {
          if (reason) return done(reject(client, username, reason), false);
          usernames.set(client, username as string);
          done(null, true);
        },
        (err: unknown) => {
          log.error({ err, clientId: client.id }, 'authentication failed unexpectedly');
          done(authError('no-credential'), false);
        },
      );
    },
    authorizeSubscribe(client, sub, done) {
      const username = usernames.get(client) ?? '';
      const d = authorizeSubscribe({ username, filter: sub.topic, root, headendUsername });
      if (d.ok) return done(null, sub);
      deny(username, 'subscribe', sub.topic, d.code, d.reason);
      // null grants nothing: SUBACK 128 for this filter (MQTT 3.1.1 §3.9.3).
      done(null, null);
    },
    authorizePublish(client, packet, done) {
      // Messages the broker itself publishes ($SYS heartbeats, another node's wills) have no client.
      if (!client) return done(null);
      const username = usernames.get(client) ?? '';
      const d = authorizePublish({
        username,
        topic: packet.topic,
        retain: packet.retain,
        root,
        headendUsername,
      });
      if (!d.ok) {
        deny(username, 'publish', packet.topic, d.code, d.reason);
        return done(new Error(d.reason));
      }
      const size =
        typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
      if (username !== headendUsername && size > MAX_PAYLOAD_BYTES) {
        const reason = `payload of ${size} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte cap`;
        deny(username, 'publish', packet.topic, 'PAYLOAD_TOO_LARGE', reason);
        return done(new Error(reason));
      }
      done(null);
    },
  });

  aedes.on('clientReady', (client) => {
    clients.set(client.id, client);
    log.info(
      { event: 'client-connected', clientId: client.id, remoteAddress: remoteAddressOf(client) },
      'MQTT client connected',
    );
  });
  aedes.on('clientDisconnect', (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
    log.info({ event: 'client-disconnected', clientId: client.id }, 'MQTT client disconnected');
  });
  aedes.on('clientError', (client, err) => {
    log.info({ event: 'client-error', clientId: client.id, err: err.message }, 'MQTT client error');
  });
  aedes.on('connectionError', (client, err) => {
    log.info({ event: 'connection-error', clientId: client.id, err: err.message }, 'MQTT connection error');
  });

  const server = deps.tls
    ? tls.createServer(
        { cert: deps.tls.cert, key: deps.tls.key, ...(deps.tls.ca ? { ca: deps.tls.ca } : {}) },
        aedes.handle,
      )
    : net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on(deps.tls ? 'secureConnection' : 'connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.listen.port, deps.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'MQTT listener error'));
  const port = (server.address() as net.AddressInfo).port;
  const hostForUrl = deps.listen.host.includes(':') ? `[${deps.listen.host}]` : deps.listen.host;
  const url = `${deps.tls ? 'mqtts' : 'mqtt'}://${hostForUrl}:${port}`;

  const revalidate = (): string[] => {
    const dropped: string[] = [];
    for (const [id, client] of clients) {
      if (id === headendUsername) continue;
      const cred = deps.credentialOf(id);
      if (!cred || cred.revoked || !cred.hash) {
        dropped.push(id);
        log.warn(
          { event: 'client-revoked', clientId: id },
          'disconnecting a station that is no longer authorised',
        );
        client.close();
      }
    }
    return dropped;
  };
  const timer = deps.revalidateEveryMs ? setInterval(revalidate, deps.revalidateEveryMs) : undefined;
  timer?.unref();

  let closing: Promise<void> | undefined;
  return {
    aedes,
    url,
    port,
    stats: () => ({ connected: aedes.connectedClients, ...counters }),
    onRejected(listener) {
      events.on('rejected', listener);
      return () => events.off('rejected', listener);
    },
    onDenied(listener) {
      events.on('denied', listener);
      return () => events.off('denied', listener);
    },
    revalidate,
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await serverClosed;
      })();
      return closing;
    },
  };
}
