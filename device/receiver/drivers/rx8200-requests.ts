/**
 * RX8200 request/reply plumbing on the generic link: addressing, which reply answers which request, ACK vs
 * data vs NAK, and decoding failures as typed `ReceiverError`s. The driver (rx8200.ts) builds on this.
 */
import {
  decodeFrame,
  decodeReply,
  decodeRequest,
  encodeRequest,
  nakReason,
  Rx8200CodecError,
  type Rx8200Command,
  type Rx8200Frame,
  Rx8200Parser,
  type Rx8200Reply,
} from '../../../protocol/rx8200/index.js';
import { ReceiverError } from '../driver.js';
import type { FrameCodec, Link } from '../link.js';

/** The codec as the generic link needs it. */
export const rx8200FrameCodec: FrameCodec<Rx8200Frame> = {
  createParser(onDrop) {
    const parser = new Rx8200Parser({ onError: (e) => onDrop(e) });
    return { push: (chunk) => parser.push(chunk), reset: () => parser.reset() };
  },
  isCorrupt: (drop) => drop.code === 'bad-checksum',
  describe: (frame) => frame.raw,
};

/** Which data reply answers each query (the reply's command field, see protocol/rx8200/replies.ts). */
const REPLY_COMMAND: Record<string, string> = {
  'OPR;QUA': 'OPR',
  'OPR;SRQ': 'OPR',
  'SYS;SRA': 'SYS',
  'SYS;SRQ': 'SYS',
  'TUN;SRQ': 'TUN',
  'DEC;SRQ': 'DEC',
  'SER;SRQ': 'SER',
  'ENQ;NAM': 'ENQ',
  'SYS;SRS': 'SRS',
};

/** Run a reply decoder; a reply that does not decode is a `PROTOCOL` error naming the command. */
export function decodeOrThrow<T>(command: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ReceiverError(
      'PROTOCOL',
      `${command}: unexpected reply (${(err as Error).message})`,
      { command },
      err,
    );
  }
}

/** Requests to one IRD address over one link. */
export class Rx8200Requests {
  constructor(
    private readonly link: Link<Rx8200Frame>,
    readonly address: number,
  ) {}

  /** A set command: must be ACKed (which still does not mean done, DOMAIN.md §3). */
  async set(cmd: Rx8200Command): Promise<void> {
    const reply = await this.exchange(cmd, null);
    if (reply.kind !== 'ack') {
      throw new ReceiverError('PROTOCOL', `${cmd.command};${cmd.sub}: expected ACK, got a data reply`, {
        command: `${cmd.command};${cmd.sub}`,
      });
    }
  }

  /** A query: must be answered with data. An ACK means the IRD does not implement it (DOMAIN.md §3). */
  async query(cmd: Rx8200Command): Promise<Rx8200Reply> {
    const name = `${cmd.command};${cmd.sub}`;
    const reply = await this.exchange(cmd, REPLY_COMMAND[name] ?? cmd.command);
    if (reply.kind === 'ack') {
      throw new ReceiverError('UNSUPPORTED', `${name}: the receiver ACKed a query it does not implement`, {
        command: name,
      });
    }
    return reply;
  }

  /**
   * Raw mode: `OPR;QUA`, `OPR;QUA_` or a whole frame `\002:OPR;QUA_[$hh]`. Validated, sent with a
   * checksum; the reply line is returned as received, NAK included.
   */
  async raw(line: string): Promise<string> {
    const text = line.trim();
    let address = this.address;
    let body = text;
    try {
      if (text.startsWith('\\')) {
        const frame = decodeFrame(text);
        address = frame.address;
        body = frame.body;
      }
      if (!body.endsWith('_')) body += '_';
      const req = decodeRequest({ address, body, checksummed: false, raw: text });
      const frame = await this.link.request({
        command: `${req.command};${req.sub}`,
        bytes: encodeRequest(req),
        accept: (f) => f.address === address,
      });
      return frame.raw;
    } catch (err) {
      if (err instanceof Rx8200CodecError) {
        throw new ReceiverError('INVALID', `not an RX8200 command: ${err.message}`, { command: text }, err);
      }
      throw err;
    }
  }

  /** One request/reply; NAK → `NAK` error naming the rejected field when the IRD says (NA2–NA8). */
  private async exchange(cmd: Rx8200Command, dataCommand: string | null): Promise<Rx8200Reply> {
    const name = `${cmd.command};${cmd.sub}`;
    const address = this.address;
    let bytes: Buffer;
    try {
      bytes = encodeRequest({ address, ...cmd });
    } catch (err) {
      throw new ReceiverError('INVALID', `${name}: ${(err as Error).message}`, { command: name }, err);
    }
    const frame = await this.link.request({
      command: name,
      bytes,
      accept: (f) => {
        // Another address on an RS-485 bus, or a late reply to an earlier query: not ours.
        if (f.address !== address) return false;
        try {
          const r = decodeReply(f);
          return r.kind !== 'data' || dataCommand === null || r.command === dataCommand;
        } catch {
          return false;
        }
      },
    });
    const reply = decodeReply(frame);
    if (reply.kind === 'nak') {
      throw new ReceiverError('NAK', `${name} refused: ${nakReason(reply)}`, {
        command: name,
        ...(reply.rejection ? { field: reply.rejection.field } : {}),
      });
    }
    return reply;
  }
}
