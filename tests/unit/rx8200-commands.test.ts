/**
 * RX8200 command builders, value formats and typed reply decoders (protocol/rx8200/commands.ts,
 * fields.ts, replies.ts, alarms.ts): the exact bytes a receiver sees, and what the driver reads back.
 */
import t from 'tap';
import type { Transponder } from '../../protocol/messages/tuning.js';
import {
  alarmStatusReply,
  alarmsRequest,
  controlModeReply,
  decodeFrame,
  decodeReply,
  decodeRequest,
  decoderStatusReply,
  encodeReply,
  encodeRequest,
  formatBer,
  formatCn,
  identify,
  interpretGroupTune,
  lnbPower,
  lnbSupplyStatus,
  lockFlags,
  operationalStatusReply,
  parseAlarmStatus,
  parseBer,
  parseCn,
  parseControlMode,
  parseDecoderStatus,
  parseOperationalStatus,
  parseQuality,
  parseServiceName,
  parseServiceStatus,
  parseTunerStatus,
  qualityReply,
  qualityRequest,
  Rx8200CodecError,
  type Rx8200Command,
  type Rx8200Reply,
  selectService,
  serviceNameReply,
  serviceStatusReply,
  statusRequest,
  tune,
  tunerStatusReply,
  tuningFromTransponder,
  tuningMismatches,
} from '../../protocol/rx8200/index.js';

const bytes = (cmd: Rx8200Command, address = 0) =>
  encodeRequest({ address, ...cmd }, { checksum: false }).toString('latin1');
const roundTrip = (r: Rx8200Reply) => decodeReply(decodeFrame(encodeReply(r)));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof Rx8200CodecError ? err.code : `not a codec error: ${String(err)}`;
  }
  return 'no error';
}

/** CCTV multiplex of the 2007 tables (DOMAIN.md §2): 3840 MHz H, 27 500 ksym/s, DVB-S 3/4, C-band LNB. */
const cctv: Transponder = {
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
};

t.test('tune() sends the standard, then the whole group, with documented field formats', async (t) => {
  t.same(
    tune(tuningFromTransponder(cctv)).map((c) => bytes(c)),
    [
      '\\000:TUN;STD=S1_\r',
      '\\000:TUN;GRP-FRQ=030720-LNB=041200-POL=HOR-RFI=NO 1-PWR=ON-MOD=QPS-FEC=3/4-SYM=275000_\r',
    ],
  );
});

t.test(
  'DVB-S2 adds the roll-off; rates the IRD does not list go as AUT; circular maps to HOR/VER',
  async (t) => {
    const s2 = tuningFromTransponder({
      ...cctv,
      frequencyMHz: 3706.5,
      polarisation: 'R',
      symbolRateKsps: 4420,
      system: 'DVB-S2',
      modulation: '8PSK',
      fec: '9/10',
      rolloff: '0.20',
      lnbPower: false,
      input: 3,
    });
    t.same(
      tune(s2).map((c) => bytes(c)),
      [
        '\\000:TUN;STD=S2_\r',
        '\\000:TUN;ROL=20_\r',
        '\\000:TUN;GRP-FRQ=029652-LNB=041200-POL=VER-RFI=NO 3-PWR=OFF-MOD=8PS-FEC=AUT-SYM=044200_\r',
      ],
    );
    t.equal(tuningFromTransponder({ ...cctv, polarisation: 'L' }).polarisation, 'H');
  },
);

t.test('frequencies are rounded to the 125 kHz raster; impossible values are typed errors', async (t) => {
  t.match(
    bytes(tune(tuningFromTransponder({ ...cctv, frequencyMHz: 3840.06 })).at(-1) as Rx8200Command),
    /FRQ=030720-/,
  );
  t.match(
    bytes(tune(tuningFromTransponder({ ...cctv, frequencyMHz: 3840.07 })).at(-1) as Rx8200Command),
    /FRQ=030721-/,
  );
  const bad = (over: Partial<Transponder>) => codeOf(() => tune(tuningFromTransponder({ ...cctv, ...over })));
  t.equal(bad({ frequencyMHz: 20000 }), 'out-of-range');
  t.equal(bad({ symbolRateKsps: 999 }), 'out-of-range');
  t.equal(bad({ symbolRateKsps: 48001 }), 'out-of-range');
  t.equal(bad({ input: 5 }), 'out-of-range');
});

t.test('simple builders', async (t) => {
  t.equal(bytes(selectService(1)), '\\000:SER;SEL=00001_\r');
  t.equal(bytes(selectService(65535), 2), '\\002:SER;SEL=65535_\r');
  t.equal(
    codeOf(() => selectService(0)),
    'out-of-range',
  );
  t.equal(
    codeOf(() => selectService(70000)),
    'out-of-range',
  );
  t.equal(bytes(lnbPower(false)), '\\000:TUN;PWR=OFF_\r');
  t.equal(bytes(qualityRequest()), '\\000:OPR;QUA_\r');
  t.equal(bytes(statusRequest()), '\\000:OPR;SRQ_\r');
  t.equal(bytes(alarmsRequest()), '\\000:SYS;SRA_\r');
  t.equal(bytes(identify()), '\\000:SYS;SRS_\r');
});

t.test("the IRD's grouped-tune checks: NA2–NA8 and NAK, as the simulator answers", async (t) => {
  const group =
    decodeRequest(
      decodeFrame(
        encodeRequest({ address: 0, ...(tune(tuningFromTransponder(cctv)).at(-1) as Rx8200Command) }),
      ),
    ).group ?? [];
  const ok = interpretGroupTune(group);
  t.same(ok, {
    ok: true,
    tuning: {
      frequencyMHz: 3840,
      lnbLoMHz: 5150,
      polarisation: 'H',
      symbolRateKsps: 27500,
      modulation: 'QPSK',
      fec: '3/4',
      lnbPower: true,
      input: 1,
    },
  });
  const without = (name: string) => group.filter((f) => f.name !== name);
  const replace = (name: string, value: string) => group.map((f) => (f.name === name ? { name, value } : f));
  const nak = (g: typeof group) => {
    const r = interpretGroupTune(g);
    return r.ok ? 'ok' : r.nak;
  };
  t.equal(nak(without('PWR')), 'NA2');
  t.equal(nak(replace('PWR', 'YES')), 'NA3');
  t.equal(nak(without('POL')), 'NA4');
  t.equal(nak(replace('POL', 'CIR')), 'NA5');
  t.equal(nak([...group, { name: 'PXX', value: '1' }]), 'NA6');
  t.equal(nak(without('FEC')), 'NA7');
  t.equal(nak(replace('FEC', '9/10')), 'NA8');
  t.equal(nak(without('SYM')), 'NAK');
  t.equal(nak(replace('SYM', '000500')), 'NAK', '50 ksym/s is below the 1.0 Msym/s minimum');
  t.equal(nak(replace('RFI', 'NO 7')), 'NAK');
  t.equal(nak([...group, { name: 'XYZ', value: '1' }]), 'NAK');
});

t.test('quality: SIG, EBN (C/N) and BER round-trip through the wire format', async (t) => {
  const r = qualityReply(2, { level0to255: 180, cnDb: 9.43, ber: 2.5e-7 });
  t.equal(encodeReply(r, { checksum: false }).toString('latin1'), '\\002:OPR;SIG=180_EBN=+09.4_BER=25E-7_\r');
  t.same(parseQuality(roundTrip(r)), { level0to255: 180, ebnoDb: 9.4, cnDb: 9.4, ber: 2.5e-7 });
  t.same(parseQuality(decodeReply(decodeFrame('\\000:OPR;SIG=012_EBN=-01.5_BER=10E-3_'))), {
    level0to255: 12,
    ebnoDb: -1.5,
    cnDb: -1.5,
    ber: 1e-3,
  });
  t.equal(
    codeOf(() => parseQuality(decodeReply(decodeFrame('\\000:OPR;SIG=300_EBN=+01.0_BER=10E-3_')))),
    'bad-value',
  );
  t.equal(
    codeOf(() => parseQuality(decodeReply(decodeFrame('\\000:OPR;SIG=100_BER=10E-3_')))),
    'bad-value',
  );
  t.equal(
    codeOf(() => parseQuality(decodeReply(decodeFrame('\\000:ACK_')))),
    'bad-reply',
  );
  t.equal(
    codeOf(() => parseQuality(decodeReply(decodeFrame('\\000:TUN;SIG=100_')))),
    'bad-reply',
  );
});

t.test('BER and C/N formats at their edges', async (t) => {
  t.equal(formatBer(0), '10E-8', 'error-free reads as the floor');
  t.equal(formatBer(2e-4), '20E-4', 'the DVB-S QEF failure point (DOMAIN.md §2)');
  t.equal(formatBer(0.5), '50E-1');
  t.equal(formatBer(0.0996), '10E-1', 'mantissa rounding carries into the exponent');
  t.equal(parseBer('1E-8'), 1e-8);
  t.equal(parseBer('99E-1'), 0.99);
  t.equal(
    codeOf(() => parseBer('10E-9')),
    'bad-value',
  );
  t.equal(
    codeOf(() => parseBer('10E+3')),
    'bad-value',
  );
  t.equal(formatCn(-0.04), '+00.0');
  t.equal(formatCn(123), '+99.9');
  t.equal(formatCn(-5.25), '-05.3');
  t.equal(parseCn('12.5'), 12.5, 'sign optional on read');
  t.equal(
    codeOf(() => parseCn('+1x.5')),
    'bad-value',
  );
});

t.test('operational status: alarms by name, lock flags and LNB supply status', async (t) => {
  const healthy = parseOperationalStatus(
    roundTrip(operationalStatusReply(2, { level0to255: 200, alarms: [], ber: 1e-8 })),
  );
  t.same(healthy.alarms.active, []);
  t.same(lockFlags(healthy.alarms), { carrier: true, transport: true, locked: true });
  t.equal(lnbSupplyStatus(healthy.alarms, true), 'ok');
  t.equal(lnbSupplyStatus(healthy.alarms, false), 'off');

  const short = parseOperationalStatus(
    roundTrip(
      operationalStatusReply(2, { level0to255: 0, alarms: ['lnbShort', 'frontEndUnlocked'], ber: 0.5 }),
    ),
  );
  t.same(short.alarms.active, ['frontEndUnlocked', 'lnbShort']);
  t.equal(lnbSupplyStatus(short.alarms, true), 'short');
  t.same(lockFlags(short.alarms), { carrier: false, transport: false, locked: false });

  const noLoad = parseOperationalStatus(
    roundTrip(operationalStatusReply(2, { level0to255: 3, alarms: ['lnbNoLoad'], ber: 1e-8 })),
  );
  t.equal(lnbSupplyStatus(noLoad.alarms, true), 'no-load');

  const tsOnly = parseOperationalStatus(
    decodeReply(decodeFrame('\\000:OPR;SIG=200_ALR=0002_BER=10E-8_ALL=00000_SAQ=ACO_')),
  );
  t.same(lockFlags(tsOnly.alarms), { carrier: true, transport: false, locked: false });

  const unknown = parseOperationalStatus(
    decodeReply(decodeFrame('\\000:OPR;SIG=200_ALR=8000_BER=10E-8_ALL=00000_SAQ=ACO_')),
  );
  t.equal(unknown.alarms.unknownBits, 0x8000, 'bits without a name are kept, not lost');
});

t.test('SYS;SRA alarm status', async (t) => {
  const a = parseAlarmStatus(roundTrip(alarmStatusReply(0, ['scrambled', 'cnThreshold'])));
  t.same(a.active, ['cnThreshold', 'scrambled']);
  t.same(parseAlarmStatus(decodeReply(decodeFrame('\\000:SYS;ALL=00000_'))).active, [], 'System 3000 form');
  t.equal(
    codeOf(() => parseAlarmStatus(decodeReply(decodeFrame('\\000:SYS;ALR=XYZ_')))),
    'bad-value',
  );
});

t.test('tuner read-back: matches what was sent, and names every difference', async (t) => {
  const desired = tuningFromTransponder(cctv);
  const readBack = parseTunerStatus(roundTrip(tunerStatusReply(2, desired)));
  t.same(tuningMismatches(desired, readBack), []);
  t.same(tuningMismatches({ ...desired, frequencyMHz: 3840.05 }, readBack), [], 'same 125 kHz step');

  const forgotten = parseTunerStatus(
    roundTrip(
      tunerStatusReply(2, { ...desired, frequencyMHz: 3880, polarisation: 'V', lnbPower: false, fec: '1/2' }),
    ),
  );
  const diffs = tuningMismatches(desired, forgotten);
  t.equal(diffs.length, 4);
  t.match(diffs.join('\n'), /frequency MHz: want 3840, IRD has 3880/);
  t.match(diffs.join('\n'), /polarisation/);
  t.match(diffs.join('\n'), /LNB power/);
  t.match(diffs.join('\n'), /FEC/);

  const auto = parseTunerStatus(
    decodeReply(
      decodeFrame(
        '\\000:TUN;FRQ=030720_LNB=041200_POL=HOR_RFI=NO1_PWR=ON_MOD=AUT_FEC=AUT_SYM=275000_STD=S1_ROL=35_',
      ),
    ),
  );
  t.same(tuningMismatches(desired, auto), [], 'AUT read back matches anything');
});

t.test('decoder, service, name and control-mode replies', async (t) => {
  t.same(parseDecoderStatus(roundTrip(decoderStatusReply(0, 188))), { source: 'ASC', packetLock: 188 });
  t.same(parseDecoderStatus(decodeReply(decodeFrame('\\000:DEC;DSR=ASC_LOC=NLC_'))), {
    source: 'ASC',
    packetLock: null,
  });
  t.equal(
    codeOf(() => parseDecoderStatus(decodeReply(decodeFrame('\\000:DEC;DSR=ASC_LOC=100_')))),
    'bad-value',
  );
  t.same(parseServiceStatus(roundTrip(serviceStatusReply(0, 'running', 101))), {
    state: 'running',
    serviceId: 101,
  });
  t.same(parseServiceStatus(roundTrip(serviceStatusReply(0, 'waiting-pmt', null))), {
    state: 'waiting-pmt',
    serviceId: null,
  });
  t.equal(parseServiceName(roundTrip(serviceNameReply(0, 'CCTV-1 综合'))), 'CCTV-1 ??');
  t.equal(parseServiceName(decodeReply(decodeFrame(`\\000:ENQ;NAM=${'GANSU TV'.padEnd(30)}_`))), 'GANSU TV');
  t.equal(parseControlMode(roundTrip(controlModeReply(2))), 'RCM');
  t.equal(encodeReply(controlModeReply(0), { checksum: false }).toString('latin1'), '\\000:SRS;CMO=RCM_\r');
});
