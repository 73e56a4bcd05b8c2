/**
 * Raw TCP transport to a serial device server (ser2net "raw" mode, Moxa NPort "TCP server" mode): the
 * bytes on the socket are the bytes on the RS-232 line (DOMAIN.md §3, last bullet). Technicians put
 * receivers behind these; the simulator listens the same way. A refused, reset or silent connection is
 * reconnected with backoff by the base class.
 */
import net from 'node:net';
import { ReceiverError } from '../driver.js';
import { type Connection, ReopeningTransport, type TransportDeps } from './transport.js';

export interface TcpOptions {
  host: string;
  port: number;
  /** Give up one connect attempt after this long (a device server on a dead LAN never answers). */
  connectTimeoutMs?: number;
}

/** Parse `host:port` (IPv6 as `[::1]:7000`); throws `INVALID` with the reason. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ReceiverError(
      'INVALID',
      `expected host:port (e.g. 10.0.0.5:4001), got ${JSON.stringify(text)}`,
    );
  }
  return { host, port };
}

function classifySocketError(endpoint: string, err: NodeJS.ErrnoException): ReceiverError {
  const detail = { port: endpoint };
  switch (err.code) {
    case 'ECONNREFUSED':
      return new ReceiverError(
        'PORT_CLOSED',
        `${endpoint} refused the connection (no device server or simulator listening)`,
        detail,
        err,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ReceiverError('PORT_NOT_FOUND', `${endpoint}: host not found`, detail, err);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ReceiverError('PORT_CLOSED', `${endpoint} is unreachable`, detail, err);
    default:
      return new ReceiverError('PORT_CLOSED', `${endpoint}: ${err.message}`, detail, err);
  }
}

export class TcpTransport extends ReopeningTransport {
  readonly description: string;

  constructor(
    private readonly options: TcpOptions,
    deps: TransportDeps,
  ) {
    super(deps);
    this.description = `tcp ${options.host}:${options.port}`;
  }

  protected connect(lost: (err: ReceiverError) => void): Promise<Connection> {
    const endpoint = this.description;
    return new Promise<Connection>((resolve, reject) => {
      const socket = net.connect({ host: this.options.host, port: this.options.port });
      let connected = false;
      let closing = false;
      const cancelTimeout = this.deps.timers.schedule(this.options.connectTimeoutMs ?? 5000, () => {
        if (connected) return;
        socket.destroy();
        reject(new ReceiverError('TIMEOUT', `${endpoint}: connect timed out`, { port: endpoint }));
      });
      socket.setNoDelay(true);
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (!connected) {
          cancelTimeout();
          reject(classifySocketError(endpoint, err));
          return;
        }
        this.deps.logger.warn({ port: endpoint, err: err.message }, 'socket error');
      });
      socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
      socket.on('close', () => {
        if (!connected || closing) return;
        lost(new ReceiverError('PORT_CLOSED', `${endpoint} closed the connection`, { port: endpoint }));
      });
      socket.once('connect', () => {
        connected = true;
        cancelTimeout();
        // Half-open connections through NATs and 4G routers: let the OS notice a dead peer.
        socket.setKeepAlive(true, 15_000);
        resolve({
          write: (bytes) =>
            new Promise<void>((res, rej) => {
              if (socket.destroyed) {
                rej(new ReceiverError('PORT_CLOSED', `${endpoint} is closed`, { port: endpoint }));
                return;
              }
              socket.write(bytes, (err) =>
                err ? rej(classifySocketError(endpoint, err as NodeJS.ErrnoException)) : res(),
              );
            }),
          close: () =>
            new Promise<void>((res) => {
              closing = true;
              if (socket.destroyed) {
                res();
                return;
              }
              socket.once('close', () => res());
              socket.destroy();
            }),
        });
      });
    });
  }
}
