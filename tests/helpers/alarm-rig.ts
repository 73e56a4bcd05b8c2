/**
 * A fake-clock rig for the alarm engine tests: a small line-up (two carriers of the DOMAIN.md §2 sample
 * tables), telemetry builders that go through the real zod schema, and a recorder of every transition.
 */

import { carrierLookupFromLineup } from '../../headend/alarms/carriers.js';
import { createAlarmEngine } from '../../headend/alarms/engine.js';
import type { AlarmPolicyInput } from '../../headend/alarms/rules.js';
import type { AlarmTransition, OutageWindow } from '../../headend/alarms/types.js';
import { Telemetry } from '../../protocol/messages/telemetry.js';
import { ServiceTuning } from '../../protocol/messages/tuning.js';
import type { AlarmKind } from '../../protocol/registry.js';
import { defaultTiming, type TimingProfile } from '../../protocol/timing.js';

const cctv = (key: string, sid: number, frequencyMHz: number) =>
  ServiceTuning.parse({
    key,
    name: key.toUpperCase(),
    serviceId: sid,
    transponder: {
      frequencyMHz,
      polarisation: 'H',
      symbolRateKsps: 27500,
      system: 'DVB-S',
      modulation: 'QPSK',
      fec: '3/4',
      lnbLoMHz: 5150,
    },
  });

/** Two carriers: 3840H27500 (cctv1, cctv2) and 3880H27500 (cctv13), DVB-S QPSK 3/4. */
export const LINEUP = {
  services: [cctv('cctv1', 101, 3840), cctv('cctv2', 102, 3840), cctv('cctv13', 113, 3880)],
};
export const CARRIER_A = '3840H27500';
export const CARRIER_B = '3880H27500';

/** 2026-11-27 02:00:00Z: far from any sun-outage season. */
export const T0 = Date.UTC(2026, 10, 27, 2, 0, 0);

/** One receiver's figures; defaults: healthy, locked on cctv1 with 6 dB margin. */
export interface RxInput {
  id?: string;
  link?: 'up' | 'down';
  locked?: boolean;
  service?: string | null;
  marginDb?: number | null;
  cnDb?: number | null;
  lnb?: 'ok' | 'short' | 'no_load' | 'off' | 'unknown';
}

/** Extra telemetry content. */
export interface TmExtra {
  recorders?: { receiverId?: string; bitrateBps: number; bytes: number; entryId?: string }[];
  disk?: { freeBytes: number; usedBytes: number; quotaBytes?: number | null };
}

/** A telemetry message, validated by the protocol schema. */
export function telemetry(at: number, receivers: RxInput[] = [{}], extra: TmExtra = {}) {
  return Telemetry.parse({
    at: new Date(at).toISOString(),
    receivers: receivers.map((r) => ({
      id: r.id ?? 'rx1',
      link: r.link ?? 'up',
      locked: r.locked ?? true,
      service: r.service === undefined ? 'cctv1' : r.service,
      level: null,
      cnDb: r.cnDb ?? null,
      marginDb: r.marginDb === undefined ? ((r.locked ?? true) ? 6 : null) : r.marginDb,
      ber: null,
      lnb: r.lnb ?? 'ok',
    })),
    recorders: (extra.recorders ?? []).map((x) => ({
      entryId: x.entryId ?? 'rec-1',
      nominalStart: '2026-11-27T02:00:00.000Z',
      receiverId: x.receiverId ?? 'rx1',
      bitrateBps: x.bitrateBps,
      bytes: x.bytes,
      ccErrors: 0,
    })),
    disk: { freeBytes: 500e9, usedBytes: 100e9, quotaBytes: null, ...extra.disk },
    host: { cpuPct: 10, memUsedBytes: 1e8, memTotalBytes: 1e9 },
  });
}

/** Options of the rig. */
export interface RigOptions {
  timing?: TimingProfile;
  policy?: AlarmPolicyInput;
  sunOutage?: (station: string, fromMs: number, toMs: number) => readonly OutageWindow[];
  start?: number;
}

/** Engine + fake clock + transition log. */
export function alarmRig(opts: RigOptions = {}) {
  let now = opts.start ?? T0;
  let n = 0;
  const transitions: AlarmTransition[] = [];
  const timing = opts.timing ?? defaultTiming;
  const engine = createAlarmEngine({
    timing,
    clock: () => now,
    carrierOf: carrierLookupFromLineup(LINEUP),
    ...(opts.sunOutage ? { sunOutage: opts.sunOutage } : {}),
    ...(opts.policy ? { policy: opts.policy } : {}),
    onTransition: (t) => transitions.push(t),
    newId: () => `a${++n}`,
  });
  const of = (type: AlarmTransition['type'], kind?: AlarmKind) =>
    transitions.filter((t) => t.type === type && (kind === undefined || t.alarm.kind === kind));
  return {
    engine,
    timing,
    transitions,
    now: () => now,
    /** Moves the clock to `at` and ticks. */
    at(at: number) {
      now = at;
      engine.tick(now);
    },
    /** Advances in `stepMs` steps for `ms`, calling `each(now)` before every tick. */
    run(ms: number, stepMs: number, each?: (now: number) => void) {
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + stepMs);
        each?.(now);
        engine.tick(now);
      }
    },
    raised: (kind?: AlarmKind) => of('raised', kind),
    cleared: (kind?: AlarmKind) => of('cleared', kind),
    of,
  };
}
