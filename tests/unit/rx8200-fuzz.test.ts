/**
 * Fuzzing the RX8200 parser and codec (fast-check, fixed seeds so a failure reproduces): whatever
 * bytes arrive, the parser never throws and never emits a frame that fails validation; valid traffic
 * survives any chunking.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  decodeFrame,
  decodeReply,
  decodeRequest,
  encodeFrame,
  encodeReply,
  encodeRequest,
  GROUP_REJECTIONS,
  NAK_CODES,
  Rx8200CodecError,
  type Rx8200Frame,
  Rx8200Parser,
  type Rx8200Reply,
  type Rx8200Request,
} from '../../protocol/rx8200/index.js';

const SEED = 0x8200;

/** A frame is valid iff decoding its raw text again gives the same frame and re-encoding reproduces it. */
function assertValid(f: Rx8200Frame): void {
  const again = decodeFrame(f.raw);
  if (again.address !== f.address || again.body !== f.body || again.checksummed !== f.checksummed) {
    throw new Error(`frame does not re-validate: ${JSON.stringify(f)}`);
  }
  const re = encodeFrame(f, { checksum: f.checksummed }).toString('latin1');
  if (re !== `${f.raw}\r`)
    throw new Error(`re-encoding differs: ${JSON.stringify(re)} vs ${JSON.stringify(f.raw)}`);
}

/** Typed errors are fine; anything else escaping the decoders is a crash. */
function decodeEither(f: Rx8200Frame): void {
  for (const decode of [decodeRequest, decodeReply]) {
    try {
      decode(f);
    } catch (err) {
      if (!(err instanceof Rx8200CodecError)) throw err;
    }
  }
}

const code3 = fc.stringMatching(/^[A-Z0-9]{3}$/);
const value = (forbid: RegExp) =>
  fc
    .string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 12,
    })
    .filter((s) => !forbid.test(s));
const address = fc.integer({ min: 0, max: 999 });

const request: fc.Arbitrary<Rx8200Request> = fc.oneof(
  fc.record({ address, command: code3, sub: code3 }),
  fc.record({ address, command: code3, sub: code3, params: value(/[\\$]/) }),
  fc.record({
    address,
    command: code3,
    sub: code3,
    group: fc.array(fc.record({ name: code3, value: value(/[\\$_-]/) }), { minLength: 1, maxLength: 8 }),
  }),
);

const reply: fc.Arbitrary<Rx8200Reply> = fc.oneof(
  fc.record({ kind: fc.constant('ack' as const), address }),
  fc.constantFrom(...NAK_CODES).chain((code) =>
    fc.record({
      kind: fc.constant('nak' as const),
      address,
      code: fc.constant(code),
      rejection: fc.constant(code === 'NAK' ? null : GROUP_REJECTIONS[code]),
    }),
  ),
  fc.record({
    kind: fc.constant('data' as const),
    address,
    command: code3,
    fields: fc.array(fc.record({ name: code3, value: value(/[\\$_]/) }), { minLength: 1, maxLength: 6 }),
  }),
);

t.test('random bytes: the parser never throws and every frame it emits is valid', async (t) => {
  let emitted = 0;
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          // bias towards the protocol's own alphabet so frames actually get close to valid
          fc
            .array(fc.constantFrom(...'\\:;=_-$\r0123456789ABCDEF SYRQ'.split('')), { maxLength: 120 })
            .map((cs) => Buffer.from(cs.join(''), 'latin1')),
        ),
        { maxLength: 8 },
      ),
      fc.boolean(),
      (chunks, requireChecksum) => {
        const p = new Rx8200Parser({ requireChecksum, maxFrameBytes: 128 });
        let total = 0;
        for (const chunk of chunks) {
          total += chunk.length;
          for (const f of p.push(chunk)) {
            emitted++;
            assertValid(f);
            if (requireChecksum && !f.checksummed) throw new Error('unchecksummed frame emitted');
            decodeEither(f);
          }
        }
        // every byte is accounted for: in a frame, dropped, pending, or a CR/LF between frames
        if (p.droppedBytes > total) throw new Error('dropped more bytes than were pushed');
      },
    ),
    { seed: SEED, numRuns: 3000 },
  );
  t.pass(`3000 random streams, ${emitted} frames emitted, all valid`);
});

t.test(
  'mutated valid frames: anything emitted is still valid, and a flipped byte is never accepted silently',
  async (t) => {
    let accepted = 0;
    fc.assert(
      fc.property(
        request,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (req, mutations) => {
          const original = encodeRequest(req);
          const bytes = Buffer.from(original);
          for (const [pos, b] of mutations) bytes[pos % bytes.length] = b;
          const p = new Rx8200Parser();
          for (const f of p.push(bytes)) {
            assertValid(f);
            decodeEither(f);
            accepted++;
          }
        },
      ),
      { seed: SEED + 1, numRuns: 3000 },
    );
    t.pass(
      `3000 mutated frames, ${accepted} still parsed as valid frames (e.g. mutations that changed nothing)`,
    );
  },
);

t.test('a single changed byte in a checksummed body is always caught', async (t) => {
  fc.assert(
    fc.property(request, fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (req, pos, b) => {
      const bytes = Buffer.from(encodeRequest(req));
      // positions 5 .. before "$hh\r": the body, covered by the checksum
      const i = 5 + (pos % (bytes.length - 9));
      if (bytes[i] === b) return;
      bytes[i] = b;
      const frames = new Rx8200Parser().push(bytes);
      const same = frames.filter((f) => f.checksummed && f.address === req.address);
      if (same.length > 0 && b !== 0x5c && b !== 0x24) {
        throw new Error(`corrupted frame accepted: ${bytes.toString('latin1')}`);
      }
    }),
    { seed: SEED + 2, numRuns: 3000 },
  );
  t.pass('no single-byte corruption slipped through');
});

t.test('valid requests and replies survive any chunking, with garbage around them', async (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          request.map((r) => ({ r })),
          reply.map((y) => ({ y })),
        ),
        { minLength: 1, maxLength: 6 },
      ),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.uint8Array({ maxLength: 20 }).map((g) => g.filter((b) => b !== 0x5c)),
      (messages, cuts, garbage) => {
        const encoded = messages.map((m) => ('r' in m ? encodeRequest(m.r) : encodeReply(m.y)));
        const stream = Buffer.concat([Buffer.from(garbage), ...encoded]);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const p = new Rx8200Parser();
        const frames: Rx8200Frame[] = [];
        let prev = 0;
        for (const c of [...points, stream.length]) {
          frames.push(...p.push(stream.subarray(prev, c)));
          prev = c;
        }
        if (frames.length !== messages.length)
          throw new Error(`expected ${messages.length}, got ${frames.length}`);
        messages.forEach((m, i) => {
          const f = frames[i] as Rx8200Frame;
          const decoded = 'r' in m ? decodeRequest(f) : decodeReply(f);
          if (JSON.stringify(decoded) !== JSON.stringify('r' in m ? m.r : m.y)) {
            throw new Error(`round trip differs: ${JSON.stringify(decoded)}`);
          }
        });
      },
    ),
    { seed: SEED + 3, numRuns: 2000 },
  );
  t.pass('2000 random conversations round-tripped');
});
