/**
 * Incremental RX8200 parser (protocol/rx8200/parser.ts): raw bytes in, as a serial port delivers them.
 */
import t from 'tap';
import {
  decodeReply,
  encodeReply,
  encodeRequest,
  qualityReply,
  qualityRequest,
  type Rx8200Frame,
  type Rx8200ParseError,
  Rx8200Parser,
  tune,
  tuningFromTransponder,
} from '../../protocol/rx8200/index.js';

const grp = encodeRequest({
  address: 2,
  ...(tune(
    tuningFromTransponder({
      frequencyMHz: 3840,
      polarisation: 'H',
      symbolRateKsps: 27500,
      system: 'DVB-S',
      modulation: 'QPSK',
      fec: '3/4',
      lnbLoMHz: 5150,
      rolloff: '0.35',
      lnbPower: true,
      input: 1,
    }),
  ).at(-1) as NonNullable<ReturnType<typeof tune>[number]>),
});
const qua = encodeReply(qualityReply(2, { level0to255: 201, cnDb: 9.4, ber: 2.5e-7 }));

const bodies = (frames: Rx8200Frame[]) => frames.map((f) => f.body);

t.test('a frame split at every possible point is read exactly once', async (t) => {
  for (const frame of [grp, qua]) {
    for (let cut = 0; cut <= frame.length; cut++) {
      const p = new Rx8200Parser();
      const out = [...p.push(frame.subarray(0, cut)), ...p.push(frame.subarray(cut))];
      t.equal(out.length, 1, `cut at ${cut}`);
      t.equal(p.droppedBytes, 0, `nothing dropped at cut ${cut}`);
    }
  }
  const p = new Rx8200Parser();
  const out: Rx8200Frame[] = [];
  for (const b of qua) out.push(...p.push(Uint8Array.of(b)));
  t.same(bodies(out), ['OPR;SIG=201_EBN=+09.4_BER=25E-7_'], 'one byte at a time');
  t.same(decodeReply(out[0] as Rx8200Frame), decodeReply(new Rx8200Parser().push(qua)[0] as Rx8200Frame));
});

t.test('two frames in one chunk come out in order', async (t) => {
  const p = new Rx8200Parser();
  const out = p.push(Buffer.concat([grp, qua]));
  t.equal(out.length, 2);
  t.match(out[0]?.body, /^TUN;GRP-/);
  t.match(out[1]?.body, /^OPR;SIG=/);
  t.equal(p.stats.frames, 2);
});

t.test('garbage before a frame is dropped and counted; line endings between frames are not', async (t) => {
  const p = new Rx8200Parser();
  const out = p.push(
    Buffer.concat([Buffer.from([0x00, 0xff, 0x41, 0x5f, 0x24]), qua, Buffer.from('\r\n\n'), qua]),
  );
  t.equal(out.length, 2);
  t.equal(p.droppedBytes, 5);
});

t.test('a bad checksum is dropped, counted and reported, and the next frame still parses', async (t) => {
  const errors: Rx8200ParseError[] = [];
  const p = new Rx8200Parser({ onError: (e) => errors.push(e) });
  const corrupt = Buffer.from(qua);
  corrupt[8] = 0x39; // one digit of SIG changed: the checksum no longer matches
  const out = p.push(Buffer.concat([corrupt, qua]));
  t.equal(out.length, 1, 'only the intact frame is emitted');
  t.equal(p.stats.badChecksums, 1);
  t.equal(p.droppedBytes, corrupt.length);
  t.equal(errors.length, 1);
  t.equal(errors[0]?.code, 'bad-checksum');
  t.equal(Buffer.from(errors[0]?.raw ?? []).toString('latin1'), corrupt.subarray(0, -1).toString('latin1'));
});

t.test('an overlong line is dropped up to the next start character', async (t) => {
  const errors: Rx8200ParseError[] = [];
  const p = new Rx8200Parser({ maxFrameBytes: 64, onError: (e) => errors.push(e) });
  const long = Buffer.from(`\\000:${'A'.repeat(200)}_\r`, 'latin1');
  const out = p.push(Buffer.concat([long, qua]));
  t.same(bodies(out), ['OPR;SIG=201_EBN=+09.4_BER=25E-7_']);
  t.equal(p.stats.overlongLines, 1);
  t.equal(p.droppedBytes, long.length);
  t.equal(errors[0]?.code, 'overlong');
  t.equal(errors[0]?.raw.length, 63);
});

t.test('a frame exactly at the size limit is accepted, one byte more is not', async (t) => {
  const body = (n: number) => `${'A'.repeat(n)}_`;
  // `\ddd:` (5) + body + CR (1) = 64 bytes
  const exact = Buffer.from(`\\000:${body(57)}\r`, 'latin1');
  t.equal(exact.length, 64);
  const p = new Rx8200Parser({ maxFrameBytes: 64 });
  t.equal(p.push(exact).length, 1);
  t.equal(p.push(Buffer.from(`\\000:${body(58)}\r`, 'latin1')).length, 0);
  t.equal(p.stats.overlongLines, 1);
});

t.test('a start character inside a frame resyncs: the partial frame is dropped', async (t) => {
  const p = new Rx8200Parser();
  const partial = qua.subarray(0, 12);
  const out = p.push(Buffer.concat([partial, qua]));
  t.equal(out.length, 1);
  t.equal(p.stats.truncatedFrames, 1);
  t.equal(p.droppedBytes, partial.length);
});

t.test('a complete line with bad framing is dropped and counted as malformed', async (t) => {
  const p = new Rx8200Parser();
  t.same(p.push('\\00:SYS;SRQ_\r\\000:SYS;SRQ\r'), []);
  t.equal(p.stats.malformedFrames, 2);
  t.equal(p.droppedBytes, '\\00:SYS;SRQ_\r\\000:SYS;SRQ\r'.length);
});

t.test('requireChecksum drops frames that carry none', async (t) => {
  const p = new Rx8200Parser({ requireChecksum: true });
  const plain = encodeRequest({ address: 0, ...qualityRequest() }, { checksum: false });
  t.same(p.push(plain), []);
  t.equal(p.stats.malformedFrames, 1);
  t.equal(p.push(encodeRequest({ address: 0, ...qualityRequest() })).length, 1);
});

t.test('reset() forgets a half-received frame so it cannot glue onto the next reply', async (t) => {
  const p = new Rx8200Parser();
  t.same(p.push(qua.subarray(0, 10)), []);
  t.equal(p.pendingBytes, 10);
  p.reset();
  t.equal(p.pendingBytes, 0);
  t.equal(p.droppedBytes, 10);
  // the tail of the old reply arrives late: it is garbage now, not half of a frame
  t.same(p.push(qua.subarray(10)), []);
  t.equal(p.push(qua).length, 1);
});

t.test('string chunks are read as Latin-1 bytes', async (t) => {
  const p = new Rx8200Parser();
  t.same(bodies(p.push('\\000:SYS;SRQ_$B5\r')), ['SYS;SRQ_']);
});

t.test('bad options are refused', async (t) => {
  t.throws(() => new Rx8200Parser({ maxFrameBytes: 4 }), RangeError);
  t.throws(() => new Rx8200Parser({ maxFrameBytes: 1.5 }), RangeError);
});
