import fc from 'fast-check';
import t from 'tap';
import { MAX_PAYLOAD_BYTES } from '../../protocol/limits.js';
import { Ack } from '../../protocol/messages/ack.js';
import { decodePayload, MAX_ISSUES } from '../../protocol/messages/decode.js';
import { MESSAGE_SCHEMAS, messageJsonSchema, schemaForTopic } from '../../protocol/messages/index.js';
import { TOPIC_KINDS } from '../../protocol/topics.js';

const enc = (s: string) => new TextEncoder().encode(s);
const ACK = '{"storeId":"0123456789abcdef","seq":4}';

t.test('a valid payload decodes to a typed value, from bytes or a string', async (t) => {
  t.same(decodePayload(Ack, enc(ACK)), { ok: true, value: { storeId: '0123456789abcdef', seq: 4 } });
  t.same(decodePayload(Ack, ACK), { ok: true, value: { storeId: '0123456789abcdef', seq: 4 } });
  t.same(decodePayload(Ack, Buffer.from(ACK)), { ok: true, value: { storeId: '0123456789abcdef', seq: 4 } });
});

t.test('the size cap is checked on bytes, before parsing', async (t) => {
  t.equal(MAX_PAYLOAD_BYTES, 256 * 1024);
  const padded = (n: number) => `${ACK}${' '.repeat(n - ACK.length)}`;
  t.match(decodePayload(Ack, padded(MAX_PAYLOAD_BYTES)), { ok: true }, 'exactly at the cap');
  t.match(decodePayload(Ack, padded(MAX_PAYLOAD_BYTES + 1)), { ok: false, error: { code: 'TOO_LARGE' } });
  // 90 000 three-byte characters = 270 000 bytes: over the cap although under it in UTF-16 units.
  t.match(decodePayload(Ack, `"${'农'.repeat(90_000)}"`), { ok: false, error: { code: 'TOO_LARGE' } });
  t.match(decodePayload(Ack, ACK, { maxBytes: 10 }), {
    ok: false,
    error: { code: 'TOO_LARGE', message: /cap is 10/ },
  });
  // Not JSON at all, but oversized: refused as TOO_LARGE without being parsed.
  t.match(decodePayload(Ack, new Uint8Array(MAX_PAYLOAD_BYTES + 1)), {
    ok: false,
    error: { code: 'TOO_LARGE' },
  });
});

t.test('not UTF-8 or not JSON is NOT_JSON', async (t) => {
  t.match(decodePayload(Ack, new Uint8Array([0x7b, 0xff, 0x7d])), { ok: false, error: { code: 'NOT_JSON' } });
  t.match(decodePayload(Ack, '{"storeId":'), { ok: false, error: { code: 'NOT_JSON' } });
  t.match(decodePayload(Ack, ''), { ok: false, error: { code: 'NOT_JSON' } });
});

t.test('schema failures are INVALID with located issues, capped', async (t) => {
  const r = decodePayload(Ack, '{"storeId":"0123456789abcdef","seq":-1}');
  t.match(r, { ok: false, error: { code: 'INVALID', message: /^seq: / } });
  if (!r.ok)
    t.same(
      r.error.issues?.map((i) => i.path),
      ['seq'],
    );
  const many = decodePayload(
    MESSAGE_SCHEMAS.lineup,
    JSON.stringify({ version: 1, issuedAt: 'x', services: Array(50).fill({}) }),
  );
  t.match(many, { ok: false, error: { code: 'INVALID', message: /\(\+\d+ more\)/ } });
  if (!many.ok) t.equal(many.error.issues?.length, MAX_ISSUES);
  t.match(decodePayload(Ack, '[]'), { ok: false, error: { code: 'INVALID', issues: [{ path: '(root)' }] } });
  t.match(decodePayload(Ack, '{"__proto__":{"seq":1},"storeId":"0123456789abcdef","seq":1}'), {
    ok: false,
    error: { code: 'INVALID' },
  });
});

t.test('every topic has a schema, also as JSON Schema for third parties', async (t) => {
  for (const kind of TOPIC_KINDS) t.ok(schemaForTopic(kind), kind);
  for (const name of Object.keys(MESSAGE_SCHEMAS) as Array<keyof typeof MESSAGE_SCHEMAS>) {
    const js = messageJsonSchema(name);
    t.match(js, { $schema: /json-schema\.org/ }, name);
    t.ok(JSON.stringify(js).length > 100, `${name} JSON Schema has content`);
  }
  t.match(messageJsonSchema('ack'), {
    type: 'object',
    required: ['storeId', 'seq'],
    additionalProperties: false,
  });
});

t.test('decodePayload never throws, whatever the bytes, for every message schema', async () => {
  const schemas = Object.values(MESSAGE_SCHEMAS);
  fc.assert(
    fc.property(fc.constantFrom(...schemas), fc.uint8Array({ maxLength: 512 }), (schema, bytes) => {
      const r = decodePayload(schema, bytes);
      return r.ok === true || ['TOO_LARGE', 'NOT_JSON', 'INVALID'].includes(r.error.code);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...schemas), fc.jsonValue({ maxDepth: 4 }), (schema, value) => {
      const r = decodePayload(schema, JSON.stringify(value) ?? 'null');
      return r.ok === true || r.error.code === 'INVALID';
    }),
    { numRuns: 3000 },
  );
});
