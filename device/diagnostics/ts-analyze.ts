/**
 * A pure MPEG-TS analyser for `stream.probe` (DESIGN.md §6 Diagnostics RPC): it reads the receiver's own
 * bytes — before any remuxer rewrites continuity counters or tables — and reports what a technician checks
 * first, the ETSI TR 101 290 priority-1 indicators DOMAIN.md §4 lists:
 * - sync: 188-byte packets starting 0x47; bytes skipped to find sync again are counted (sync loss);
 * - PAT on PID 0 (programme number → PMT PID) and each programme's PMT (its elementary streams), with the
 *   MPEG-2 CRC checked so a corrupted section is counted, not believed;
 * - continuity-counter errors per PID (4-bit counter of packets with payload; one duplicate allowed; the
 *   adaptation field's discontinuity indicator resets it);
 * - scrambling: `transport_scrambling_control` ≠ 0 on a stream's packets (DOMAIN.md §6 "Scrambled service");
 * - service names from the SDT (PID 0x11), so "which programme is this" needs no guide;
 * - referenced PIDs that never appeared.
 * No I/O, no clock: the caller captures the bytes (stream-capture.ts) and says how long that took.
 */

export const TS_PACKET = 188;
const SYNC = 0x47;
const PID_PAT = 0x0000;
const PID_SDT = 0x0011;
const PID_NULL = 0x1fff;
const TABLE_PAT = 0x00;
const TABLE_PMT = 0x02;
const TABLE_SDT_ACTUAL = 0x42;

/** Kind of an elementary stream, as the RPC result names it. */
export type EsKind = 'video' | 'audio' | 'subtitle' | 'data';

export interface EsInfo {
  pid: number;
  streamType: number;
  kind: EsKind;
  /** Codec guessed from the stream type and descriptors (ffprobe's name when it knows better). */
  codec: string | null;
  packets: number;
  scrambledPackets: number;
  ccErrors: number;
}

export interface ProgrammeInfo {
  serviceId: number;
  pmtPid: number;
  /** A valid PMT section for this programme was seen. */
  pmtPresent: boolean;
  pcrPid: number | null;
  name: string | null;
  provider: string | null;
  /** SDT free_CA_mode: the broadcaster says the service is (or may be) scrambled. */
  freeCaMode: boolean | null;
  streams: EsInfo[];
}

export interface TsAnalysis {
  bytes: number;
  packets: number;
  /** Bytes skipped while looking for sync (garbage, a torn datagram, a wrong input). */
  syncLossBytes: number;
  /** Times sync had to be searched for again. */
  syncLosses: number;
  /** Packets with the transport_error_indicator set (the demodulator could not correct them). */
  transportErrors: number;
  ccErrors: number;
  patPresent: boolean;
  /** PSI sections dropped for a bad CRC. */
  crcErrors: number;
  programmes: ProgrammeInfo[];
  /** PIDs a PMT references that carried no packet in the capture. */
  missingPids: number[];
  /** Packets per PID (null packets included), for the curious. */
  pidPackets: Record<number, number>;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2 of `data` (ISO/IEC 13818-1 Annex A); a whole section including its CRC gives 0. */
export function crc32Mpeg2(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ b) & 0xff] as number)) >>> 0;
  return crc >>> 0;
}

/** Kind and codec of an elementary stream from its PMT stream type and descriptors (ISO 13818-1 Table 2-34). */
export function classifyStream(
  streamType: number,
  descriptorTags: readonly number[],
): {
  kind: EsKind;
  codec: string | null;
} {
  switch (streamType) {
    case 0x01:
      return { kind: 'video', codec: 'mpeg1video' };
    case 0x02:
      return { kind: 'video', codec: 'mpeg2video' };
    case 0x10:
      return { kind: 'video', codec: 'mpeg4' };
    case 0x1b:
      return { kind: 'video', codec: 'h264' };
    case 0x24:
      return { kind: 'video', codec: 'hevc' };
    case 0x42:
      return { kind: 'video', codec: 'cavs' };
    case 0xd2:
      return { kind: 'video', codec: 'avs2' };
    case 0x03:
      return { kind: 'audio', codec: 'mp2' };
    case 0x04:
      return { kind: 'audio', codec: 'mp2' };
    case 0x0f:
      return { kind: 'audio', codec: 'aac' };
    case 0x11:
      return { kind: 'audio', codec: 'aac_latm' };
    case 0x81:
      return { kind: 'audio', codec: 'ac3' };
    case 0x87:
      return { kind: 'audio', codec: 'eac3' };
    case 0x06:
      // PES private data: DVB signals the payload with a descriptor (EN 300 468 §6.2).
      if (descriptorTags.includes(0x6a)) return { kind: 'audio', codec: 'ac3' };
      if (descriptorTags.includes(0x7a)) return { kind: 'audio', codec: 'eac3' };
      if (descriptorTags.includes(0x59)) return { kind: 'subtitle', codec: 'dvb_subtitle' };
      if (descriptorTags.includes(0x56)) return { kind: 'subtitle', codec: 'dvb_teletext' };
      return { kind: 'data', codec: null };
    default:
      return { kind: 'data', codec: null };
  }
}

/** DVB strings (EN 300 468 Annex A): an optional character-table byte, then the text. */
export function dvbString(b: Uint8Array): string {
  if (b.length === 0) return '';
  const first = b[0] as number;
  let body = b;
  let encoding = 'latin1';
  if (first < 0x20) {
    if (first === 0x15) encoding = 'utf-8';
    else if (first === 0x13) encoding = 'gb18030';
    else if (first === 0x11) encoding = 'utf-16be';
    body = b.subarray(first === 0x10 ? 3 : 1);
  }
  try {
    // DVB control codes (EN 300 468 Annex A.1: emphasis on/off, CR/LF) are not part of the name.
    return [...new TextDecoder(encoding).decode(body)]
      .filter((ch) => {
        const c = ch.codePointAt(0) ?? 0;
        return c >= 0x20 && (c < 0x80 || c > 0x9f);
      })
      .join('');
  } catch {
    return new TextDecoder('latin1').decode(body);
  }
}

interface PidState {
  packets: number;
  scrambled: number;
  ccErrors: number;
  lastCc: number | null;
  dupSeen: boolean;
  section: number[] | null;
}

/** Analyses a capture. `chunks` are datagrams or reads in arrival order (a packet may span two). */
export function analyzeTs(chunks: readonly Uint8Array[]): TsAnalysis {
  const pids = new Map<number, PidState>();
  const pat = new Map<number, number>();
  const pmts = new Map<
    number,
    { pcrPid: number; streams: { pid: number; type: number; tags: number[] }[] }
  >();
  const sdt = new Map<number, { name: string | null; provider: string | null; freeCa: boolean }>();
  const out = {
    bytes: 0,
    packets: 0,
    syncLossBytes: 0,
    syncLosses: 0,
    transportErrors: 0,
    ccErrors: 0,
    patPresent: false,
    crcErrors: 0,
  };

  const stateOf = (pid: number): PidState => {
    let s = pids.get(pid);
    if (!s) {
      s = { packets: 0, scrambled: 0, ccErrors: 0, lastCc: null, dupSeen: false, section: null };
      pids.set(pid, s);
    }
    return s;
  };

  const onSection = (pid: number, sec: Uint8Array) => {
    if (crc32Mpeg2(sec) !== 0) {
      out.crcErrors++;
      return;
    }
    const table = sec[0] as number;
    const body = sec.subarray(8, sec.length - 4);
    if (pid === PID_PAT && table === TABLE_PAT) {
      out.patPresent = true;
      for (let i = 0; i + 4 <= body.length; i += 4) {
        const prog = ((body[i] as number) << 8) | (body[i + 1] as number);
        const p = (((body[i + 2] as number) & 0x1f) << 8) | (body[i + 3] as number);
        if (prog !== 0) pat.set(prog, p);
      }
    } else if (table === TABLE_PMT) {
      const prog = ((sec[3] as number) << 8) | (sec[4] as number);
      if (pat.size > 0 && pat.get(prog) !== pid) return;
      const pcrPid = (((body[0] as number) & 0x1f) << 8) | (body[1] as number);
      const infoLen = (((body[2] as number) & 0x0f) << 8) | (body[3] as number);
      const streams: { pid: number; type: number; tags: number[] }[] = [];
      let i = 4 + infoLen;
      while (i + 5 <= body.length) {
        const type = body[i] as number;
        const esPid = (((body[i + 1] as number) & 0x1f) << 8) | (body[i + 2] as number);
        const esLen = (((body[i + 3] as number) & 0x0f) << 8) | (body[i + 4] as number);
        const tags: number[] = [];
        for (let d = i + 5; d + 2 <= i + 5 + esLen && d + 2 <= body.length; d += 2 + (body[d + 1] as number))
          tags.push(body[d] as number);
        streams.push({ pid: esPid, type, tags });
        i += 5 + esLen;
      }
      pmts.set(prog, { pcrPid, streams });
    } else if (pid === PID_SDT && table === TABLE_SDT_ACTUAL) {
      let i = 3; // original_network_id (2) + reserved (1)
      while (i + 5 <= body.length) {
        const sid = ((body[i] as number) << 8) | (body[i + 1] as number);
        const freeCa = ((body[i + 3] as number) & 0x10) !== 0;
        const loopLen = (((body[i + 3] as number) & 0x0f) << 8) | (body[i + 4] as number);
        let name: string | null = null;
        let provider: string | null = null;
        const end = Math.min(body.length, i + 5 + loopLen);
        for (let d = i + 5; d + 2 <= end; d += 2 + (body[d + 1] as number)) {
          if (body[d] !== 0x48) continue; // service_descriptor
          const pl = body[d + 3] as number;
          provider = dvbString(body.subarray(d + 4, d + 4 + pl)) || null;
          const nl = body[d + 4 + pl] as number;
          name = dvbString(body.subarray(d + 5 + pl, d + 5 + pl + nl)) || null;
        }
        sdt.set(sid, { name, provider, freeCa });
        i = end;
      }
    }
  };

  const psiPid = (pid: number) => pid === PID_PAT || pid === PID_SDT || [...pat.values()].includes(pid);

  /** Reassembles PSI sections (ISO 13818-1 §2.4.4: pointer_field on payload_unit_start). */
  const feedSection = (pid: number, st: PidState, payload: Uint8Array, start: boolean) => {
    let p = payload;
    if (start) {
      const pointer = p[0] as number;
      if (st.section && pointer > 0) flushSection(pid, st, p.subarray(1, 1 + pointer));
      st.section = [];
      p = p.subarray(1 + pointer);
    }
    if (!st.section) return;
    flushSection(pid, st, p);
  };

  const flushSection = (pid: number, st: PidState, bytes: Uint8Array) => {
    if (!st.section) return;
    for (const b of bytes) st.section.push(b);
    for (;;) {
      const s: number[] = st.section;
      if (s.length < 3) return;
      if (s[0] === 0xff) {
        st.section = null; // stuffing: the rest of the packet is padding
        return;
      }
      const len = (((s[1] as number) & 0x0f) << 8) | (s[2] as number);
      if (s.length < 3 + len) return;
      onSection(pid, Uint8Array.from(s.slice(0, 3 + len)));
      st.section = s.slice(3 + len);
    }
  };

  const onPacket = (pkt: Uint8Array) => {
    out.packets++;
    const b1 = pkt[1] as number;
    const b3 = pkt[3] as number;
    if (b1 & 0x80) out.transportErrors++;
    const pid = ((b1 & 0x1f) << 8) | (pkt[2] as number);
    const st = stateOf(pid);
    st.packets++;
    if (pid === PID_NULL) return;
    const scrambling = b3 >> 6;
    const afc = (b3 >> 4) & 0x3;
    const cc = b3 & 0x0f;
    let offset = 4;
    let discontinuity = false;
    if (afc & 0x2) {
      const afLen = pkt[4] as number;
      if (afLen > 0) discontinuity = ((pkt[5] as number) & 0x80) !== 0;
      offset = 5 + afLen;
    }
    const hasPayload = (afc & 0x1) !== 0 && offset < TS_PACKET;
    if (scrambling !== 0) st.scrambled++;
    if (hasPayload) {
      if (st.lastCc !== null && !discontinuity) {
        if (cc === st.lastCc && !st.dupSeen) st.dupSeen = true;
        else if (cc !== ((st.lastCc + 1) & 0x0f)) {
          st.ccErrors++;
          out.ccErrors++;
          st.dupSeen = false;
        } else st.dupSeen = false;
      }
      st.lastCc = cc;
      if (scrambling === 0 && psiPid(pid)) {
        feedSection(pid, st, pkt.subarray(offset), (b1 & 0x40) !== 0);
      }
    }
  };

  // Packets may straddle chunk boundaries (HTTP reads); keep a small carry buffer.
  let carry = new Uint8Array(0);
  let inSync = true;
  for (const chunk of chunks) {
    out.bytes += chunk.length;
    const buf = carry.length > 0 ? concat(carry, chunk) : chunk;
    let i = 0;
    while (i + TS_PACKET <= buf.length) {
      if (buf[i] !== SYNC || (i + TS_PACKET < buf.length && buf[i + TS_PACKET] !== SYNC)) {
        if (inSync) out.syncLosses++;
        inSync = false;
        out.syncLossBytes++;
        i++;
        continue;
      }
      inSync = true;
      onPacket(buf.subarray(i, i + TS_PACKET));
      i += TS_PACKET;
    }
    carry = buf.slice(i);
  }
  if (carry.length > 0) out.syncLossBytes += carry.length;

  const programmes: ProgrammeInfo[] = [];
  const referenced = new Set<number>();
  for (const [serviceId, pmtPid] of [...pat].sort((a, b) => a[0] - b[0])) {
    const pmt = pmts.get(serviceId);
    const s = sdt.get(serviceId);
    referenced.add(pmtPid);
    const streams: EsInfo[] = (pmt?.streams ?? []).map((es) => {
      referenced.add(es.pid);
      const st = pids.get(es.pid);
      return {
        pid: es.pid,
        streamType: es.type,
        ...classifyStream(es.type, es.tags),
        packets: st?.packets ?? 0,
        scrambledPackets: st?.scrambled ?? 0,
        ccErrors: st?.ccErrors ?? 0,
      };
    });
    programmes.push({
      serviceId,
      pmtPid,
      pmtPresent: pmt !== undefined,
      pcrPid: pmt ? pmt.pcrPid : null,
      name: s?.name ?? null,
      provider: s?.provider ?? null,
      freeCaMode: s ? s.freeCa : null,
      streams,
    });
  }
  const pidPackets: Record<number, number> = {};
  for (const [pid, st] of pids) pidPackets[pid] = st.packets;
  return {
    ...out,
    programmes,
    missingPids: [...referenced].filter((p) => !pids.has(p) && p !== PID_NULL).sort((a, b) => a - b),
    pidPackets,
  };
}

/** Is the programme scrambled? Any scrambled packet on one of its elementary streams says so. */
export function programmeScrambled(p: ProgrammeInfo): boolean {
  return p.streams.some((s) => s.scrambledPackets > 0);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
