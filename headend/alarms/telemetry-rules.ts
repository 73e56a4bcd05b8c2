/**
 * Rules evaluated on one telemetry message (DESIGN.md §4 `telemetry`): per receiver — control link,
 * LNB supply, lock when the plan needs it, margin; per recorder — data while locked, file growth; the
 * disk. Pure: the engine passes the previous levels (for hysteresis) and lookups, and applies the holds.
 * Each report names its probable cause from the failure table (DOMAIN.md §6), refined by the evidence.
 */
import {
  type MarginLevel,
  type MarginPolicy,
  nextMarginLevel,
  requiredCnDb,
} from '../../protocol/link-budget.js';
import type { Telemetry } from '../../protocol/messages/telemetry.js';
import { ALARM_KIND_NAMES, type AlarmKind } from '../../protocol/registry.js';
import { cause, db, evidence, kindCause, pct } from './causes.js';
import type { AlarmPolicy } from './rules.js';
import type { CarrierInfo, Cause, Evidence } from './types.js';

/** One condition as a rule sees it. */
export interface RuleReport {
  kind: AlarmKind;
  /** Receiver id, or `''` for the station (disk). */
  subject: string;
  level: number;
  cause: Cause;
  evidence: Evidence;
  carrier: string | null;
}

/** A margin sample for the trend detector. */
export interface MarginSample {
  receiver: string;
  carrier: string;
  marginDb: number;
}

/** What the rules need from the engine. */
export interface TelemetryContext {
  station: string;
  policy: AlarmPolicy;
  carrierOf(service: string): CarrierInfo | undefined;
  /** Whether the plan needs this receiver now; `undefined` = judge by whether it is tuned to a service. */
  receiverNeeded?(station: string, receiver: string): boolean | undefined;
  /** Current raw level of a condition (hysteresis). */
  levelOf(kind: AlarmKind, subject: string): number;
  /** Margin hysteresis state of a receiver. */
  marginLevel(receiver: string): MarginLevel;
  /** Bytes a recorder had in the previous message (file growth). */
  previousBytes(recorder: string): number | undefined;
  /** How many other stations on the carrier are at margin warning or worse, of how many reporting. */
  peerMargins(carrier: string): { low: number; total: number };
  /** The station's recent margin change on this receiver, dB, if the trend detector has one. */
  trendChangeDb(receiver: string): number | null;
}

/** The rules' verdict on one message. */
export interface TelemetryVerdict {
  reports: RuleReport[];
  /**
   * Conditions this message cannot judge, which keep their previous levels: everything about a receiver
   * whose control link is down (`kind: '*'`), and the margin of a needed receiver without lock — that one
   * only while its alarm is raised (`ifRaised`); a pending one is dropped.
   */
  keep: { kind: AlarmKind | '*'; subject: string; ifRaised?: boolean }[];
  marginLevels: Map<string, MarginLevel>;
  recorderBytes: Map<string, number>;
  marginSamples: MarginSample[];
}

const LEVEL_OF_MARGIN: Record<MarginLevel, number> = { healthy: 0, warning: 2, alarm: 3 };

function required(c: CarrierInfo, lossDb: number): number | null {
  try {
    return requiredCnDb(c, { implementationLossDb: lossDb });
  } catch {
    return null; // a modulation/FEC the tables do not define: margin must come from the station
  }
}

/** Evaluates one telemetry message of `ctx.station`. */
export function evaluateTelemetry(tm: Telemetry, ctx: TelemetryContext): TelemetryVerdict {
  const out: TelemetryVerdict = {
    reports: [],
    keep: [],
    marginLevels: new Map(),
    recorderBytes: new Map(),
    marginSamples: [],
  };
  const report = (r: RuleReport) => out.reports.push(r);
  const neededUnlocked = tm.receivers.filter(
    (r) => r.link === 'up' && !r.locked && (ctx.receiverNeeded?.(ctx.station, r.id) ?? r.service !== null),
  );

  for (const r of tm.receivers) {
    const carrier = r.service ? ctx.carrierOf(r.service) : undefined;
    const carrierKey = carrier?.key ?? null;
    const on = carrier ? ` on ${carrier.label}` : '';
    if (r.link === 'down') {
      // A missing USB-serial port (DOMAIN.md §6 "USB-serial renumbered") is the station's own
      // `serial_port_missing`, which names the cause: no second alarm blaming the receiver.
      const missing = r.portMissing === true;
      report({
        kind: 'receiver_unresponsive',
        subject: r.id,
        level: missing ? 0 : 3,
        cause: kindCause('receiver_unresponsive', 'receiver hung or its serial link is dead'),
        evidence: evidence(
          missing
            ? `receiver ${r.id}'s control port is missing (serial_port_missing at the station)`
            : `receiver ${r.id} does not answer on its control port`,
          { receiver: r.id, link: 'down', portMissing: missing },
        ),
        carrier: carrierKey,
      });
      out.keep.push({ kind: '*', subject: r.id });
      continue;
    }
    report({ ...zero('receiver_unresponsive', r.id, carrierKey) });

    const lnbBad = r.lnb === 'short' || r.lnb === 'no_load';
    report({
      kind: 'lnb_fault',
      subject: r.id,
      level: lnbBad ? 3 : 0,
      cause: kindCause(
        'lnb_fault',
        r.lnb === 'short' ? 'short circuit on the LNB cable or LNB' : 'LNB disconnected or dead (no load)',
      ),
      evidence: evidence(`LNB supply of ${r.id} reports ${r.lnb.replace('_', ' ')}`, {
        receiver: r.id,
        lnb: r.lnb,
      }),
      carrier: carrierKey,
    });

    const needed = ctx.receiverNeeded?.(ctx.station, r.id) ?? r.service !== null;
    if (needed && !r.locked) {
      report({
        kind: 'signal_lost',
        subject: r.id,
        level: 3,
        cause: lockLossCause(lnbBad, r.lnb, neededUnlocked.length, tm.receivers.length),
        evidence: evidence(
          `receiver ${r.id} has no lock${on}${r.service ? ` (service ${r.service})` : ''}` +
            (r.level ? `; level ${r.level.value} ${r.level.unit}` : ''),
          {
            receiver: r.id,
            service: r.service,
            carrier: carrier?.label ?? null,
            level: r.level?.value ?? null,
            levelUnit: r.level?.unit ?? null,
            lnb: r.lnb,
          },
        ),
        carrier: carrierKey,
      });
    } else {
      report(zero('signal_lost', r.id, carrierKey));
    }

    // Margin only means something while locked; no lock is signal_lost's business (DOMAIN.md §2).
    const req = carrier ? required(carrier, ctx.policy.implementationLossDb) : null;
    const margin = r.locked ? (r.marginDb ?? (r.cnDb !== null && req !== null ? r.cnDb - req : null)) : null;
    if (needed && !r.locked) {
      // Unknown without lock: a margin alarm already up stays (no clear-then-raise around a dropout), and
      // none is added beside the lock-loss alarm that says it all.
      out.marginLevels.set(r.id, ctx.marginLevel(r.id));
      out.keep.push({ kind: 'margin_low', subject: r.id, ifRaised: true });
    } else if (margin === null || !needed) {
      out.marginLevels.set(r.id, 'healthy');
      report(zero('margin_low', r.id, carrierKey));
    } else {
      const lvl = nextMarginLevel(ctx.marginLevel(r.id), margin, ctx.policy.margin as MarginPolicy);
      out.marginLevels.set(r.id, lvl);
      if (carrier) out.marginSamples.push({ receiver: r.id, carrier: carrier.key, marginDb: margin });
      if (lvl === 'healthy') {
        report(zero('margin_low', r.id, carrierKey));
        recorderRules(tm, r, ctx, out, carrierKey);
        continue;
      }
      const modcod = carrier ? `${carrier.system} ${carrier.modulation} ${carrier.fec}` : 'its carrier';
      report({
        kind: 'margin_low',
        subject: r.id,
        level: LEVEL_OF_MARGIN[lvl],
        cause: marginCause(carrier, ctx, r.id),
        evidence: evidence(
          `margin ${db(margin)}${r.cnDb !== null ? ` (C/N ${db(r.cnDb)}` : ''}` +
            `${r.cnDb !== null && req !== null ? `, needs ${db(req)} for ${modcod})` : r.cnDb !== null ? ')' : ''}` +
            ` on ${r.id}${on}; warning below ${db(ctx.policy.margin.warningBelowDb)}, critical below ${db(ctx.policy.margin.alarmBelowDb)}`,
          {
            receiver: r.id,
            marginDb: round1(margin),
            cnDb: r.cnDb,
            requiredCnDb: req === null ? null : round1(req),
            carrier: carrier?.label ?? null,
          },
        ),
        carrier: carrierKey,
      });
    }
    recorderRules(tm, r, ctx, out, carrierKey);
  }
  diskRules(tm, ctx, out);
  return out;
}

/** Constant data (frozen): what "condition absent" reports carry, so most reports allocate nothing. */
const ABSENT = Object.freeze(evidence('condition absent', Object.freeze({})));
const ABSENT_CAUSE = Object.freeze(
  Object.fromEntries(ALARM_KIND_NAMES.map((k) => [k, Object.freeze(kindCause(k))])) as Record<
    AlarmKind,
    Cause
  >,
);

function zero(kind: AlarmKind, subject: string, carrier: string | null): RuleReport {
  return { kind, subject, level: 0, cause: ABSENT_CAUSE[kind], evidence: ABSENT, carrier };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function lockLossCause(lnbBad: boolean, lnb: string, unlocked: number, receivers: number): Cause {
  if (lnbBad) return cause('lnb-cable-fault', `LNB or cable fault (LNB supply ${lnb.replace('_', ' ')})`);
  if (unlocked >= 2 && unlocked === receivers) {
    return cause('lnb-cable-fault', 'lock lost on every carrier at this station: LNB, cable or dish');
  }
  return kindCause('signal_lost', 'snow/ice on the dish or feed, dish alignment, or the carrier itself');
}

function marginCause(carrier: CarrierInfo | undefined, ctx: TelemetryContext, receiver: string): Cause {
  if (carrier) {
    const peers = ctx.peerMargins(carrier.key);
    if (peers.total >= 2 && peers.low * 2 >= peers.total) {
      return cause(
        'snow-ice-fade',
        `regional: ${peers.low} of ${peers.total} other stations on ${carrier.label} are low too (weather or uplink)`,
      );
    }
  }
  const change = ctx.trendChangeDb(receiver);
  if (change !== null && change <= -ctx.policy.trendDropDb / 2) {
    return cause(
      'dish-misaligned',
      `slow decline (${db(change, true)} over the trend window): dish alignment or snow load`,
    );
  }
  return cause('snow-ice-fade', 'local fade: snow or ice on the dish or feed');
}

function recorderRules(
  tm: Telemetry,
  r: Telemetry['receivers'][number],
  ctx: TelemetryContext,
  out: TelemetryVerdict,
  carrierKey: string | null,
): void {
  const recs = tm.recorders.filter((x) => x.receiverId === r.id);
  let frozen: (typeof recs)[number] | undefined;
  let stalled: (typeof recs)[number] | undefined;
  for (const rec of recs) {
    const key = `${rec.entryId}@${rec.nominalStart}`;
    const prev = ctx.previousBytes(key);
    out.recorderBytes.set(key, rec.bytes);
    if (rec.bitrateBps === 0 && r.locked) frozen = rec;
    else if (rec.bitrateBps > 0 && prev !== undefined && rec.bytes <= prev) stalled = rec;
  }
  out.reports.push(
    frozen
      ? {
          kind: 'stream_frozen',
          subject: r.id,
          level: 3,
          cause: kindCause('stream_frozen', 'receiver output frozen while it reports lock'),
          evidence: evidence(
            `recorder of ${frozen.entryId} receives 0 bit/s while ${r.id} reports lock` +
              (r.marginDb !== null ? ` (margin ${db(r.marginDb)})` : ''),
            { receiver: r.id, entryId: frozen.entryId, bitrateBps: 0, locked: true, marginDb: r.marginDb },
          ),
          carrier: carrierKey,
        }
      : zero('stream_frozen', r.id, carrierKey),
  );
  out.reports.push(
    stalled
      ? {
          kind: 'recorder_stalled',
          subject: r.id,
          level: 2,
          cause: kindCause('recorder_stalled', 'recorder (ffmpeg) stuck or disk writes blocked'),
          evidence: evidence(
            `recording ${stalled.entryId} stuck at ${stalled.bytes} bytes while its input carries ${Math.round(stalled.bitrateBps / 1000)} kbit/s`,
            {
              receiver: r.id,
              entryId: stalled.entryId,
              bytes: stalled.bytes,
              bitrateBps: stalled.bitrateBps,
            },
          ),
          carrier: carrierKey,
        }
      : zero('recorder_stalled', r.id, carrierKey),
  );
}

function diskRules(tm: Telemetry, ctx: TelemetryContext, out: TelemetryVerdict): void {
  const d = tm.disk;
  const capacity = d.quotaBytes ?? d.freeBytes + d.usedBytes;
  if (capacity <= 0) return;
  const available =
    d.quotaBytes === null ? d.freeBytes : Math.min(d.freeBytes, Math.max(0, d.quotaBytes - d.usedBytes));
  const ratio = available / capacity;
  const p = ctx.policy;
  const facts = { freeBytes: available, capacityBytes: capacity, freeRatio: Math.round(ratio * 1000) / 1000 };
  const text = `${pct(ratio)} free (${gib(available)} of ${gib(capacity)}${d.quotaBytes === null ? '' : ' quota'})`;
  const level = (kind: AlarmKind, below: number, sev: number) => {
    const on = ctx.levelOf(kind, '') > 0 ? ratio < below + p.diskHysteresisRatio : ratio < below;
    return on ? sev : 0;
  };
  out.reports.push({
    kind: 'disk_low',
    subject: '',
    level: level('disk_low', p.diskLowFreeRatio, 2),
    cause: kindCause('disk_low', 'recordings filling the disk faster than retention frees it'),
    evidence: evidence(`recordings disk nearly full: ${text}`, facts),
    carrier: null,
  });
  out.reports.push({
    kind: 'disk_full',
    subject: '',
    level: level('disk_full', p.diskFullFreeRatio, 3),
    cause: kindCause('disk_full', 'no room for new recordings: run retention or delete'),
    evidence: evidence(`recordings disk full: ${text}`, facts),
    carrier: null,
  });
}

/** Bytes for people, in the unit that keeps a digit before the point: "1.4 GiB", "600 MiB", "12 KiB". */
function gib(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let v = Math.max(0, bytes);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}
