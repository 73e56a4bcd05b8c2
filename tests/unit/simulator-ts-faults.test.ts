/**
 * The simulator's stream faults (device/simulator/ts-faults.ts), checked with the diagnostics' own TS
 * analyser (device/diagnostics/ts-analyze.ts) as an independent reader: a scrambled service keeps clear
 * PSI and gets scrambling bits and random payload on its elementary streams; a missing service leaves a
 * valid PAT (CRC-32/MPEG-2) without the programme and no PMT or ES packets of it.
 */
import t from 'tap';
import { analyzeTs, crc32Mpeg2 } from '../../device/diagnostics/ts-analyze.js';
import { seededRandom } from '../../device/simulator/signal-model.js';
import {
  buildPat,
  packetPid,
  parsePat,
  parsePmtPids,
  scramblePacket,
  TS_PACKET_SIZE,
  TsFaultFilter,
} from '../../device/simulator/ts-faults.js';

const SID = 101;
const OTHER = 102;
const PMT_PID = 0x1000;
const OTHER_PMT = 0x1001;
const VIDEO = 0x100;
const AUDIO = 0x101;

function withCrc(body: number[]): Uint8Array {
  const s = new Uint8Array([...body, 0, 0, 0, 0]);
  const crc = crc32Mpeg2(s.subarray(0, body.length));
  s.set([(crc >>> 24) & 0xff, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], body.length);
  return s;
}

/** A PMT section: PCR on the video PID, MPEG-2 video + MPEG audio. */
function pmt(programme: number, video: number, audio: number): Uint8Array {
  const es = [
    0x02,
    0xe0 | (video >> 8),
    video & 0xff,
    0xf0,
    0x00,
    0x03,
    0xe0 | (audio >> 8),
    audio & 0xff,
    0xf0,
    0x00,
  ];
  const length = 9 + es.length + 4;
  return withCrc([
    0x02,
    0xb0 | (length >> 8),
    length & 0xff,
    programme >> 8,
    programme & 0xff,
    0xc1,
    0,
    0,
    0xe0 | (video >> 8),
    video & 0xff,
    0xf0,
    0x00,
    ...es,
  ]);
}

function psiPacket(pid: number, section: Uint8Array, cc = 0): Buffer {
  const p = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  p[0] = 0x47;
  p[1] = 0x40 | (pid >> 8);
  p[2] = pid & 0xff;
  p[3] = 0x10 | cc;
  p[4] = 0;
  p.set(section, 5);
  return p;
}

/** An ES packet with an adaptation field of `af` bytes (PCR room) and a recognisable payload. */
function esPacket(pid: number, cc: number, af = 0): Buffer {
  const p = Buffer.alloc(TS_PACKET_SIZE, 0xab);
  p[0] = 0x47;
  p[1] = pid >> 8;
  p[2] = pid & 0xff;
  p[3] = (af > 0 ? 0x30 : 0x10) | (cc & 0x0f);
  if (af > 0) {
    p[4] = af - 1;
    p.fill(0x11, 5, 4 + af);
  }
  return p;
}

const pat = () =>
  buildPat({
    transportStreamId: 1,
    version: 3,
    programmes: [
      { number: SID, pmtPid: PMT_PID },
      { number: OTHER, pmtPid: OTHER_PMT },
    ],
  });

/** A multiplex of two services, as datagrams of 7 packets (DOMAIN.md §4). */
function multiplex(rounds: number): Buffer[] {
  const packets: Buffer[] = [];
  for (let i = 0; i < rounds; i++) {
    packets.push(psiPacket(0, pat(), i & 0xf), psiPacket(PMT_PID, pmt(SID, VIDEO, AUDIO), i & 0xf));
    packets.push(psiPacket(OTHER_PMT, pmt(OTHER, 0x200, 0x201), i & 0xf));
    packets.push(esPacket(VIDEO, i, 8), esPacket(AUDIO, i), esPacket(0x200, i), esPacket(0x201, i));
  }
  const out: Buffer[] = [];
  for (let i = 0; i < packets.length; i += 7) out.push(Buffer.concat(packets.slice(i, i + 7)));
  return out;
}

t.test('PAT: built sections carry a valid CRC-32/MPEG-2 and parse back', async (t) => {
  const s = pat();
  t.equal(crc32Mpeg2(s), 0, 'a whole section with its CRC gives 0 (Annex A)');
  t.same(parsePat(s), {
    transportStreamId: 1,
    version: 3,
    programmes: [
      { number: SID, pmtPid: PMT_PID },
      { number: OTHER, pmtPid: OTHER_PMT },
    ],
  });
  t.same(parsePmtPids(pmt(SID, VIDEO, AUDIO), SID)?.sort(), [VIDEO, AUDIO]);
  t.equal(parsePmtPids(pmt(SID, VIDEO, AUDIO), OTHER), null, 'another programme’s PMT is not ours');
});

t.test('scramblePacket: bits 10, header and adaptation field kept, payload replaced', async (t) => {
  const p = esPacket(VIDEO, 5, 8);
  const before = Buffer.from(p);
  scramblePacket(p, 0, seededRandom(1));
  t.equal((p[3] as number) >> 6, 0b10, 'transport_scrambling_control = 10 (even key)');
  t.equal((p[3] as number) & 0x3f, (before[3] as number) & 0x3f, 'adaptation control and CC unchanged');
  t.same(p.subarray(0, 3), before.subarray(0, 3), 'sync and PID unchanged');
  t.same(p.subarray(4, 12), before.subarray(4, 12), 'adaptation field (PCR) stays clear');
  const payload = p.subarray(12);
  t.ok(
    payload.some((b) => b !== 0xab),
    'payload replaced',
  );
  t.ok(new Set(payload).size > 50, 'by pseudo-random bytes');
});

t.test('clear mode: the filter only reads (the datagram is shared by every output)', async (t) => {
  const f = new TsFaultFilter(SID, seededRandom(1));
  for (const d of multiplex(3)) {
    const copy = Buffer.from(d);
    t.equal(f.apply(d, { scrambled: false, serviceMissing: false }), d, 'same buffer back');
    t.same(d, copy, 'not modified');
  }
  t.same(f.pids, { pmt: PMT_PID, es: [VIDEO, AUDIO] }, 'learnt the service PIDs from PAT and PMT');
});

t.test('scrambled: the service’s ES scrambled, PSI clear (what ts-analyze sees)', async (t) => {
  const f = new TsFaultFilter(SID, seededRandom(2));
  const out = multiplex(10).map((d) => f.apply(Buffer.from(d), { scrambled: true, serviceMissing: false }));
  const a = analyzeTs(out.filter((d): d is Buffer => d !== null));
  const svc = a.programmes.find((p) => p.serviceId === SID);
  t.ok(svc?.pmtPresent, 'PMT still readable');
  t.ok(a.patPresent, 'PAT still readable');
  for (const es of svc?.streams ?? []) {
    t.equal(es.scrambledPackets, es.packets, `PID ${es.pid}: every packet scrambled`);
    t.equal(es.ccErrors, 0, `PID ${es.pid}: continuity kept`);
  }
  t.equal(a.crcErrors, 0, 'no PSI section damaged');
});

t.test('service missing: a PAT without the programme, its PMT and ES dropped', async (t) => {
  const f = new TsFaultFilter(SID, seededRandom(3));
  const input = multiplex(10);
  // Clear for a while (the filter learns), then the service leaves.
  const out = input.map((d, i) => f.apply(Buffer.from(d), { scrambled: false, serviceMissing: i >= 3 }));
  const after = out.slice(3).filter((d): d is Buffer => d !== null);
  const a = analyzeTs(after);
  t.ok(a.patPresent, 'a valid PAT is still sent');
  t.equal(a.crcErrors, 0, 'its CRC is right');
  t.same(
    a.programmes.map((p) => p.serviceId),
    [OTHER],
    'only the other programme is listed',
  );
  const pids = new Set<number>();
  for (const d of after) for (let o = 0; o < d.length; o += TS_PACKET_SIZE) pids.add(packetPid(d, o));
  for (const pid of [PMT_PID, VIDEO, AUDIO]) t.notOk(pids.has(pid), `PID 0x${pid.toString(16)} dropped`);
  t.ok(pids.has(0x200) && pids.has(OTHER_PMT), 'the other service passes untouched');
  for (const d of after) t.equal(d.length % TS_PACKET_SIZE, 0, 'datagrams stay whole packets');
  const rewritten = after.map((d) =>
    parsePat(d.subarray(5, 5 + 3 + ((((d[6] as number) & 0x0f) << 8) | (d[7] as number)))),
  );
  t.equal(rewritten[0]?.version, 4, 'PAT version bumped so receivers notice the change');
});

t.test('a datagram of only dropped packets is not sent at all', async (t) => {
  const f = new TsFaultFilter(SID, seededRandom(4));
  for (const d of multiplex(2)) f.apply(Buffer.from(d), { scrambled: false, serviceMissing: false });
  const onlyService = Buffer.concat([esPacket(VIDEO, 1), esPacket(AUDIO, 1)]);
  t.equal(f.apply(onlyService, { scrambled: false, serviceMissing: true }), null);
});
