/**
 * RX8200 request and reply grammar on top of the framing in frame.ts. Both directions are exported:
 * the driver encodes requests and decodes replies; the simulator does the opposite with the same code,
 * so the two cannot drift.
 *
 * Requests (manual ST.TS.EXXXXX.1 §4.1.1):
 *     CMD;SUB_                      status request, e.g. `OPR;QUA_`
 *     CMD;SUB=params_               set command, e.g. `SER;SEL=00001_`
 *     CMD;SUB-K1=v1-K2=v2…_         grouped command, e.g. `TUN;GRP-FRQ=…-SYM=275000_`
 * CMD and SUB are three characters (letters or digits: the manual has sub-commands such as `5VS`,
 * `RL1`, `A1L`). Grouped values cannot contain `-`, which separates them.
 *
 * Replies (manual §3.1 rules 2–3, §4.2.1, §4.6):
 *     ACK_                          accepted (NOT done: the IRD ACKs commands it then fails to carry out)
 *     NAK_                          unknown command/sub-command, bad format or value out of range
 *     NA2_ … NA8_                   grouped tune rejected, naming the field (GROUP_REJECTIONS)
 *     CMD;F1=v1_F2=v2_…             data, e.g. `OPR;SIG=123_EBN=+08.4_BER=25E-7_` (QUA response)
 * Data replies are documented in the manual with the same `\ddd:` address and `$hh` checksum as
 * requests. ASSUMPTION (the available manual pages name ACK/NAK/NAx but do not print their framing):
 * acknowledgements are framed the same way, as `\ddd:ACK_$hh<CR>`. Field values cannot contain `_`.
 */
import {
  assertAddress,
  type EncodeOptions,
  encodeFrame,
  Rx8200CodecError,
  type Rx8200Frame,
} from './frame.js';

const CODE3 = /^[A-Z0-9]{3}$/;

/** A request without its address: what the command builders in commands.ts return. */
export interface Rx8200Command {
  /** Main command, e.g. `TUN`. */
  command: string;
  /** Sub-command, e.g. `GRP`. */
  sub: string;
  /** Parameter of a set command (`SUB=params`). Absent for status requests and grouped commands. */
  params?: string;
  /** Fields of a grouped command (`SUB-K=v-K=v`), in wire order. */
  group?: ReadonlyArray<Rx8200Field>;
}

/** A request addressed to one IRD. */
export interface Rx8200Request extends Rx8200Command {
  /** IRD address 0–999. */
  address: number;
}

/** One `NAME=value` pair of a grouped request or a data reply. */
export interface Rx8200Field {
  name: string;
  value: string;
}

/** The negative acknowledgements: plain NAK, and the grouped-tune set NA2–NA8. */
export const NAK_CODES = ['NAK', 'NA2', 'NA3', 'NA4', 'NA5', 'NA6', 'NA7', 'NA8'] as const;
export type NakCode = (typeof NAK_CODES)[number];

/** Which grouped-tune field an NA2–NA8 rejects, and how. */
export interface GroupRejection {
  /** The offending field; `P??` for NA6 (a field starting with P that is neither PWR nor POL). */
  field: 'PWR' | 'POL' | 'FEC' | 'P??';
  problem: 'missing' | 'incorrect' | 'unknown';
  /** The manual's description. */
  description: string;
}

/** NA2–NA8, as listed in the manual's "GRP Sub-Command Acknowledgement Messages" (§4.2.1). */
export const GROUP_REJECTIONS: Readonly<Record<Exclude<NakCode, 'NAK'>, GroupRejection>> = {
  NA2: { field: 'PWR', problem: 'missing', description: 'PWR payload not found' },
  NA3: { field: 'PWR', problem: 'incorrect', description: 'PWR payload incorrect' },
  NA4: { field: 'POL', problem: 'missing', description: 'POL payload not found' },
  NA5: { field: 'POL', problem: 'incorrect', description: 'POL payload incorrect' },
  NA6: {
    field: 'P??',
    problem: 'unknown',
    description: 'grouped sub-command starts with P but is not PWR or POL',
  },
  NA7: { field: 'FEC', problem: 'missing', description: 'FEC payload not found' },
  NA8: { field: 'FEC', problem: 'incorrect', description: 'FEC payload incorrect' },
};

/** Everything an IRD can answer. */
export type Rx8200Reply =
  | { kind: 'ack'; address: number }
  | { kind: 'nak'; address: number; code: NakCode; rejection: GroupRejection | null }
  | { kind: 'data'; address: number; command: string; fields: ReadonlyArray<Rx8200Field> };

function assertCode3(what: string, value: string): void {
  if (!CODE3.test(value)) {
    throw new Rx8200CodecError(
      'out-of-range',
      `${what} must be 3 characters A–Z/0–9, got ${JSON.stringify(value)}`,
    );
  }
}

function assertText(what: string, value: string, forbidden: string): void {
  if (value.length === 0) throw new Rx8200CodecError('out-of-range', `${what} must not be empty`);
  for (const ch of forbidden) {
    if (value.includes(ch)) {
      throw new Rx8200CodecError('out-of-range', `${what} must not contain ${JSON.stringify(ch)}: ${value}`);
    }
  }
}

/** The body (`CMD;SUB…_`) of a request. */
export function requestBody(req: Rx8200Command): string {
  assertCode3('command', req.command);
  assertCode3('sub-command', req.sub);
  if (req.params !== undefined && req.group !== undefined) {
    throw new Rx8200CodecError('out-of-range', 'a request has either params or group fields, not both');
  }
  let body = `${req.command};${req.sub}`;
  if (req.params !== undefined) {
    assertText('params', req.params, '');
    body += `=${req.params}`;
  } else if (req.group !== undefined) {
    if (req.group.length === 0) throw new Rx8200CodecError('out-of-range', 'a grouped command needs fields');
    for (const f of req.group) {
      assertCode3('group field name', f.name);
      assertText(`group field ${f.name}`, f.value, '-_');
      body += `-${f.name}=${f.value}`;
    }
  }
  return `${body}_`;
}

/** Encodes a request, CR included. Throws `Rx8200CodecError` on anything the wire cannot carry. */
export function encodeRequest(req: Rx8200Request, options: EncodeOptions = {}): Buffer {
  return encodeFrame({ address: req.address, body: requestBody(req) }, options);
}

const REQUEST = /^([A-Z0-9]{3});([A-Z0-9]{3})([\s\S]*)_$/;
const GROUP_FIELD = /^([A-Z0-9]{3})=([^-_]+)$/;

/** Interprets a frame as a request (what the simulator does). Throws `Rx8200CodecError('bad-request')`. */
export function decodeRequest(frame: Rx8200Frame): Rx8200Request {
  const m = REQUEST.exec(frame.body);
  if (!m) throw new Rx8200CodecError('bad-request', `not "CMD;SUB…_": ${frame.body}`);
  const [, command = '', sub = '', rest = ''] = m;
  if (rest === '') return { address: frame.address, command, sub };
  if (rest.startsWith('=')) {
    const params = rest.slice(1);
    if (params === '') throw new Rx8200CodecError('bad-request', `empty parameter: ${frame.body}`);
    return { address: frame.address, command, sub, params };
  }
  if (rest.startsWith('-')) {
    const group: Rx8200Field[] = [];
    for (const part of rest.slice(1).split('-')) {
      const g = GROUP_FIELD.exec(part);
      if (!g) throw new Rx8200CodecError('bad-request', `bad grouped field ${JSON.stringify(part)}`);
      group.push({ name: g[1] ?? '', value: g[2] ?? '' });
    }
    return { address: frame.address, command, sub, group };
  }
  throw new Rx8200CodecError('bad-request', `expected "_", "=" or "-" after the sub-command: ${frame.body}`);
}

/** The body of a reply. */
export function replyBody(reply: Rx8200Reply): string {
  switch (reply.kind) {
    case 'ack':
      return 'ACK_';
    case 'nak':
      if (!(NAK_CODES as readonly string[]).includes(reply.code)) {
        throw new Rx8200CodecError('out-of-range', `unknown NAK code ${reply.code}`);
      }
      return `${reply.code}_`;
    case 'data': {
      assertCode3('reply command', reply.command);
      if (reply.fields.length === 0) throw new Rx8200CodecError('out-of-range', 'a data reply needs fields');
      let body = `${reply.command};`;
      for (const f of reply.fields) {
        assertCode3('reply field name', f.name);
        if (f.value.includes('_')) {
          throw new Rx8200CodecError('out-of-range', `reply field ${f.name} must not contain "_"`);
        }
        body += `${f.name}=${f.value}_`;
      }
      return body;
    }
  }
}

/** Encodes a reply, CR included (what the simulator writes). */
export function encodeReply(reply: Rx8200Reply, options: EncodeOptions = {}): Buffer {
  assertAddress(reply.address);
  return encodeFrame({ address: reply.address, body: replyBody(reply) }, options);
}

const DATA_REPLY = /^([A-Z0-9]{3});(.+_)$/;
const REPLY_FIELD = /^([A-Z0-9]{3})=(.*)$/;

/** Interprets a frame as a reply (what the driver does). Throws `Rx8200CodecError('bad-reply')`. */
export function decodeReply(frame: Rx8200Frame): Rx8200Reply {
  const { address, body } = frame;
  if (body === 'ACK_') return { kind: 'ack', address };
  const code = body.slice(0, -1);
  if (body.length === 4 && (NAK_CODES as readonly string[]).includes(code)) {
    const nak = code as NakCode;
    return { kind: 'nak', address, code: nak, rejection: nak === 'NAK' ? null : GROUP_REJECTIONS[nak] };
  }
  const m = DATA_REPLY.exec(body);
  if (!m) throw new Rx8200CodecError('bad-reply', `not ACK, NAK, NA2–NA8 or "CMD;F=v_…": ${body}`);
  const fields: Rx8200Field[] = [];
  for (const part of (m[2] ?? '').slice(0, -1).split('_')) {
    const f = REPLY_FIELD.exec(part);
    if (!f) throw new Rx8200CodecError('bad-reply', `bad reply field ${JSON.stringify(part)} in ${body}`);
    fields.push({ name: f[1] ?? '', value: f[2] ?? '' });
  }
  return { kind: 'data', address, command: m[1] ?? '', fields };
}

/** The value of a data reply's field, or a typed error naming what is missing. */
export function requireField(reply: Rx8200Reply, name: string): string {
  if (reply.kind !== 'data') {
    throw new Rx8200CodecError(
      'bad-reply',
      `expected a data reply with ${name}, got ${reply.kind.toUpperCase()}`,
    );
  }
  const f = reply.fields.find((x) => x.name === name);
  if (!f) throw new Rx8200CodecError('bad-value', `reply ${reply.command} has no ${name} field`);
  return f.value;
}

/** The value of a data reply's field, or undefined. */
export function optionalField(reply: Rx8200Reply, name: string): string | undefined {
  return reply.kind === 'data' ? reply.fields.find((x) => x.name === name)?.value : undefined;
}
