/**
 * Typed RX8200 reply decoders, each with the matching builder the simulator uses to answer
 * (manual ST.TS.EXXXXX.1 §4.2–4.15; DOMAIN.md §3). Decoders throw `Rx8200CodecError` (`bad-reply` for
 * the wrong kind of reply, `bad-value` for a missing or unparseable field), never anything else.
 *
 * Documented reply formats: `OPR;QUA`, `OPR;SRQ`, `DEC;SRQ`, `ENQ;NAM`, `SYS;SRS`. ASSUMED (the manual
 * lists the request but the available pages do not print the reply), each marked where defined:
 * `SYS;SRA`/`SYS;SRQ` (alarm field names), `TUN;SRQ` (fields named after the set sub-commands),
 * `SER;SRQ` (status field name).
 */
import { decodeAlarmBitmap, encodeAlarmBitmap, type Rx8200AlarmName, type Rx8200Alarms } from './alarms.js';
import type { Rx8200Tuning } from './commands.js';
import {
  FREQ_STEPS_PER_MHZ,
  formatBer,
  formatBitmap,
  formatCn,
  formatFec,
  formatFrequency,
  formatLevel,
  formatModulation,
  formatOnOff,
  formatPolarisation,
  formatRfInput,
  formatRolloff,
  formatServiceId,
  formatStandard,
  formatSymbolRate,
  parseBer,
  parseBitmap,
  parseCn,
  parseFec,
  parseFrequency,
  parseLevel,
  parseModulation,
  parseOnOff,
  parsePolarisation,
  parseRfInput,
  parseRolloff,
  parseServiceId,
  parseStandard,
  parseSymbolRate,
} from './fields.js';
import { Rx8200CodecError } from './frame.js';
import { optionalField, type Rx8200Field, type Rx8200Reply, requireField } from './messages.js';

function expectData(reply: Rx8200Reply, command: string): Extract<Rx8200Reply, { kind: 'data' }> {
  if (reply.kind !== 'data') {
    throw new Rx8200CodecError(
      'bad-reply',
      `expected a ${command} data reply, got ${reply.kind.toUpperCase()}`,
    );
  }
  if (reply.command !== command) {
    throw new Rx8200CodecError('bad-reply', `expected a ${command} reply, got ${reply.command}`);
  }
  return reply;
}

const data = (address: number, command: string, fields: Rx8200Field[]): Rx8200Reply => ({
  kind: 'data',
  address,
  command,
  fields,
});

/** NAK/NAx as a sentence for errors and logs; null for ACK and data. */
export function nakReason(reply: Rx8200Reply): string | null {
  if (reply.kind !== 'nak') return null;
  if (reply.rejection) return `${reply.code}: ${reply.rejection.description}`;
  return 'NAK: command not recognised, not implemented, badly formatted or out of range';
}

/** `OPR;QUA` reply: `SIG=ddd_EBN=cdd.d_BER=ddE-d` (documented). */
export interface Rx8200Quality {
  /** Signal strength, nominal units 0–255 (255 = full scale). */
  level0to255: number;
  /**
   * The `EBN` field in dB. The manual calls it the "C/N value", and it is compared with the required
   * C/N (Es/N0) of the carrier (link-budget.ts); the name follows the wire field.
   */
  ebnoDb: number;
  /** Same value as `ebnoDb`, under the name the margin arithmetic uses. */
  cnDb: number;
  /** Post-Viterbi BER. */
  ber: number;
}

export function parseQuality(reply: Rx8200Reply): Rx8200Quality {
  const r = expectData(reply, 'OPR');
  const cn = parseCn(requireField(r, 'EBN'));
  return {
    level0to255: parseLevel(requireField(r, 'SIG')),
    ebnoDb: cn,
    cnDb: cn,
    ber: parseBer(requireField(r, 'BER')),
  };
}

export function qualityReply(
  address: number,
  q: { level0to255: number; cnDb: number; ber: number },
): Rx8200Reply {
  return data(address, 'OPR', [
    { name: 'SIG', value: formatLevel(q.level0to255) },
    { name: 'EBN', value: formatCn(q.cnDb) },
    { name: 'BER', value: formatBer(q.ber) },
  ]);
}

/** `OPR;SRQ` reply: `SIG=ddd_ALR=hhhh_BER=ddE-d_ALL=hhhhh_SAQ=ccc` (documented). */
export interface Rx8200OperationalStatus {
  level0to255: number;
  /** The 16-bit Alteia alarm bitmap, named (alarms.ts). */
  alarms: Rx8200Alarms;
  ber: number;
  /** The 20-bit System 3000 bitmap, raw (its bit table is not used here). */
  system3000Alarms: number;
  /** Signal acquisition mode; the RX8200 always answers `ACO` ("actual only"). */
  acquisition: string;
}

export function parseOperationalStatus(reply: Rx8200Reply): Rx8200OperationalStatus {
  const r = expectData(reply, 'OPR');
  const all = optionalField(r, 'ALL');
  return {
    level0to255: parseLevel(requireField(r, 'SIG')),
    alarms: decodeAlarmBitmap(parseBitmap(requireField(r, 'ALR'))),
    ber: parseBer(requireField(r, 'BER')),
    system3000Alarms: all === undefined ? 0 : parseBitmap(all),
    acquisition: optionalField(r, 'SAQ') ?? 'ACO',
  };
}

export function operationalStatusReply(
  address: number,
  s: { level0to255: number; alarms: Iterable<Rx8200AlarmName>; ber: number; system3000Alarms?: number },
): Rx8200Reply {
  return data(address, 'OPR', [
    { name: 'SIG', value: formatLevel(s.level0to255) },
    { name: 'ALR', value: formatBitmap(encodeAlarmBitmap(s.alarms), 4) },
    { name: 'BER', value: formatBer(s.ber) },
    { name: 'ALL', value: formatBitmap(s.system3000Alarms ?? 0, 5) },
    { name: 'SAQ', value: 'ACO' },
  ]);
}

/**
 * `SYS;SRA` reply. ASSUMED format `SYS;ALR=hhhhh` (Alteia bitmap; the SYS table writes Alteia masks with
 * five hex digits). `SYS;SRQ` (System 3000 format) is read from `ALL` if `ALR` is absent.
 */
export function parseAlarmStatus(reply: Rx8200Reply): Rx8200Alarms {
  const r = expectData(reply, 'SYS');
  const bits = optionalField(r, 'ALR') ?? requireField(r, 'ALL');
  return decodeAlarmBitmap(parseBitmap(bits));
}

export function alarmStatusReply(address: number, alarms: Iterable<Rx8200AlarmName>): Rx8200Reply {
  return data(address, 'SYS', [{ name: 'ALR', value: formatBitmap(encodeAlarmBitmap(alarms), 5) }]);
}

/** `TUN;SRQ` read-back. ASSUMED format: the set sub-commands' names and formats, one field each. */
export interface Rx8200TunerStatus {
  frequencyMHz: number;
  lnbLoMHz: number;
  polarisation: 'H' | 'V';
  input: number;
  lnbPower: boolean;
  modulation: Rx8200Tuning['modulation'] | 'AUTO';
  /** Code rate or `AUTO`. */
  fec: string;
  symbolRateKsps: number;
  system: Rx8200Tuning['system'];
  rolloff: Rx8200Tuning['rolloff'];
}

export function parseTunerStatus(reply: Rx8200Reply): Rx8200TunerStatus {
  const r = expectData(reply, 'TUN');
  return {
    frequencyMHz: parseFrequency(requireField(r, 'FRQ')),
    lnbLoMHz: parseFrequency(requireField(r, 'LNB')),
    polarisation: parsePolarisation(requireField(r, 'POL')),
    input: parseRfInput(requireField(r, 'RFI')),
    lnbPower: parseOnOff(requireField(r, 'PWR')),
    modulation: parseModulation(requireField(r, 'MOD')),
    fec: parseFec(requireField(r, 'FEC')),
    symbolRateKsps: parseSymbolRate(requireField(r, 'SYM')),
    system: parseStandard(requireField(r, 'STD')),
    rolloff: parseRolloff(requireField(r, 'ROL')),
  };
}

/** The simulator's `TUN;SRQ` answer for its current settings. */
export function tunerStatusReply(address: number, t: Rx8200Tuning): Rx8200Reply {
  return data(address, 'TUN', [
    { name: 'FRQ', value: formatFrequency(t.frequencyMHz) },
    { name: 'LNB', value: formatFrequency(t.lnbLoMHz) },
    { name: 'POL', value: formatPolarisation(t.polarisation) },
    { name: 'RFI', value: formatRfInput(t.input) },
    { name: 'PWR', value: formatOnOff(t.lnbPower) },
    { name: 'MOD', value: formatModulation(t.modulation) },
    { name: 'FEC', value: formatFec(t.fec) },
    { name: 'SYM', value: formatSymbolRate(t.symbolRateKsps) },
    { name: 'STD', value: formatStandard(t.system) },
    { name: 'ROL', value: formatRolloff(t.rolloff) },
  ]);
}

const sameStep = (a: number, b: number) =>
  Math.round(a * FREQ_STEPS_PER_MHZ) === Math.round(b * FREQ_STEPS_PER_MHZ);

/**
 * Differences between the desired tuning and what the IRD reports, as sentences (empty = applied).
 * Compared at the wire's resolution (125 kHz, 100 sym/s); `AUTO` read back for a value we sent as
 * `AUT` is a match. DOMAIN.md §6: a difference means the IRD forgot its settings → re-apply.
 */
export function tuningMismatches(desired: Rx8200Tuning, actual: Rx8200TunerStatus): string[] {
  const out: string[] = [];
  const diff = (what: string, want: unknown, got: unknown) =>
    out.push(`${what}: want ${want}, IRD has ${got}`);
  if (!sameStep(desired.frequencyMHz, actual.frequencyMHz))
    diff('frequency MHz', desired.frequencyMHz, actual.frequencyMHz);
  if (!sameStep(desired.lnbLoMHz, actual.lnbLoMHz)) diff('LNB LO MHz', desired.lnbLoMHz, actual.lnbLoMHz);
  if (desired.polarisation !== actual.polarisation)
    diff('polarisation', desired.polarisation, actual.polarisation);
  if (desired.input !== actual.input) diff('RF input', desired.input, actual.input);
  if (desired.lnbPower !== actual.lnbPower) diff('LNB power', desired.lnbPower, actual.lnbPower);
  if (Math.round(desired.symbolRateKsps * 10) !== Math.round(actual.symbolRateKsps * 10)) {
    diff('symbol rate ksym/s', desired.symbolRateKsps, actual.symbolRateKsps);
  }
  if (desired.system !== actual.system) diff('system', desired.system, actual.system);
  if (actual.modulation !== 'AUTO' && desired.modulation !== actual.modulation) {
    diff('modulation', desired.modulation, actual.modulation);
  }
  const sentFec = formatFec(desired.fec);
  if (actual.fec !== 'AUTO' && sentFec !== 'AUT' && sentFec !== actual.fec)
    diff('FEC', desired.fec, actual.fec);
  if (desired.system === 'DVB-S2' && desired.rolloff !== actual.rolloff)
    diff('roll-off', desired.rolloff, actual.rolloff);
  return out;
}

/** `DEC;SRQ` reply: `DSR=ASC_LOC=188|204|NLC` (documented). */
export interface Rx8200DecoderStatus {
  /** Decoder source (the RX8200 always answers `ASC`). */
  source: string;
  /** Transport-stream packet lock: 188 or 204-byte packets, or null when not locked. */
  packetLock: 188 | 204 | null;
}

export function parseDecoderStatus(reply: Rx8200Reply): Rx8200DecoderStatus {
  const r = expectData(reply, 'DEC');
  const loc = requireField(r, 'LOC');
  if (loc !== '188' && loc !== '204' && loc !== 'NLC') {
    throw new Rx8200CodecError('bad-value', `LOC: expected 188, 204 or NLC, got ${JSON.stringify(loc)}`);
  }
  return {
    source: optionalField(r, 'DSR') ?? 'ASC',
    packetLock: loc === 'NLC' ? null : loc === '188' ? 188 : 204,
  };
}

export function decoderStatusReply(address: number, packetLock: 188 | 204 | null): Rx8200Reply {
  return data(address, 'DEC', [
    { name: 'DSR', value: 'ASC' },
    { name: 'LOC', value: packetLock === null ? 'NLC' : String(packetLock) },
  ]);
}

/** `SER;SRQ` states (documented values; the manual writes them with a trailing dot). */
export type Rx8200ServiceState = 'waiting-demod' | 'waiting-pmt' | 'running';
const SERVICE_STATES: Record<string, Rx8200ServiceState> = {
  'WAIT.DEM': 'waiting-demod',
  'WAIT.PMT': 'waiting-pmt',
  'RUNNING.': 'running',
};

/** ASSUMED format `SER;SEL=ddddd_STS=RUNNING.` (the manual gives the values, not the field names). */
export function parseServiceStatus(reply: Rx8200Reply): {
  state: Rx8200ServiceState;
  serviceId: number | null;
} {
  const r = expectData(reply, 'SER');
  const raw = requireField(r, 'STS');
  const state = SERVICE_STATES[raw];
  if (!state)
    throw new Rx8200CodecError('bad-value', `STS: expected WAIT.DEM, WAIT.PMT or RUNNING., got ${raw}`);
  const sel = optionalField(r, 'SEL');
  return { state, serviceId: sel === undefined ? null : parseServiceId(sel) };
}

export function serviceStatusReply(
  address: number,
  state: Rx8200ServiceState,
  serviceId: number | null,
): Rx8200Reply {
  const wire = Object.keys(SERVICE_STATES).find((k) => SERVICE_STATES[k] === state) ?? 'WAIT.DEM';
  const fields: Rx8200Field[] =
    serviceId === null ? [] : [{ name: 'SEL', value: formatServiceId(serviceId) }];
  fields.push({ name: 'STS', value: wire });
  return data(address, 'SER', fields);
}

/** `ENQ;NAM` reply: `NAM=c…c`, 30 characters padded with spaces (documented). Returns it trimmed. */
export function parseServiceName(reply: Rx8200Reply): string {
  return requireField(expectData(reply, 'ENQ'), 'NAM').trimEnd();
}

/** Non-ASCII (e.g. Chinese) names cannot cross this ASCII protocol; they are replaced by `?`. */
export function serviceNameReply(address: number, name: string): Rx8200Reply {
  const ascii = name
    .replace(/[^\x20-\x7e]|[\\$_]/g, '?')
    .slice(0, 30)
    .padEnd(30, ' ');
  return data(address, 'ENQ', [{ name: 'NAM', value: ascii }]);
}

/** `SYS;SRS` reply: `SRS;CMO=RCM` (documented: "always return SRS;CMO=RCM_"). */
export function parseControlMode(reply: Rx8200Reply): string {
  return requireField(expectData(reply, 'SRS'), 'CMO');
}

export function controlModeReply(address: number): Rx8200Reply {
  return data(address, 'SRS', [{ name: 'CMO', value: 'RCM' }]);
}
