/**
 * Where a simulated receiver's serial line comes out: one end of a pty pair (socat links the other end
 * to the port the driver opens) or a TCP listener speaking raw bytes like a ser2net device server
 * (DOMAIN.md §3). Both give the simulator the same `SimLine`.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';

/** A byte line to the controller (the driver or a technician's terminal). */
export interface SimLine {
  write(bytes: Uint8Array): void;
  onData(handler: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

/** Open one end of a pty pair (or a real serial port, to put the simulator on a physical cable). */
export async function openPtyLine(path: string, baudRate: number, log: Logger): Promise<SimLine> {
  // lock:false — the other end of a socat pair is a different device, and a physical test cable may be
  // shared with a monitoring tap; the simulator never competes for its own line.
  const port = new SerialPort({ path, baudRate, autoOpen: false, lock: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(new Error(`cannot open ${path}: ${err.message}`)) : resolve()));
  });
  port.on('error', (err: Error) => log.warn({ err: err.message, path }, 'simulator line error'));
  const handlers: ((chunk: Buffer) => void)[] = [];
  port.on('data', (chunk: Buffer) => {
    for (const h of handlers) h(chunk);
  });
  return {
    write: (bytes) => {
      if (port.isOpen) port.write(Buffer.from(bytes));
    },
    onData: (h) => handlers.push(h),
    close: () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) resolve();
        else port.close(() => resolve());
      }),
  };
}

/** A TCP listener that hands its (single) connection's bytes to the simulator. */
export interface TcpLine extends SimLine {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Drop the current connection, as a device server reboot would (tests reconnect through this). */
  dropConnection(): void;
}

/**
 * Listen like a ser2net raw port: one controller at a time — a serial line has one master, and a second
 * connection is refused (closed at once) rather than interleaving bytes on a half-duplex receiver.
 */
export function listenTcpLine(port: number, host: string, log: Logger): Promise<TcpLine> {
  const handlers: ((chunk: Buffer) => void)[] = [];
  let current: net.Socket | null = null;
  const adopt = (socket: net.Socket): void => {
    current = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const h of handlers) h(chunk);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (current === socket) current = null;
    });
  };
  const server = net.createServer((socket) => {
    if (!current || current.destroyed) {
      adopt(socket);
      return;
    }
    // The previous controller may have just closed (its FIN not processed yet): give it a moment.
    setTimeout(() => {
      if (!current || current.destroyed) {
        adopt(socket);
        return;
      }
      log.warn({ remote: socket.remoteAddress }, 'second controller refused: line in use');
      socket.destroy();
    }, 100);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      resolve({
        port: bound,
        write: (bytes) => {
          if (current && !current.destroyed) current.write(bytes);
        },
        onData: (h) => handlers.push(h),
        dropConnection: () => current?.destroy(),
        close: () =>
          new Promise<void>((res) => {
            current?.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
