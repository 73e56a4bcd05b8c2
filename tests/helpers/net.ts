/** Free ports for tests: bind port 0, read the port the OS chose, release it. */
import dgram from 'node:dgram';
import net from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A UDP port that was free a moment ago on 127.0.0.1. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Count UDP datagrams and bytes arriving on `port` (a stand-in for a recorder listening to a receiver). */
export interface UdpSink {
  port: number;
  readonly datagrams: number;
  readonly bytes: number;
  /** Resolves when at least `n` datagrams have arrived since the sink opened. */
  waitFor(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function openUdpSink(port = 0): Promise<UdpSink> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    let datagrams = 0;
    let bytes = 0;
    const waiters: { n: number; resolve: () => void }[] = [];
    socket.on('message', (msg) => {
      datagrams++;
      bytes += msg.length;
      for (const w of waiters.splice(0)) {
        if (datagrams >= w.n) w.resolve();
        else waiters.push(w);
      }
    });
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      resolve({
        port: socket.address().port,
        get datagrams() {
          return datagrams;
        },
        get bytes() {
          return bytes;
        },
        waitFor(n, timeoutMs) {
          if (datagrams >= n) return Promise.resolve();
          return new Promise<void>((res, rej) => {
            const timer = setTimeout(
              () => rej(new Error(`only ${datagrams}/${n} datagrams within ${timeoutMs} ms`)),
              timeoutMs,
            );
            waiters.push({
              n,
              resolve: () => {
                clearTimeout(timer);
                res();
              },
            });
          });
        },
        close: () => new Promise<void>((res) => socket.close(() => res())),
      });
    });
  });
}
