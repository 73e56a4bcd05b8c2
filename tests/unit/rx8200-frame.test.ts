/**
 * RX8200 framing and request/reply grammar (protocol/rx8200/frame.ts, messages.ts). The checksum
 * examples are the manual's (ST.TS.EXXXXX.1 §4.1.2), so a wrong checksum rule cannot pass.
 */
import t from 'tap';
import {
  checksum,
  decodeFrame,
  decodeReply,
  decodeRequest,
  encodeFrame,
  encodeReply,
  encodeRequest,
  GROUP_REJECTIONS,
  NAK_CODES,
  Rx8200CodecError,
  type Rx8200Reply,
  type Rx8200Request,
} from '../../protocol/rx8200/index.js';

const wire = (b: Buffer) => b.toString('latin1');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof Rx8200CodecError ? err.code : `not a codec error: ${String(err)}`;
  }
  return 'no error';
}

t.test('checksum matches every example printed in the manual', async (t) => {
  t.equal(checksum('\\000:SYS;SRQ_'), 0xb5);
  const examples = [
    '\\000:SYS;SRQ_$B5',
    '\\000:TUN;SRQ_$AD',
    '\\000:TUN;RFI=NO2_$A4',
    '\\000:SER;SEL=00001_$BC',
  ];
  for (const ex of examples) {
    const f = decodeFrame(`${ex}\r`);
    t.equal(f.address, 0, ex);
    t.ok(f.checksummed, `${ex} carries a verified checksum`);
  }
  t.equal(wire(encodeFrame({ address: 0, body: 'SYS;SRQ_' })), '\\000:SYS;SRQ_$B5\r');
  t.equal(
    wire(encodeRequest({ address: 0, command: 'SER', sub: 'SEL', params: '00001' })),
    '\\000:SER;SEL=00001_$BC\r',
  );
});

t.test('checksum covers bytes as Latin-1 and wraps at 256', async (t) => {
  t.equal(checksum(new Uint8Array([0xff, 0x02])), 0x01);
  t.equal(checksum('\u00ff\u0002'), 0x01);
  t.equal(checksum(''), 0);
});

t.test('frames without checksum are valid (the checksum is optional) and can be encoded', async (t) => {
  const b = encodeFrame({ address: 2, body: 'OPR;QUA_' }, { checksum: false });
  t.equal(wire(b), '\\002:OPR;QUA_\r');
  const f = decodeFrame(b);
  t.same(f, { address: 2, body: 'OPR;QUA_', checksummed: false, raw: '\\002:OPR;QUA_' });
});

t.test('decodeFrame rejects malformed frames with typed errors', async (t) => {
  t.equal(
    codeOf(() => decodeFrame('\\000:SYS;SRQ_$B4')),
    'bad-checksum',
  );
  t.equal(
    codeOf(() => decodeFrame('\\000:SYS;SRQ_$b5')),
    'bad-frame',
    'lower-case hex is not the manual format',
  );
  t.equal(
    codeOf(() => decodeFrame('\\000:SYS;SRQ_$B')),
    'bad-frame',
  );
  t.equal(
    codeOf(() => decodeFrame('\\000:SYS;SRQ_$B55')),
    'bad-frame',
  );
  t.equal(
    codeOf(() => decodeFrame('\\00:SYS;SRQ_')),
    'bad-frame',
    'two-digit address',
  );
  t.equal(
    codeOf(() => decodeFrame('\\0a0:SYS;SRQ_')),
    'bad-frame',
  );
  t.equal(
    codeOf(() => decodeFrame('\\000-SYS;SRQ_')),
    'bad-frame',
    'colon missing',
  );
  t.equal(
    codeOf(() => decodeFrame('000:SYS;SRQ_')),
    'bad-frame',
    'start character missing',
  );
  t.equal(
    codeOf(() => decodeFrame('\\000:SYS;SRQ')),
    'bad-frame',
    'body must end with _',
  );
  t.equal(
    codeOf(() => decodeFrame('\\000:_')),
    'bad-frame',
    'empty body',
  );
  t.equal(
    codeOf(() => decodeFrame('\\000:SYS;\u0007SRQ_')),
    'bad-character',
  );
  t.equal(
    codeOf(() => decodeFrame('\\000:SYS;\u00e9SRQ_')),
    'bad-character',
  );
  t.equal(
    codeOf(() => decodeFrame(`\\000:${'A'.repeat(300)}_`)),
    'overlong',
  );
});

t.test('encodeFrame refuses what the wire cannot carry', async (t) => {
  t.equal(
    codeOf(() => encodeFrame({ address: 1000, body: 'SYS;SRQ_' })),
    'out-of-range',
  );
  t.equal(
    codeOf(() => encodeFrame({ address: -1, body: 'SYS;SRQ_' })),
    'out-of-range',
  );
  t.equal(
    codeOf(() => encodeFrame({ address: 1.5, body: 'SYS;SRQ_' })),
    'out-of-range',
  );
  t.equal(
    codeOf(() => encodeFrame({ address: 0, body: 'SYS;SRQ' })),
    'bad-frame',
  );
  t.equal(
    codeOf(() => encodeFrame({ address: 0, body: 'SYS;S$Q_' })),
    'bad-character',
  );
  t.equal(
    codeOf(() => encodeFrame({ address: 0, body: 'SYS;S\\Q_' })),
    'bad-character',
  );
  t.equal(
    codeOf(() => encodeFrame({ address: 0, body: 'SYS;S\rQ_' })),
    'bad-character',
  );
  t.equal(
    codeOf(() => encodeFrame({ address: 0, body: `${'A'.repeat(260)}_` })),
    'overlong',
  );
});

t.test('requests round-trip in all three forms', async (t) => {
  const requests: Rx8200Request[] = [
    { address: 0, command: 'OPR', sub: 'QUA' },
    { address: 2, command: 'TUN', sub: 'PWR', params: 'OFF' },
    { address: 999, command: 'DEM', sub: 'BER', params: '10E-5' },
    { address: 17, command: 'VID', sub: '5VS', params: 'X_Y' },
    {
      address: 0,
      command: 'TUN',
      sub: 'GRP',
      group: [
        { name: 'FRQ', value: '030720' },
        { name: 'RFI', value: 'NO 1' },
        { name: 'FEC', value: '1/2' },
      ],
    },
  ];
  for (const req of requests) {
    t.same(decodeRequest(decodeFrame(encodeRequest(req))), req, wire(encodeRequest(req)));
  }
  t.equal(
    wire(encodeRequest(requests[4] as Rx8200Request, { checksum: false })),
    '\\000:TUN;GRP-FRQ=030720-RFI=NO 1-FEC=1/2_\r',
  );
});

t.test("the manual's grouped-tune example parses field by field", async (t) => {
  const line = '\\000:TUN;GRP-FRQ=1002-LNB=1003-POL=HOR-RFI=NO 1-PWR=OFF-MOD=QPS-FEC=1/2-SYM=027500_';
  const req = decodeRequest(decodeFrame(line));
  t.equal(req.command, 'TUN');
  t.equal(req.sub, 'GRP');
  t.same(
    req.group?.map((f) => `${f.name}=${f.value}`),
    ['FRQ=1002', 'LNB=1003', 'POL=HOR', 'RFI=NO 1', 'PWR=OFF', 'MOD=QPS', 'FEC=1/2', 'SYM=027500'],
  );
});

t.test('bad requests are typed errors', async (t) => {
  const bad = [
    'SYS_',
    'SY;SRQ_',
    'sys;srq_',
    'SYS;SRQX_',
    'SYS;SRQ=_',
    'TUN;GRP-_',
    'TUN;GRP-FRQ=1--LNB=2_',
    'TUN;GRP-FRQ_',
  ];
  for (const body of bad) {
    t.equal(
      codeOf(() => decodeRequest(decodeFrame(`\\000:${body}`))),
      'bad-request',
      body,
    );
  }
  t.equal(
    codeOf(() => encodeRequest({ address: 0, command: 'sys', sub: 'SRQ' })),
    'out-of-range',
  );
  t.equal(
    codeOf(() => encodeRequest({ address: 0, command: 'SYS', sub: 'SRQ', params: '' })),
    'out-of-range',
  );
  t.equal(
    codeOf(() =>
      encodeRequest({ address: 0, command: 'TUN', sub: 'GRP', group: [{ name: 'EBN', value: '-1' }] }),
    ),
    'out-of-range',
    'a grouped value cannot contain the separator',
  );
  t.equal(
    codeOf(() => encodeRequest({ address: 0, command: 'TUN', sub: 'GRP', group: [] })),
    'out-of-range',
  );
});

t.test('replies round-trip: ACK, every NAK code, data', async (t) => {
  const replies: Rx8200Reply[] = [
    { kind: 'ack', address: 2 },
    ...NAK_CODES.map(
      (code): Rx8200Reply => ({
        kind: 'nak',
        address: 2,
        code,
        rejection: code === 'NAK' ? null : GROUP_REJECTIONS[code],
      }),
    ),
    {
      kind: 'data',
      address: 0,
      command: 'OPR',
      fields: [
        { name: 'SIG', value: '123' },
        { name: 'EBN', value: '-01.5' },
        { name: 'BER', value: '25E-7' },
      ],
    },
    { kind: 'data', address: 0, command: 'ENQ', fields: [{ name: 'NAM', value: 'CCTV-1  ' }] },
  ];
  for (const r of replies) t.same(decodeReply(decodeFrame(encodeReply(r))), r, wire(encodeReply(r)));
  t.equal(wire(encodeReply({ kind: 'ack', address: 2 }, { checksum: false })), '\\002:ACK_\r');
});

t.test('NA2–NA8 name the offending grouped-tune field (manual §4.2.1)', async (t) => {
  const expected = {
    NA2: ['PWR', 'missing'],
    NA3: ['PWR', 'incorrect'],
    NA4: ['POL', 'missing'],
    NA5: ['POL', 'incorrect'],
    NA6: ['P??', 'unknown'],
    NA7: ['FEC', 'missing'],
    NA8: ['FEC', 'incorrect'],
  };
  for (const [code, [field, problem]] of Object.entries(expected)) {
    const r = decodeReply(decodeFrame(`\\000:${code}_`));
    t.equal(r.kind, 'nak');
    if (r.kind === 'nak') {
      t.equal(r.code, code);
      t.equal(r.rejection?.field, field, `${code} field`);
      t.equal(r.rejection?.problem, problem, `${code} problem`);
    }
  }
  const nak = decodeReply(decodeFrame('\\000:NAK_'));
  t.same(nak, { kind: 'nak', address: 0, code: 'NAK', rejection: null });
});

t.test('bad replies are typed errors', async (t) => {
  for (const body of ['ACK;_', 'NA9_', 'NA1_', 'OPR;_', 'OPR;SIG_', 'OPR;SIGNAL=1_', 'OPR_', 'ok_']) {
    t.equal(
      codeOf(() => decodeReply(decodeFrame(`\\000:${body}`))),
      'bad-reply',
      body,
    );
  }
  t.equal(
    codeOf(() =>
      encodeReply({ kind: 'data', address: 0, command: 'OPR', fields: [{ name: 'SIG', value: 'a_b' }] }),
    ),
    'out-of-range',
  );
  t.equal(
    codeOf(() => encodeReply({ kind: 'data', address: 0, command: 'OPR', fields: [] })),
    'out-of-range',
  );
});
