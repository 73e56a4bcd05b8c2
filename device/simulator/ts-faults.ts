/**
 * What a receiver's MPEG-TS output looks like when the service is scrambled or has left the multiplex
 * (DOMAIN.md §6 "Scrambled service", "Service/PID reshuffle"), made from the clear test stream one
 * datagram at a time, in place on the relay's copy (relay.ts), so the simulator stays cheap with 102
 * receivers (DESIGN.md §7).
 *
 * - Scrambled: every elementary-stream packet keeps its header and adaptation field (PCR) but gets
 *   transport_scrambling_control = '10' (even key, ISO/IEC 13818-1 §2.4.3.2, Table 2-4) and a payload of
 *   pseudo-random bytes, as a CA system leaves it. PSI (PAT, PMT, SDT, every PID below 0x20) stays clear.
 * - Service missing: PAT sections are rewritten without the programme (version bumped, CRC-32/MPEG-2
 *   recomputed, Annex A), and the programme's PMT and elementary-stream packets are dropped.
 *
 * The filter learns the programme's PMT PID from the PAT and its elementary PIDs from the PMT while the
 * stream is clear, so a fault switched on mid-stream knows what to touch.
 */
import { crc32Mpeg2 } from '../diagnostics/ts-analyze.js';

export const TS_PACKET_SIZE = 188;
const SYNC = 0x47;
const PAT_PID = 0x0000;
const NULL_PID = 0x1fff;
/** PIDs 0x00–0x1F are reserved for PSI/SI (PAT, CAT, NIT, SDT, EIT, TDT…): never scrambled (13818-1 Table 2-3). */
const LAST_SI_PID = 0x1f;

/** PID of the packet at `off`. */
export function packetPid(buf: Uint8Array, off = 0): number {
  return (((buf[off + 1] as number) & 0x1f) << 8) | (buf[off + 2] as number);
}

/** Offset of the payload of the packet at `off` (after any adaptation field), or -1 when it has none. */
export function payloadOffset(buf: Uint8Array, off = 0): number {
  const afc = ((buf[off + 3] as number) >> 4) & 0x3;
  if ((afc & 0x1) === 0) return -1;
  let p = off + 4;
  if (afc & 0x2) p += 1 + (buf[off + 4] as number);
  return p < off + TS_PACKET_SIZE ? p : -1;
}

/** The section that starts in this packet (payload_unit_start + pointer_field), or null. */
function sectionIn(buf: Uint8Array, off: number): Uint8Array | null {
  if (((buf[off + 1] as number) & 0x40) === 0) return null;
  const p = payloadOffset(buf, off);
  if (p < 0) return null;
  const start = p + 1 + (buf[p] as number);
  const end = off + TS_PACKET_SIZE;
  if (start + 3 > end) return null;
  const length = (((buf[start + 1] as number) & 0x0f) << 8) | (buf[start + 2] as number);
  if (start + 3 + length > end) return null; // spans packets: the test streams never do this for PAT/PMT
  const section = buf.subarray(start, start + 3 + length);
  return crc32Mpeg2(section) === 0 ? section : null;
}

/** A parsed program association section (13818-1 §2.4.4.3). */
export interface Pat {
  transportStreamId: number;
  version: number;
  programmes: { number: number; pmtPid: number }[];
}

export function parsePat(section: Uint8Array): Pat | null {
  if (section[0] !== 0x00 || section.length < 12) return null;
  const programmes: Pat['programmes'] = [];
  for (let i = 8; i + 4 <= section.length - 4; i += 4) {
    programmes.push({
      number: ((section[i] as number) << 8) | (section[i + 1] as number),
      pmtPid: (((section[i + 2] as number) & 0x1f) << 8) | (section[i + 3] as number),
    });
  }
  return {
    transportStreamId: ((section[3] as number) << 8) | (section[4] as number),
    version: ((section[5] as number) >> 1) & 0x1f,
    programmes,
  };
}

/** A PAT section with a valid CRC-32/MPEG-2 (section_number 0 of 0, current_next 1). */
export function buildPat(pat: Pat): Uint8Array {
  const length = 5 + pat.programmes.length * 4 + 4;
  const s = new Uint8Array(3 + length);
  s[0] = 0x00;
  s[1] = 0xb0 | ((length >> 8) & 0x0f);
  s[2] = length & 0xff;
  s[3] = (pat.transportStreamId >> 8) & 0xff;
  s[4] = pat.transportStreamId & 0xff;
  s[5] = 0xc1 | ((pat.version & 0x1f) << 1);
  s[6] = 0;
  s[7] = 0;
  let i = 8;
  for (const p of pat.programmes) {
    s[i++] = (p.number >> 8) & 0xff;
    s[i++] = p.number & 0xff;
    s[i++] = 0xe0 | ((p.pmtPid >> 8) & 0x1f);
    s[i++] = p.pmtPid & 0xff;
  }
  const crc = crc32Mpeg2(s.subarray(0, i));
  s[i++] = (crc >>> 24) & 0xff;
  s[i++] = (crc >>> 16) & 0xff;
  s[i++] = (crc >>> 8) & 0xff;
  s[i] = crc & 0xff;
  return s;
}

/** Elementary PIDs (and the PCR PID) of a PMT section for `programme`, or null for another section. */
export function parsePmtPids(section: Uint8Array, programme: number): number[] | null {
  if (section[0] !== 0x02 || section.length < 16) return null;
  if ((((section[3] as number) << 8) | (section[4] as number)) !== programme) return null;
  const pids = new Set<number>([(((section[8] as number) & 0x1f) << 8) | (section[9] as number)]);
  const infoLength = (((section[10] as number) & 0x0f) << 8) | (section[11] as number);
  for (let i = 12 + infoLength; i + 5 <= section.length - 4; ) {
    pids.add((((section[i + 1] as number) & 0x1f) << 8) | (section[i + 2] as number));
    i += 5 + ((((section[i + 3] as number) & 0x0f) << 8) | (section[i + 4] as number));
  }
  pids.delete(NULL_PID);
  return [...pids];
}

/** Writes one PAT packet carrying `section` into `buf` at `off`, keeping the original header's CC. */
function writePatPacket(buf: Uint8Array, off: number, section: Uint8Array): void {
  const cc = (buf[off + 3] as number) & 0x0f;
  buf.fill(0xff, off, off + TS_PACKET_SIZE);
  buf[off] = SYNC;
  buf[off + 1] = 0x40; // payload_unit_start, PID 0
  buf[off + 2] = 0x00;
  buf[off + 3] = 0x10 | cc; // payload only, not scrambled
  buf[off + 4] = 0x00; // pointer_field
  buf.set(section, off + 5);
}

/** Scrambles the packet at `off` in place: scrambling bits '10' and a random payload. */
export function scramblePacket(buf: Uint8Array, off: number, random: () => number): void {
  const p = payloadOffset(buf, off);
  if (p < 0) return;
  buf[off + 3] = ((buf[off + 3] as number) & 0x3f) | 0x80;
  for (let i = p; i < off + TS_PACKET_SIZE; i += 4) {
    const r = (random() * 0x100000000) >>> 0;
    buf[i] = r & 0xff;
    if (i + 1 < off + TS_PACKET_SIZE) buf[i + 1] = (r >>> 8) & 0xff;
    if (i + 2 < off + TS_PACKET_SIZE) buf[i + 2] = (r >>> 16) & 0xff;
    if (i + 3 < off + TS_PACKET_SIZE) buf[i + 3] = (r >>> 24) & 0xff;
  }
}

/** What the filter does to the stream now. */
export interface TsFaultMode {
  scrambled: boolean;
  serviceMissing: boolean;
}

/** One receiver output's view of its service: learns PIDs from the clear stream, applies the faults. */
export class TsFaultFilter {
  private readonly pmtPids = new Set<number>();
  private servicePmtPid: number | null = null;
  private readonly esPids = new Set<number>();
  /** The last PAT seen and its rewrite without the programme (rebuilt only when the PAT changes). */
  private patCache: { crc: number; without: Uint8Array } | null = null;

  constructor(
    readonly serviceId: number,
    private readonly random: () => number,
  ) {}

  /** PIDs of the service learnt so far (tests, status). */
  get pids(): { pmt: number | null; es: number[] } {
    return { pmt: this.servicePmtPid, es: [...this.esPids].sort((a, b) => a - b) };
  }

  /**
   * Applies `mode` to a datagram of whole TS packets, in place. Returns the datagram (possibly shortened
   * when packets were dropped), or null when nothing is left to send.
   */
  apply(datagram: Buffer, mode: TsFaultMode): Buffer | null {
    let write = 0;
    for (let off = 0; off + TS_PACKET_SIZE <= datagram.length; off += TS_PACKET_SIZE) {
      if (datagram[off] !== SYNC) {
        // Not packet-aligned: pass through untouched (the relay never splits packets, DOMAIN.md §4).
        if (write !== off) datagram.copy(datagram, write, off, off + TS_PACKET_SIZE);
        write += TS_PACKET_SIZE;
        continue;
      }
      const pid = packetPid(datagram, off);
      this.learn(datagram, off, pid);
      let keep = true;
      if (mode.serviceMissing) {
        if (pid === PAT_PID) this.dropProgramme(datagram, off);
        else if (pid === this.servicePmtPid || this.esPids.has(pid)) keep = false;
      }
      if (keep && mode.scrambled && this.isElementary(pid)) scramblePacket(datagram, off, this.random);
      if (!keep) continue;
      if (write !== off) datagram.copy(datagram, write, off, off + TS_PACKET_SIZE);
      write += TS_PACKET_SIZE;
    }
    if (write === 0) return null;
    return write === datagram.length ? datagram : datagram.subarray(0, write);
  }

  private isElementary(pid: number): boolean {
    if (pid <= LAST_SI_PID || pid === NULL_PID || this.pmtPids.has(pid)) return false;
    return true;
  }

  private learn(buf: Buffer, off: number, pid: number): void {
    if (pid !== PAT_PID && !this.pmtPids.has(pid)) return;
    const section = sectionIn(buf, off);
    if (!section) return;
    if (pid === PAT_PID) {
      const pat = parsePat(section);
      if (!pat) return;
      this.pmtPids.clear();
      for (const p of pat.programmes) if (p.number !== 0) this.pmtPids.add(p.pmtPid);
      this.servicePmtPid = pat.programmes.find((p) => p.number === this.serviceId)?.pmtPid ?? null;
      return;
    }
    if (pid === this.servicePmtPid) {
      const es = parsePmtPids(section, this.serviceId);
      if (!es) return;
      this.esPids.clear();
      for (const p of es) this.esPids.add(p);
    }
  }

  private dropProgramme(buf: Buffer, off: number): void {
    const section = sectionIn(buf, off);
    if (!section) return;
    const crc = crc32Mpeg2(section.subarray(0, section.length - 4));
    if (this.patCache?.crc !== crc) {
      const pat = parsePat(section);
      if (!pat) return;
      const without = buildPat({
        ...pat,
        version: (pat.version + 1) & 0x1f,
        programmes: pat.programmes.filter((p) => p.number !== this.serviceId),
      });
      this.patCache = { crc, without };
    }
    writePatPacket(buf, off, this.patCache.without);
  }
}
