/**
 * The simulated RX8200's command table (pure): which requests are status queries and what they answer,
 * and how set commands change the settings. Formats come from protocol/rx8200 (the same code the driver
 * decodes with, so the two cannot drift). Behaviour per DOMAIN.md §3: NAK on a bad or out-of-range value
 * (NA2–NA8 for grouped-tune fields), ACK on commands the receiver does not implement.
 */
import type { Modulation } from '../../protocol/messages/tuning.js';
import {
  alarmStatusReply,
  controlModeReply,
  decoderStatusReply,
  interpretGroupTune,
  type NakCode,
  operationalStatusReply,
  parseFec,
  parseFrequency,
  parseModulation,
  parseOnOff,
  parsePolarisation,
  parseRfInput,
  parseRolloff,
  parseServiceId,
  parseStandard,
  parseSymbolRate,
  qualityReply,
  type Rx8200AlarmName,
  type Rx8200Polarisation,
  type Rx8200Reply,
  type Rx8200Request,
  type Rx8200Rolloff,
  serviceNameReply,
  serviceStatusReply,
  tunerStatusReply,
} from '../../protocol/rx8200/index.js';
import type { SignalReading } from './signal-model.js';

/** The receiver's tuner settings (what `TUN;SRQ` reads back). */
export interface SimSettings {
  frequencyMHz: number;
  lnbLoMHz: number;
  polarisation: Rx8200Polarisation;
  symbolRateKsps: number;
  system: 'DVB-S' | 'DVB-S2';
  modulation: Modulation | 'AUTO';
  /** Code rate or `AUTO`. */
  fec: string;
  rolloff: Rx8200Rolloff;
  lnbPower: boolean;
  input: number;
}

/**
 * What the receiver holds after a power cut (DOMAIN.md §6: it forgets its settings). 4000 MHz carries
 * nothing in the sample line-up, so a forgotten receiver reads back differently AND does not lock.
 */
export const FACTORY_SETTINGS: Readonly<SimSettings> = {
  frequencyMHz: 4000,
  lnbLoMHz: 5150,
  polarisation: 'H',
  symbolRateKsps: 27500,
  system: 'DVB-S',
  modulation: 'QPSK',
  fec: '3/4',
  rolloff: '0.35',
  lnbPower: true,
  input: 1,
};

/** L-band input range of the tuner (DOMAIN.md §2): a tune whose IF falls outside is out of range. */
const IF_MIN_MHZ = 950;
const IF_MAX_MHZ = 2150;

/** What status answers need from the simulator. */
export interface StatusView {
  settings: SimSettings;
  serviceId: number | null;
  serviceName: string;
  serviceRunning: boolean;
  locked: boolean;
  reading: SignalReading;
  alarms: Rx8200AlarmName[];
}

/** Answer a status query, or null when `req` is not one. `view` is called only for queries. */
export function answerStatus(
  req: Rx8200Request,
  address: number,
  view: () => StatusView,
): Rx8200Reply | null {
  const key = `${req.command};${req.sub}`;
  const isQuery = req.params === undefined && req.group === undefined;
  if (!isQuery) return null;
  switch (key) {
    case 'OPR;QUA': {
      const v = view();
      // Unlocked: no C/N estimate and the BER ceiling, as a demodulator without sync reports.
      return qualityReply(address, {
        level0to255: v.reading.levelRaw,
        cnDb: v.locked ? (v.reading.cnDb ?? 0) : 0,
        ber: v.locked ? (v.reading.ber ?? 0.99) : 0.99,
      });
    }
    case 'OPR;SRQ': {
      const v = view();
      return operationalStatusReply(address, {
        level0to255: v.reading.levelRaw,
        alarms: v.alarms,
        ber: v.locked ? (v.reading.ber ?? 0.99) : 0.99,
      });
    }
    case 'SYS;SRA':
    case 'SYS;SRQ':
      return alarmStatusReply(address, view().alarms);
    case 'TUN;SRQ': {
      const s = view().settings;
      // The codec's builder takes the driver's types; AUTO modulation/FEC are patched to the wire's `AUT`.
      const reply = tunerStatusReply(address, { ...s, modulation: 'QPSK', fec: '3/4' });
      if (reply.kind !== 'data') return reply;
      const wire: Record<string, string> = {
        MOD: s.modulation === 'AUTO' ? 'AUT' : s.modulation === 'QPSK' ? 'QPS' : '8PS',
        FEC: s.fec === 'AUTO' ? 'AUT' : s.fec,
      };
      return { ...reply, fields: reply.fields.map((f) => ({ ...f, value: wire[f.name] ?? f.value })) };
    }
    case 'DEC;SRQ':
      return decoderStatusReply(address, view().locked ? 188 : null);
    case 'SER;SRQ': {
      const v = view();
      const state = !v.locked ? 'waiting-demod' : v.serviceRunning ? 'running' : 'waiting-pmt';
      return serviceStatusReply(address, state, v.serviceId);
    }
    case 'ENQ;NAM':
      return serviceNameReply(address, view().serviceName);
    case 'SYS;SRS':
      return controlModeReply(address);
    default:
      return null;
  }
}

/** Outcome of a set command. */
export type SetResult =
  | { kind: 'applied'; settings: SimSettings; serviceId: number | null; retune: boolean }
  | { kind: 'nak'; code: NakCode; reason: string }
  | { kind: 'unsupported' };

const nak = (reason: string, code: NakCode = 'NAK'): SetResult => ({ kind: 'nak', code, reason });

function ifInRange(s: Pick<SimSettings, 'frequencyMHz' | 'lnbLoMHz'>): boolean {
  const f = Math.abs(s.lnbLoMHz - s.frequencyMHz);
  return f >= IF_MIN_MHZ && f <= IF_MAX_MHZ;
}

/** One TUN field set on its own (`TUN;FRQ=…`); the value parsers throw on a bad value → NAK. */
function setTunerField(sub: string, value: string, s: SimSettings): SimSettings | null {
  switch (sub) {
    case 'FRQ':
      return { ...s, frequencyMHz: parseFrequency(value) };
    case 'LNB':
      return { ...s, lnbLoMHz: parseFrequency(value) };
    case 'POL':
      return { ...s, polarisation: parsePolarisation(value) };
    case 'SYM': {
      const sym = parseSymbolRate(value);
      if (sym < 1000 || sym > 48000) throw new Error(`symbol rate ${sym} out of range`);
      return { ...s, symbolRateKsps: sym };
    }
    case 'MOD':
      return { ...s, modulation: parseModulation(value) };
    case 'FEC':
      return { ...s, fec: parseFec(value) };
    case 'ROL':
      return { ...s, rolloff: parseRolloff(value) };
    case 'STD':
      return { ...s, system: parseStandard(value) };
    case 'PWR':
      return { ...s, lnbPower: parseOnOff(value) };
    case 'RFI':
      return { ...s, input: parseRfInput(value) };
    default:
      return null;
  }
}

/** Apply a set command to the settings (pure). */
export function applySet(req: Rx8200Request, settings: SimSettings, serviceId: number | null): SetResult {
  if (req.command === 'TUN' && req.sub === 'GRP') {
    if (!req.group) return nak('TUN;GRP needs grouped fields');
    const r = interpretGroupTune(req.group);
    if (!r.ok) return nak(r.reason, r.nak);
    const next: SimSettings = { ...settings, ...r.tuning };
    if (!ifInRange(next)) return nak(`IF ${Math.abs(next.lnbLoMHz - next.frequencyMHz)} MHz out of range`);
    return { kind: 'applied', settings: next, serviceId, retune: true };
  }
  if (req.command === 'TUN' && req.params !== undefined) {
    let next: SimSettings | null;
    try {
      next = setTunerField(req.sub, req.params, settings);
    } catch (err) {
      return nak(err instanceof Error ? err.message : 'bad value');
    }
    if (next === null) return { kind: 'unsupported' };
    if (next.frequencyMHz > 19999.875 || next.lnbLoMHz > 19999.875) return nak('frequency out of range');
    // Any tuner change, LNB power included, restarts acquisition.
    return { kind: 'applied', settings: next, serviceId, retune: true };
  }
  if (req.command === 'SER' && req.sub === 'SEL' && req.params !== undefined) {
    try {
      return { kind: 'applied', settings, serviceId: parseServiceId(req.params), retune: false };
    } catch (err) {
      return nak(err instanceof Error ? err.message : 'bad service id');
    }
  }
  return { kind: 'unsupported' };
}
