/**
 * The pure parts of `stream.probe` (device/diagnostics): the MPEG-TS analyser over hand-built transport
 * streams (PAT, PMT, SDT with real CRCs; continuity errors, scrambling bits, lost sync), ffprobe's JSON, and
 * the merge into the RPC answer — table-driven, plus a real ffmpeg-made stream read back byte for byte.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { parseFfprobe, probeResult } from '../../device/diagnostics/probe-result.js';
import { isMulticast, parseStreamUrl, rtpPayload } from '../../device/diagnostics/stream-capture.js';
import { analyzeTs, classifyStream, crc32Mpeg2, dvbString } from '../../device/diagnostics/ts-analyze.js';
import { RPC_SCHEMAS } from '../../protocol/messages/rpc-methods.js';

// ------------------------------------------------------------------------------------------- builders

/** One section with its CRC (ISO 13818-1 §2.4.4). */
function section(tableId: number, ext: number, body: number[]): number[] {
  const len = 5 + body.length + 4;
  const head = [tableId, 0xb0 | ((len >> 8) & 0x0f), len & 0xff, ext >> 8, ext & 0xff, 0xc1, 0, 0];
  const crc = crc32Mpeg2(Uint8Array.from([...head, ...body]));
  return [...head, ...body, (crc >>> 24) & 0xff, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff];
}

const pat = (progs: [number, number][]) =>
  section(
    0x00,
    1,
    progs.flatMap(([p, pid]) => [p >> 8, p & 0xff, 0xe0 | (pid >> 8), pid & 0xff]),
  );

const pmt = (prog: number, pcr: number, es: { type: number; pid: number; tags?: number[] }[]) =>
  section(0x02, prog, [
    0xe0 | (pcr >> 8),
    pcr & 0xff,
    0xf0,
    0,
    ...es.flatMap((e) => {
      const desc = (e.tags ?? []).flatMap((tag) => [tag, 0]);
      return [
        e.type,
        0xe0 | (e.pid >> 8),
        e.pid & 0xff,
        0xf0 | (desc.length >> 8),
        desc.length & 0xff,
        ...desc,
      ];
    }),
  ]);

const sdt = (services: { sid: number; name: string; provider: string; ca?: boolean }[]) =>
  section(0x42, 1, [
    0,
    1,
    0xff,
    ...services.flatMap((s) => {
      const name = [...Buffer.from(s.name, 'latin1')];
      const prov = [...Buffer.from(s.provider, 'latin1')];
      const d = [0x48, 3 + prov.length + name.length, 0x01, prov.length, ...prov, name.length, ...name];
      return [
        s.sid >> 8,
        s.sid & 0xff,
        0xfc,
        (s.ca ? 0x10 : 0) | 0x80 | (d.length >> 8),
        d.length & 0xff,
        ...d,
      ];
    }),
  ]);

/** One 188-byte packet. `pusi` adds a pointer field for a section payload. */
function packet(pid: number, cc: number, payload: number[], o: { pusi?: boolean; scrambled?: boolean } = {}) {
  const body = o.pusi ? [0, ...payload] : payload;
  const p = new Uint8Array(188).fill(0xff);
  p[0] = 0x47;
  p[1] = (o.pusi ? 0x40 : 0) | (pid >> 8);
  p[2] = pid & 0xff;
  p[3] = (o.scrambled ? 0x80 : 0) | 0x10 | (cc & 0x0f);
  p.set(body.slice(0, 184), 4);
  return p;
}

/** A stream: tables, then `n` video packets on 0x100 and audio on 0x101. */
function stream(o: {
  n?: number;
  skipCc?: number;
  scrambled?: boolean;
  pmtMissing?: boolean;
  noPat?: boolean;
  garbageAt?: number;
}): Uint8Array[] {
  const pkts: Uint8Array[] = [];
  if (!o.noPat) pkts.push(packet(0, 0, pat([[101, 0x1000]]), { pusi: true }));
  if (!o.pmtMissing)
    pkts.push(
      packet(
        0x1000,
        0,
        pmt(101, 0x100, [
          { type: 0x02, pid: 0x100 },
          { type: 0x03, pid: 0x101 },
          { type: 0x06, pid: 0x102, tags: [0x59] },
        ]),
        { pusi: true },
      ),
    );
  pkts.push(
    packet(0x11, 0, sdt([{ sid: 101, name: 'CCTV-1', provider: 'CCTV', ca: o.scrambled }]), { pusi: true }),
  );
  let cc = 0;
  for (let i = 0; i < (o.n ?? 20); i++) {
    if (i === o.skipCc) cc++;
    pkts.push(packet(0x100, cc++, [1, 2, 3], { scrambled: o.scrambled === true }));
    pkts.push(packet(0x101, i, [4, 5], { scrambled: o.scrambled === true }));
  }
  const all = Buffer.concat(pkts);
  if (o.garbageAt !== undefined) {
    const g = Buffer.alloc(37, 0x11);
    return [all.subarray(0, o.garbageAt * 188), g, all.subarray(o.garbageAt * 188)];
  }
  // Datagram-sized chunks (7 × 188, DOMAIN.md §4).
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 1316) out.push(all.subarray(i, i + 1316));
  return out;
}

// --------------------------------------------------------------------------------------------- tests

t.test('CRC-32/MPEG-2: a section with its CRC checks to zero', async (t) => {
  t.equal(crc32Mpeg2(Uint8Array.from(pat([[1, 0x100]]))), 0);
  const bad = pat([[1, 0x100]]);
  bad[9] = (bad[9] as number) ^ 1;
  t.not(crc32Mpeg2(Uint8Array.from(bad)), 0);
});

t.test('what the analyser reports, by case', async (t) => {
  const cases: {
    name: string;
    chunks: Uint8Array[];
    want: {
      pat: boolean;
      cc: number;
      services: number;
      pmt?: boolean;
      scrambled?: boolean;
      syncLosses?: number;
      missing?: number[];
    };
  }[] = [
    {
      name: 'a clean stream',
      chunks: stream({}),
      want: { pat: true, cc: 0, services: 1, pmt: true, scrambled: false, missing: [0x102] },
    },
    {
      name: 'one lost packet on the video PID',
      chunks: stream({ skipCc: 7 }),
      want: { pat: true, cc: 1, services: 1 },
    },
    {
      name: 'scrambled elementary streams',
      chunks: stream({ scrambled: true }),
      want: { pat: true, cc: 0, services: 1, scrambled: true },
    },
    {
      name: 'PAT names a programme whose PMT never comes',
      chunks: stream({ pmtMissing: true }),
      want: { pat: true, cc: 0, services: 1, pmt: false, missing: [0x1000] },
    },
    { name: 'no PAT at all', chunks: stream({ noPat: true }), want: { pat: false, cc: 0, services: 0 } },
    {
      name: 'garbage in the middle',
      chunks: stream({ garbageAt: 10 }),
      want: { pat: true, cc: 0, services: 1, syncLosses: 1 },
    },
    { name: 'nothing arrived', chunks: [], want: { pat: false, cc: 0, services: 0 } },
  ];
  for (const c of cases) {
    const a = analyzeTs(c.chunks);
    t.equal(a.patPresent, c.want.pat, `${c.name}: PAT`);
    t.equal(a.ccErrors, c.want.cc, `${c.name}: CC errors`);
    t.equal(a.programmes.length, c.want.services, `${c.name}: services`);
    const p = a.programmes[0];
    if (c.want.pmt !== undefined) t.equal(p?.pmtPresent, c.want.pmt, `${c.name}: PMT`);
    if (c.want.scrambled !== undefined)
      t.equal(
        p?.streams.some((s) => s.scrambledPackets > 0),
        c.want.scrambled,
        `${c.name}: scrambled`,
      );
    if (c.want.syncLosses !== undefined) {
      t.equal(a.syncLosses, c.want.syncLosses, `${c.name}: sync losses`);
      t.equal(a.syncLossBytes, 37, `${c.name}: the garbage bytes are counted`);
    }
    if (c.want.missing) t.same(a.missingPids, c.want.missing, `${c.name}: referenced PIDs with no packets`);
  }
});

t.test('the PMT and SDT are read: stream kinds, codecs, names', async (t) => {
  const a = analyzeTs(stream({}));
  const p = a.programmes[0];
  t.match(p, {
    serviceId: 101,
    pmtPid: 0x1000,
    pcrPid: 0x100,
    name: 'CCTV-1',
    provider: 'CCTV',
    freeCaMode: false,
  });
  t.same(
    p?.streams.map((s) => [s.pid, s.kind, s.codec]),
    [
      [0x100, 'video', 'mpeg2video'],
      [0x101, 'audio', 'mp2'],
      [0x102, 'subtitle', 'dvb_subtitle'],
    ],
  );
  t.same(classifyStream(0x1b, []), { kind: 'video', codec: 'h264' });
  t.same(classifyStream(0x06, [0x6a]), { kind: 'audio', codec: 'ac3' });
  t.same(classifyStream(0x05, []), { kind: 'data', codec: null });
  t.equal(dvbString(Uint8Array.from([0x15, ...Buffer.from('甘肃卫视')])), '甘肃卫视', 'UTF-8 (0x15) names');
});

t.test('a corrupted table is counted, not believed', async (t) => {
  const chunks = stream({});
  const first = Uint8Array.from(chunks[0] as Uint8Array);
  first[12] = (first[12] as number) ^ 0xff; // inside the PAT
  const a = analyzeTs([first, ...chunks.slice(1)]);
  t.equal(a.crcErrors, 1);
  t.equal(a.patPresent, false);
});

t.test(
  'ffprobe JSON is parsed leniently; the answer merges it and validates against the protocol',
  async (t) => {
    t.equal(parseFfprobe('not json'), null);
    t.equal(parseFfprobe('{"programs": "x"}'), null);
    const ff = parseFfprobe(
      JSON.stringify({
        programs: [
          {
            program_id: 101,
            tags: { service_name: 'CCTV-1 综合' },
            streams: [{ index: 0, codec_name: 'mpeg2video', codec_type: 'video', id: '0x100' }],
          },
        ],
        streams: [{ index: 2, codec_name: 'dvb_subtitle', codec_type: 'subtitle', id: '0x102' }],
      }),
    );
    t.equal(ff?.streams.get(0x100)?.codec, 'mpeg2video');
    const a = analyzeTs(stream({ skipCc: 3 }));
    const r = probeResult('udp://239.1.1.1:5000', a, 2000, ff);
    t.ok(RPC_SCHEMAS['stream.probe'].result.safeParse(r).success, 'a valid stream.probe result');
    t.equal(r.bitrateBps, Math.round((a.bytes * 8) / 2), 'bitrate over the capture');
    t.equal(r.ccErrors, 1);
    t.equal(r.services[0]?.name, 'CCTV-1', "the stream's own SDT name wins");
    t.match(r.services[0]?.streams[0], { pid: 0x100, ccErrors: 1, scrambledRatio: 0 });
    const empty = probeResult('udp://239.1.1.1:5000', analyzeTs([]), 3000, null);
    t.match(empty, { bitrateBps: 0, patPresent: false, services: [] }, 'nothing arrived: said plainly');
  },
);

t.test('stream URLs and RTP payloads', async (t) => {
  t.same(parseStreamUrl('udp://239.1.1.1:5000?fifo_size=100'), {
    kind: 'udp',
    host: '239.1.1.1',
    port: 5000,
  });
  t.same(parseStreamUrl('rtp://127.0.0.1:6000'), { kind: 'rtp', host: '127.0.0.1', port: 6000 });
  t.match(parseStreamUrl('http://10.0.0.5/ts'), { kind: 'http' });
  t.throws(() => parseStreamUrl('srt://1.2.3.4:9000'), { code: 'unsupported-url' });
  t.throws(() => parseStreamUrl('udp://host-name:5000'), { code: 'unsupported-url' });
  t.ok(isMulticast('239.1.1.1'));
  t.notOk(isMulticast('127.0.0.1'));
  const rtp = Uint8Array.from([0x80, 33, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x47, 1, 2]);
  t.same([...rtpPayload(rtp)], [0x47, 1, 2], 'the 12-byte RTP header is stripped');
});

t.test('a real ffmpeg-made transport stream reads clean', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-unit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 's.ts');
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=160x120:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=500:sample_rate=48000',
    '-t',
    '2',
    '-c:v',
    'mpeg2video',
    '-c:a',
    'mp2',
    '-f',
    'mpegts',
    '-mpegts_service_id',
    '207',
    '-metadata',
    'service_name=甘肃卫视',
    file,
  ]);
  const bytes = fs.readFileSync(file);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 1316) chunks.push(bytes.subarray(i, i + 1316));
  const a = analyzeTs(chunks);
  t.match(a, { patPresent: true, ccErrors: 0, syncLosses: 0, crcErrors: 0 });
  t.match(a.programmes, [{ serviceId: 207, pmtPresent: true, name: '甘肃卫视' }]);
  t.same(
    a.programmes[0]?.streams.map((s) => s.kind),
    ['video', 'audio'],
  );
});
