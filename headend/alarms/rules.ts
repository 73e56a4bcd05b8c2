/**
 * The alarm rules: for every alarm kind the headend raises or relays, its hold times (from the one timing
 * profile, DESIGN.md §4), how it avoids flapping, and whether sun outages or fleet correlation apply
 * (DOMAIN.md §2 "Apply hysteresis and a hold time of 1–2 minutes so a passing dip does not flap"; §6).
 * Severity and the failure-table row come from the registry (protocol/failures.ts); this table never
 * redefines them. Thresholds that are not timings (dB, ratios, counts) live in `AlarmPolicy`.
 */
import { z } from 'zod';
import { DEFAULT_MARGIN_POLICY } from '../../protocol/link-budget.js';
import { ALARM_KINDS, type AlarmKind } from '../../protocol/registry.js';
import type { TimingProfile } from '../../protocol/timing.js';
import { SEVERITY_LEVEL } from './types.js';

/** How one kind is held and filtered. */
export interface RuleSpec {
  /** How long the condition must hold before the alarm is raised (or escalated). */
  raiseHoldMs(t: TimingProfile): number;
  /** How long the condition must be absent before the alarm clears (or de-escalates). */
  clearHoldMs(t: TimingProfile): number;
  /** How the rule avoids flapping besides the holds (shown in docs and the UI's rule list). */
  hysteresis: string;
  /** Expected during a predicted sun-outage window: raising is suppressed there (DOMAIN.md §6, Sun outage). */
  sunOutage: boolean;
  /** Folded into one fleet alarm when many stations on the carrier lose it at once (DOMAIN.md §6). */
  fleet: boolean;
  /** Stays raised after the condition ends until acknowledged (ISA-18.2 "latched"): for facts with no end. */
  latching: boolean;
  /** What the headend watches to decide (docs). */
  detect: string;
}

const hold = {
  raise: (t: TimingProfile) => t.alarmRaiseHoldMs,
  clear: (t: TimingProfile) => t.alarmClearHoldMs,
  none: () => 0,
};

const signal = (detect: string, hysteresis: string, extra: Partial<RuleSpec> = {}): RuleSpec => ({
  raiseHoldMs: hold.raise,
  clearHoldMs: hold.clear,
  hysteresis,
  sunOutage: false,
  fleet: false,
  latching: false,
  detect,
  ...extra,
});

/**
 * A kind reported by the station itself (`alarm.raised` / `alarm.cleared` events): the station already
 * held it, so the headend relays it at once and clears it when the station says so.
 */
const relayed = (detect: string): RuleSpec => ({
  raiseHoldMs: hold.none,
  clearHoldMs: hold.none,
  hysteresis: "the station's own hold; cleared by the station's alarm.cleared",
  sunOutage: false,
  fleet: false,
  latching: false,
  detect,
});

/**
 * Every kind the engine knows, with its holds (see the README's alarm table). Partial on purpose: a kind
 * added to the registry later gets the fallback of `ruleOf` instead of breaking the build.
 */
export const RULES: Readonly<Partial<Record<AlarmKind, RuleSpec>>> = {
  station_offline: signal(
    'disconnected (Will or broker drop) for longer than the grace period',
    'clear hold',
    {
      raiseHoldMs: (t) => t.offlineGraceMs,
    },
  ),
  signal_lost: signal(
    'telemetry: receiver not locked while the plan needs it (tuned to a service)',
    'raise and clear holds',
    { sunOutage: true, fleet: true },
  ),
  margin_low: signal(
    "telemetry: margin (C/N − required C/N for the carrier's modulation/FEC) below 3 dB (warning) or 1 dB (critical)",
    'a level improves only 0.5 dB above its threshold (protocol/link-budget.ts nextMarginLevel)',
    { sunOutage: true },
  ),
  margin_trend: signal(
    "margin slope over the trend window against the median slope of the station's carrier peers",
    'clears only when the decline is under half the threshold',
    { sunOutage: true },
  ),
  stream_frozen: signal(
    'telemetry: a recorder receives 0 bit/s while its receiver reports lock',
    'raise and clear holds; not raised while the station or the receiver reports the service scrambled or missing',
  ),
  recorder_stalled: signal(
    "telemetry: a recorder's file stops growing while its input still has data",
    'raise and clear holds; not raised while the station or the receiver reports the service scrambled or missing',
  ),
  receiver_unresponsive: signal("telemetry: the receiver's control link is down", 'raise and clear holds'),
  lnb_fault: signal('telemetry: LNB supply short or no load', 'raise and clear holds'),
  disk_low: signal(
    'telemetry: free space below the low ratio of the recordings quota',
    'clears 3 points above',
  ),
  disk_full: signal(
    'telemetry: free space below the full ratio, or the station refused a recording',
    'clears 3 points above',
  ),
  clock_untrusted: signal(
    'minimum-RTT offset beyond clockMaxOffsetMs, or the station reports its clock untrusted',
    'clears below 75 % of the limit',
  ),
  schedule_lag: signal(
    'connected, applied schedule ≠ desired for longer than scheduleLagAlarmMs, or rejected',
    'clear hold',
    {
      raiseHoldMs: (t) => t.scheduleLagAlarmMs,
    },
  ),
  schedule_unknown_version: signal(
    'the station reports a (version, hash) the headend never issued',
    'clear hold',
    {
      raiseHoldMs: hold.none,
    },
  ),
  credentials_rejected: signal(
    'broker refused the CONNECT of this username several times within the offline grace period',
    'clears after a quiet grace period',
    { raiseHoldMs: hold.none },
  ),
  fleet_signal_lost: signal(
    'lock lost at ≥ N stations and ≥ a share of those on one carrier within the correlation window',
    'raise and clear holds; stays while the thresholds hold, without the window',
  ),
  sun_outage: {
    ...relayed('a signal alarm would have been raised inside a predicted sun-outage window'),
    hysteresis: 'lasts the window plus the guard',
  },
  event_conflict: {
    ...relayed('ingest: same (station, storeId, seq) with a different payload'),
    hysteresis: 'a fact with no end',
    latching: true,
  },
  power_cut: relayed('station event: restarted after a gap'),
  receiver_settings_lost: relayed('station event: read-back differed from desired tuning'),
  service_missing: relayed('station event: the service id left the PAT'),
  scrambled: relayed('station event: scrambling bits or CA status'),
  black_or_silent: relayed('station event: black/silence detectors with good RF'),
  filesystem_read_only: relayed('station event: EROFS on the recordings filesystem'),
  serial_port_missing: relayed("station event: the receiver's control port is missing"),
  // The station keeps it as a fact and never clears it (device/link/alarms.ts FACTS): like an event
  // conflict, it is cleared by the technician's acknowledgement (issue 8 review D5).
  outbox_quarantined: {
    ...relayed('station event: an outbox row was quarantined'),
    hysteresis: 'a fact with no end',
    latching: true,
  },
};

const FALLBACK_RELAYED = relayed('reported as a discrete fact (station event or headend record)');

/** The rule of a kind; kinds without an entry are relayed facts (no hold, cleared by their source). */
export function ruleOf(kind: AlarmKind): RuleSpec {
  return RULES[kind] ?? FALLBACK_RELAYED;
}

/** Hold times of a kind under a profile. */
export function holdsOf(kind: AlarmKind, t: TimingProfile): { raiseMs: number; clearMs: number } {
  const r = ruleOf(kind);
  return { raiseMs: r.raiseHoldMs(t), clearMs: r.clearHoldMs(t) };
}

/** Registry default severity of a kind as a level 1–3. */
export function defaultLevel(kind: AlarmKind): 1 | 2 | 3 {
  return SEVERITY_LEVEL[ALARM_KINDS[kind].severity];
}

/** A recording failed (manifest outcome `failed`). */
export const RECORDING_FAILED_KIND: AlarmKind = 'recording_failed';
/** A recording completed with errors or scored below the damaged threshold (DOMAIN.md §4). */
export const RECORDING_DEGRADED_KIND: AlarmKind = 'recording_degraded';

const ratio = z.number().min(0).max(1);

/** Thresholds that are not timings. Defaults follow DOMAIN.md; those marked *(est.)* there are estimates. */
export const AlarmPolicySchema = z
  .object({
    /** Margin levels and hysteresis, dB (DOMAIN.md §2: warning < 3, alarm < 1 — *(est.)*). */
    margin: z
      .object({
        warningBelowDb: z.number().default(DEFAULT_MARGIN_POLICY.warningBelowDb),
        alarmBelowDb: z.number().default(DEFAULT_MARGIN_POLICY.alarmBelowDb),
        hysteresisDb: z.number().nonnegative().default(DEFAULT_MARGIN_POLICY.hysteresisDb),
      })
      .strict()
      .refine((m) => m.alarmBelowDb < m.warningBelowDb, 'alarmBelowDb must be below warningBelowDb')
      .default({ ...DEFAULT_MARGIN_POLICY }),
    /** Receiver implementation loss used when the headend computes margin from C/N itself, dB. */
    implementationLossDb: z.number().min(0).max(10).default(0.8),
    /** Disk: free share of the quota (or filesystem) below which `disk_low` / `disk_full` are raised. */
    diskLowFreeRatio: ratio.default(0.1),
    diskFullFreeRatio: ratio.default(0.02),
    /** Disk alarms clear only this share above their threshold. */
    diskHysteresisRatio: ratio.default(0.03),
    /** Clock alarm clears once the offset is below this share of `clockMaxOffsetMs`. */
    clockClearRatio: ratio.default(0.75),
    /** Fleet correlation: at least this many stations … */
    fleetMinStations: z.number().int().min(2).default(5),
    /** … and at least this share of the stations receiving the carrier. */
    fleetMinShare: ratio.default(0.3),
    /** Trend: a station's margin falling at least this much over the trend window (dB) … */
    trendDropDb: z.number().positive().default(2),
    /** … while the median change of its carrier peers stays within ± this (dB) … */
    trendPeerStableDb: z.number().positive().default(1),
    /** … with at least this many peers to compare with. */
    trendMinPeers: z.number().int().min(1).default(2),
    /** Rejected CONNECTs of one username within the offline grace period before the alarm. */
    credentialsRejectThreshold: z.number().int().min(1).default(3),
    /** Recordings scoring below this are degraded (MythTV's "damaged" mark, DOMAIN.md §4). */
    recordingDamagedBelow: z.number().min(0).max(100).default(95),
  })
  .strict()
  .refine(
    (p) => p.diskFullFreeRatio < p.diskLowFreeRatio,
    'diskFullFreeRatio must be below diskLowFreeRatio',
  );
export type AlarmPolicy = z.infer<typeof AlarmPolicySchema>;
export type AlarmPolicyInput = z.input<typeof AlarmPolicySchema>;

/** The default policy. */
export const DEFAULT_ALARM_POLICY: AlarmPolicy = AlarmPolicySchema.parse({});
