/**
 * Typed RX8200 command builders (manual ST.TS.EXXXXX.1 §4; DOMAIN.md §3). Each returns an
 * `Rx8200Command` (no address: the link owns the address) to pass to `encodeRequest`.
 *
 * What the documented protocol does NOT have, so the driver must not pretend otherwise:
 * - no soft reset / reboot command (the recovery ladder of DOMAIN.md §6 must escalate to a relay or
 *   an operator instead);
 * - no identity/model/firmware-version query in the sections available; the nearest documented probe is
 *   `SYS;SRS`, which always answers `SRS;CMO=RCM_` ("returns control mode status") and so proves an
 *   Alteia-speaking IRD answers at this address (`identify()`);
 * - no unsolicited events: everything is polled (manual §3.1).
 * ACK means "accepted", not "done"; verify every change by reading status back (`tuningMismatches` in replies.ts).
 */
import type { DeliverySystem, FecRate, Modulation, Transponder } from '../messages/tuning.js';
import {
  formatFec,
  formatFrequency,
  formatModulation,
  formatOnOff,
  formatPolarisation,
  formatRfInput,
  formatRolloff,
  formatServiceId,
  formatStandard,
  formatSymbolRate,
  parseFec,
  parseFrequency,
  parseModulation,
  parseOnOff,
  parsePolarisation,
  parseRfInput,
  parseSymbolRate,
  type Rx8200Polarisation,
  type Rx8200Rolloff,
} from './fields.js';
import type { NakCode, Rx8200Command, Rx8200Field } from './messages.js';

/** What the IRD needs to receive one carrier. */
export interface Rx8200Tuning {
  /** Downlink (RF) frequency, MHz. */
  frequencyMHz: number;
  /** LNB local oscillator, MHz (C-band 5150, DOMAIN.md §2). */
  lnbLoMHz: number;
  polarisation: Rx8200Polarisation;
  /** Symbol rate, ksym/s. */
  symbolRateKsps: number;
  system: DeliverySystem;
  modulation: Modulation;
  fec: FecRate;
  rolloff: Rx8200Rolloff;
  /** LNB supply on. */
  lnbPower: boolean;
  /** RF input 1–4. */
  input: number;
}

/**
 * A line-up transponder as RX8200 tuning. The IRD only knows HOR/VER (LNB supply 18 V / 13 V);
 * circular polarisation maps the usual way, L → 18 V (HOR) and R → 13 V (VER).
 */
export function tuningFromTransponder(t: Transponder): Rx8200Tuning {
  return {
    frequencyMHz: t.frequencyMHz,
    lnbLoMHz: t.lnbLoMHz,
    polarisation: t.polarisation === 'H' || t.polarisation === 'L' ? 'H' : 'V',
    symbolRateKsps: t.symbolRateKsps,
    system: t.system,
    modulation: t.modulation,
    fec: t.fec,
    rolloff: t.rolloff,
    lnbPower: t.lnbPower,
    input: t.input,
  };
}

/** Grouped-tune field order, as in the manual's example. All must be present (manual §4.2.1). */
export const GROUP_TUNE_FIELDS = ['FRQ', 'LNB', 'POL', 'RFI', 'PWR', 'MOD', 'FEC', 'SYM'] as const;

/** `TUN;GRP-FRQ=…-LNB=…-POL=…-RFI=NO d-PWR=…-MOD=…-FEC=…-SYM=…`: the whole tuning in one request. */
export function tuneGroup(t: Rx8200Tuning): Rx8200Command {
  const values: Record<(typeof GROUP_TUNE_FIELDS)[number], string> = {
    FRQ: formatFrequency(t.frequencyMHz),
    LNB: formatFrequency(t.lnbLoMHz),
    POL: formatPolarisation(t.polarisation),
    RFI: formatRfInput(t.input),
    PWR: formatOnOff(t.lnbPower),
    MOD: formatModulation(t.modulation),
    FEC: formatFec(t.fec),
    SYM: formatSymbolRate(t.symbolRateKsps),
  };
  return {
    command: 'TUN',
    sub: 'GRP',
    group: GROUP_TUNE_FIELDS.map((name) => ({ name, value: values[name] })),
  };
}

/** `TUN;STD=S1|S2`. */
export function setStandard(system: DeliverySystem): Rx8200Command {
  return { command: 'TUN', sub: 'STD', params: formatStandard(system) };
}

/** `TUN;ROL=20|25|35`. */
export function setRolloff(rolloff: Rx8200Rolloff): Rx8200Command {
  return { command: 'TUN', sub: 'ROL', params: formatRolloff(rolloff) };
}

/**
 * The requests that fully apply a tuning, in order: the standard first (it decides how the grouped
 * parameters are read), the roll-off for DVB-S2 only (DVB-S is always 0.35), then the grouped tune,
 * which starts acquisition. Idempotent: re-sending after a power loss restores everything
 * (DOMAIN.md §6, "receiver forgets settings").
 */
export function tune(t: Rx8200Tuning): Rx8200Command[] {
  const cmds = [setStandard(t.system)];
  if (t.system === 'DVB-S2') cmds.push(setRolloff(t.rolloff));
  cmds.push(tuneGroup(t));
  return cmds;
}

/** `SER;SEL=ddddd`: select the service (programme number) to decode. */
export function selectService(serviceId: number): Rx8200Command {
  return { command: 'SER', sub: 'SEL', params: formatServiceId(serviceId) };
}

/** `TUN;PWR=ON|OFF`: LNB supply. */
export function lnbPower(on: boolean): Rx8200Command {
  return { command: 'TUN', sub: 'PWR', params: formatOnOff(on) };
}

/** `TUN;RFI=NO d`: RF input. */
export function selectInput(input: number): Rx8200Command {
  return { command: 'TUN', sub: 'RFI', params: formatRfInput(input) };
}

const status = (command: string, sub = 'SRQ'): Rx8200Command => ({ command, sub });

/** `OPR;QUA` → `SIG=ddd_EBN=cdd.d_BER=ddE-d` (decode with `parseQuality`). */
export const qualityRequest = (): Rx8200Command => status('OPR', 'QUA');
/** `OPR;SRQ` → `SIG_ALR_BER_ALL_SAQ` (decode with `parseOperationalStatus`). */
export const statusRequest = (): Rx8200Command => status('OPR');
/** `SYS;SRA` → alarm status, Alteia format (decode with `parseAlarmStatus`). */
export const alarmsRequest = (): Rx8200Command => status('SYS', 'SRA');
/** `SYS;SRQ` → alarm status, System 3000 format (decode with `parseAlarmStatus`). */
export const systemAlarmsRequest = (): Rx8200Command => status('SYS');
/** `TUN;SRQ` → the tuner settings, for read-back (decode with `parseTunerStatus`). */
export const tunerStatusRequest = (): Rx8200Command => status('TUN');
/** `DEC;SRQ` → decoder source and TS packet lock (decode with `parseDecoderStatus`). */
export const decoderStatusRequest = (): Rx8200Command => status('DEC');
/** `SER;SRQ` → service status WAIT.DEM / WAIT.PMT / RUNNING. (decode with `parseServiceStatus`). */
export const serviceStatusRequest = (): Rx8200Command => status('SER');
/** `ENQ;NAM` → the current service's name (decode with `parseServiceName`). */
export const serviceNameRequest = (): Rx8200Command => status('ENQ', 'NAM');
/** `SYS;SRS` → `SRS;CMO=RCM`: the documented probe that an IRD answers (see the header). */
export const identify = (): Rx8200Command => status('SYS', 'SRS');

/** The settings a grouped tune carries (no standard or roll-off: those are separate sub-commands). */
export interface Rx8200GroupTuning extends Omit<Rx8200Tuning, 'system' | 'rolloff' | 'modulation' | 'fec'> {
  /** `AUTO` when the request said `MOD=AUT`. */
  modulation: Modulation | 'AUTO';
  /** A code rate such as `3/4`, or `AUTO` for `FEC=AUT`. */
  fec: string;
}

/** What an RX8200 does with a grouped tune: the settings, or the NAK it answers. */
export type GroupTuneResult =
  | { ok: true; tuning: Rx8200GroupTuning }
  | { ok: false; nak: NakCode; reason: string };

/**
 * Validates a `TUN;GRP` request's fields as the IRD does (manual §4.2.1): an unknown field starting
 * with P → NA6; PWR missing/incorrect → NA2/NA3; POL → NA4/NA5; FEC → NA7/NA8; any other missing or
 * bad field (FRQ, LNB, RFI, MOD, SYM) → NAK. Used by the simulator; the driver maps the answer back.
 */
export function interpretGroupTune(group: ReadonlyArray<Rx8200Field>): GroupTuneResult {
  const byName = new Map<string, string>();
  for (const f of group) {
    if (f.name.startsWith('P') && f.name !== 'PWR' && f.name !== 'POL') {
      return { ok: false, nak: 'NA6', reason: `unknown grouped field ${f.name}` };
    }
    if (!(GROUP_TUNE_FIELDS as readonly string[]).includes(f.name)) {
      return { ok: false, nak: 'NAK', reason: `unknown grouped field ${f.name}` };
    }
    byName.set(f.name, f.value);
  }
  const field = <T>(
    name: string,
    missing: NakCode,
    incorrect: NakCode,
    parse: (v: string) => T,
  ): T | NakFail => {
    const v = byName.get(name);
    if (v === undefined) return { nak: missing, reason: `${name} missing` };
    try {
      return parse(v);
    } catch (err) {
      return { nak: incorrect, reason: err instanceof Error ? err.message : `${name} incorrect` };
    }
  };
  const lnbPower = field('PWR', 'NA2', 'NA3', parseOnOff);
  if (isFail(lnbPower)) return { ok: false, ...lnbPower };
  const polarisation = field('POL', 'NA4', 'NA5', parsePolarisation);
  if (isFail(polarisation)) return { ok: false, ...polarisation };
  const fec = field('FEC', 'NA7', 'NA8', parseFec);
  if (isFail(fec)) return { ok: false, ...fec };
  const frequencyMHz = field('FRQ', 'NAK', 'NAK', parseFrequency);
  if (isFail(frequencyMHz)) return { ok: false, ...frequencyMHz };
  const lnbLoMHz = field('LNB', 'NAK', 'NAK', parseFrequency);
  if (isFail(lnbLoMHz)) return { ok: false, ...lnbLoMHz };
  const input = field('RFI', 'NAK', 'NAK', parseRfInput);
  if (isFail(input)) return { ok: false, ...input };
  const modulation = field('MOD', 'NAK', 'NAK', parseModulation);
  if (isFail(modulation)) return { ok: false, ...modulation };
  const symbolRateKsps = field('SYM', 'NAK', 'NAK', parseSymbolRate);
  if (isFail(symbolRateKsps)) return { ok: false, ...symbolRateKsps };
  if (symbolRateKsps < 1000 || symbolRateKsps > 48000) {
    return { ok: false, nak: 'NAK', reason: `symbol rate ${symbolRateKsps} ksym/s outside 1000–48000` };
  }
  return {
    ok: true,
    tuning: {
      frequencyMHz,
      lnbLoMHz,
      polarisation,
      symbolRateKsps,
      modulation,
      fec,
      lnbPower,
      input,
    },
  };
}

interface NakFail {
  nak: NakCode;
  reason: string;
}

function isFail(v: unknown): v is NakFail {
  return typeof v === 'object' && v !== null && 'nak' in v;
}
