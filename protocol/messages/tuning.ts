/**
 * How to receive one service: its carrier (transponder) and its DVB service id. Shared by the line-up
 * and by every schedule document, which carries the tuning of each service it references (DESIGN.md §5).
 * Field meanings follow DOMAIN.md §2 and the RX8200 tune command (DOMAIN.md §3).
 */
import { z } from 'zod';
import { ServiceKey } from './common.js';

export const POLARISATIONS = ['H', 'V', 'L', 'R'] as const;
export const DELIVERY_SYSTEMS = ['DVB-S', 'DVB-S2'] as const;
export const MODULATIONS = ['QPSK', '8PSK'] as const;
/** Code rates of DVB-S (EN 300 421) and DVB-S2 (EN 302 307); validity per system is checked below. */
export const FEC_RATES = [
  '1/4',
  '1/3',
  '2/5',
  '1/2',
  '3/5',
  '2/3',
  '3/4',
  '4/5',
  '5/6',
  '7/8',
  '8/9',
  '9/10',
] as const;
export const ROLLOFFS = ['0.35', '0.25', '0.20'] as const;

export const Polarisation = z.enum(POLARISATIONS);
export const DeliverySystem = z.enum(DELIVERY_SYSTEMS);
export const Modulation = z.enum(MODULATIONS);
export const FecRate = z.enum(FEC_RATES);
export type FecRate = z.infer<typeof FecRate>;
export type Modulation = z.infer<typeof Modulation>;
export type DeliverySystem = z.infer<typeof DeliverySystem>;

const DVBS_FEC: ReadonlySet<string> = new Set(['1/2', '2/3', '3/4', '5/6', '7/8']);
const DVBS2_QPSK_FEC: ReadonlySet<string> = new Set([
  '1/4',
  '1/3',
  '2/5',
  '1/2',
  '3/5',
  '2/3',
  '3/4',
  '4/5',
  '5/6',
  '8/9',
  '9/10',
]);
const DVBS2_8PSK_FEC: ReadonlySet<string> = new Set(['3/5', '2/3', '3/4', '5/6', '8/9', '9/10']);

/** One satellite carrier. Frequencies in MHz, symbol rate in ksym/s. */
export const Transponder = z
  .object({
    /** Downlink frequency (RF), MHz. C-band 3400–4200, Ku 10700–12750 (DOMAIN.md §2). */
    frequencyMHz: z.number().min(3000).max(13000),
    polarisation: Polarisation,
    /** Symbol rate, ksym/s (e.g. 27500). */
    symbolRateKsps: z.number().min(1000).max(45000),
    system: DeliverySystem,
    modulation: Modulation,
    fec: FecRate,
    /** LNB local oscillator, MHz: C-band 5150, Ku universal 9750/10600 (DOMAIN.md §2). */
    lnbLoMHz: z.number().min(0).max(12000),
    /** Roll-off (DVB-S is always 0.35). */
    rolloff: z.enum(ROLLOFFS).default('0.35'),
    /** LNB supply on (the receiver powers the LNB over the cable). */
    lnbPower: z.boolean().default(true),
    /** Receiver RF input 1–4 (RX8200 `RFI`). */
    input: z.number().int().min(1).max(4).default(1),
  })
  .superRefine((t, ctx) => {
    const ok =
      t.system === 'DVB-S'
        ? t.modulation === 'QPSK' && DVBS_FEC.has(t.fec)
        : (t.modulation === 'QPSK' ? DVBS2_QPSK_FEC : DVBS2_8PSK_FEC).has(t.fec);
    if (!ok) {
      ctx.addIssue({
        code: 'custom',
        path: ['fec'],
        message: `${t.system} ${t.modulation} has no FEC ${t.fec}`,
      });
    }
    const ifMHz = intermediateFrequencyMHz(t);
    if (ifMHz < 950 || ifMHz > 2150) {
      ctx.addIssue({
        code: 'custom',
        path: ['lnbLoMHz'],
        message: `IF ${ifMHz} MHz is outside the receiver's L-band input 950–2150 MHz (DOMAIN.md §2)`,
      });
    }
  });
export type Transponder = z.infer<typeof Transponder>;

/** L-band IF the receiver sees: |LO − RF| (C-band: 5150 − f, DOMAIN.md §2). */
export function intermediateFrequencyMHz(t: { frequencyMHz: number; lnbLoMHz: number }): number {
  return Math.abs(t.lnbLoMHz - t.frequencyMHz);
}

/** Stable key of a carrier, used as the sharing key of whole-transport-stream receivers (DESIGN.md §5). */
export function transponderKey(
  t: Pick<Transponder, 'frequencyMHz' | 'polarisation' | 'symbolRateKsps'>,
): string {
  return `${t.frequencyMHz}${t.polarisation}${t.symbolRateKsps}`;
}

/** Everything needed to receive one line-up service. */
export const ServiceTuning = z.object({
  key: ServiceKey,
  /** Display name, e.g. "CCTV-1 综合". */
  name: z.string().min(1).max(120),
  /** DVB service id = MPEG-TS programme number; recordings select by it, never by PID (DOMAIN.md §4). */
  serviceId: z.number().int().min(1).max(65535),
  transponder: Transponder,
});
export type ServiceTuning = z.infer<typeof ServiceTuning>;
