/**
 * Service → carrier lookup for the alarm engine, built from the line-up (DESIGN.md §4 `lineup`): fleet
 * correlation groups stations by the carrier they receive, margin rules need the carrier's modulation and
 * FEC (DOMAIN.md §2), and texts name the carrier the way the control room does.
 */
import type { Lineup } from '../../protocol/messages/lineup.js';
import { transponderKey } from '../../protocol/messages/tuning.js';
import type { CarrierInfo } from './types.js';

/** Service key → carrier, for `createAlarmEngine({ carrierOf })`. */
export type CarrierLookup = (service: string) => CarrierInfo | undefined;

/** A lookup over one line-up version (rebuild it when the line-up changes). */
export function carrierLookupFromLineup(
  lineup: Pick<Lineup, 'services' | 'transponderLabels'>,
): CarrierLookup {
  const byService = new Map<string, CarrierInfo>();
  for (const s of lineup.services) {
    const t = s.transponder;
    const key = transponderKey(t);
    const pol = t.polarisation;
    const label = lineup.transponderLabels?.[key] ?? `${t.frequencyMHz} MHz ${pol} ${t.symbolRateKsps} ks/s`;
    byService.set(s.key, { key, label, system: t.system, modulation: t.modulation, fec: t.fec });
  }
  return (service) => byService.get(service);
}
