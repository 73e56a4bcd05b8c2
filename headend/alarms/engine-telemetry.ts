/**
 * Telemetry into the engine (DESIGN.md §4 `telemetry`): runs the per-message rules (telemetry-rules.ts),
 * zeroes conditions a station stopped reporting, feeds the margin trend detector (DOMAIN.md §6 "Dish
 * misaligned: slow margin decline at one station while peers are stable") and refreshes fleet membership.
 */
import type { ServiceFaultAlarm, Telemetry } from '../../protocol/messages/telemetry.js';
import type { AlarmKind } from '../../protocol/registry.js';
import { cause as mkCause, evidence as mkEvidence } from './causes.js';
import type { Core } from './engine-core.js';
import { trackLoss } from './engine-fleet.js';
import { evaluateTelemetry, type RuleReport } from './telemetry-rules.js';
import { trendVerdict } from './trend.js';

/** Observes one live telemetry message of `station` at `at` (headend time). */
export function observeTelemetry(core: Core, station: string, tm: Telemetry, at?: number): void {
  const { deps, policy, entries, trends } = core;
  const levelOf = (kind: AlarmKind, subject: string) =>
    entries.get(core.keyOf(station, kind, subject))?.hold.rawLevel() ?? 0;
  const now = core.nowOf(at);
  const st = core.stationState(station);
  if (st.online === null) st.online = true;
  const needed = (rx: string) => deps.receiverNeeded?.(station, rx, now);
  const v = evaluateTelemetry(tm, {
    station,
    policy,
    carrierOf: deps.carrierOf,
    ...(deps.receiverNeeded ? { receiverNeeded: (_s: string, rx: string) => needed(rx) } : {}),
    levelOf,
    marginLevel: (rx) => st.marginLevels.get(rx) ?? 'healthy',
    previousBytes: (rec) => st.recorderBytes.get(rec),
    peerMargins: (carrier) => peerMargins(core, carrier, station),
    trendChangeDb: (rx) => trends.fitOf(station, rx)?.changeDb ?? null,
  });
  st.marginLevels = v.marginLevels;
  st.recorderBytes = v.recorderBytes;
  st.receivers = new Map(
    tm.receivers.map((r) => [
      r.id,
      {
        carrier: r.service ? (deps.carrierOf(r.service)?.key ?? null) : null,
        service: r.service,
        needed: needed(r.id) ?? r.service !== null,
      },
    ]),
  );
  updateCarrierMargins(core, station);
  const reported = new Set<string>();
  const alarmsOf = new Map(tm.receivers.map((r) => [r.id, r.alarms]));
  for (const report of v.reports) {
    const r = applyExplained(core, station, report, now, alarmsOf.get(report.subject));
    reported.add(core.keyOf(station, r.kind, r.subject));
  }
  for (const k of st.telemetryKeys) {
    const e = entries.get(k);
    if (!e || reported.has(k)) continue;
    const keep = v.keep.find((x) => x.subject === e.subject && (x.kind === '*' || x.kind === e.kind));
    if (keep && (!keep.ifRaised || e.alarm)) {
      reported.add(k); // not judged by this message: keep what was known
      continue;
    }
    const gone = {
      kind: e.kind,
      subject: e.subject,
      level: 0,
      evidence: mkEvidence('no longer reported'),
      carrier: e.carrier,
    };
    core.apply(
      station,
      { ...gone, cause: e.hold.strongest()?.cause ?? mkCause('flaky-uplink', '') },
      'telemetry',
      now,
    );
  }
  st.telemetryKeys = reported;
  for (const s of v.marginSamples) {
    if (trends.needsSeed(station, s.receiver)) seedTrend(core, station, s.receiver, s.carrier, now);
    if (core.sunWindow(station, now, now)) continue; // sun-outage dips are not a trend (DOMAIN.md §2)
    if (trends.add(station, s.receiver, s.carrier, s.marginDb, now))
      evaluateTrend(core, station, s.receiver, s.carrier, now);
  }
  trackLoss(core, station);
}

/**
 * Rebuilds a receiver's trend series from the stored per-minute margins (`deps.marginHistory`) the first
 * time the engine sees it — after a headend restart the 3-day window would otherwise start empty and a
 * restored `margin_trend` alarm could never be confirmed (issue 8 review D1). Minutes inside predicted
 * sun-outage windows are left out, as live samples are. The history is assumed to be on the receiver's
 * current carrier (a retune inside the window mixes in some minutes of the old one until they age out).
 */
function seedTrend(core: Core, station: string, rx: string, carrier: string, now: number): void {
  const history = core.deps.marginHistory;
  if (!history) return;
  const from = now - core.trends.windowMs - core.trends.bucketMs;
  const guard = core.t.sunOutageGuardMs;
  const windows = core.deps.sunOutage?.(station, from - guard, now + guard) ?? [];
  for (const m of history(station, rx, from, now)) {
    if (!Number.isFinite(m.marginDb) || m.at >= now) continue;
    if (windows.some((w) => m.at >= w.startMs - guard && m.at < w.endMs + guard)) continue;
    core.trends.add(station, rx, carrier, m.marginDb, m.at);
  }
}

/** Stream alarms a service fault explains (DOMAIN.md §6: scrambled, service reshuffle). */
export const SERVICE_EXPLAINED: readonly AlarmKind[] = ['stream_frozen', 'recorder_stalled'];
const SERVICE_CAUSES: readonly AlarmKind[] = ['scrambled', 'service_missing'];

/**
 * Receiver alarm names (telemetry `receivers[].alarms`, protocol SERVICE_FAULT_ALARMS) → the station alarm
 * kind they amount to, the vanished service first: a receiver that lost the service cannot judge its
 * scrambling (device/detect/service-watch.ts reads them the same way).
 */
const RECEIVER_SERVICE_FAULTS: readonly { name: ServiceFaultAlarm; kind: AlarmKind; text: string }[] = [
  { name: 'serviceMissing', kind: 'service_missing', text: 'service-missing' },
  { name: 'scrambled', kind: 'scrambled', text: 'scrambled' },
];

/**
 * A scrambled or vanished service starves the recorder just as a frozen receiver does, so a frozen or
 * stalled recorder is zeroed (its evidence names the cause) when either
 * - the station has `scrambled` / `service_missing` raised on `r`'s receiver, or
 * - the receiver itself reports `scrambled` / `serviceMissing` in this telemetry message
 *   (`receiverAlarms`): the same message as the starved recorder, so there is no race with the station's
 *   held alarm event and the stream alarms keep the ordinary raise hold.
 * The technician sees the cause once (the station's alarm), not a receiver hang.
 */
export function explainedByService(
  core: Core,
  station: string,
  r: RuleReport,
  receiverAlarms?: readonly string[],
): RuleReport {
  if (r.level === 0 || !SERVICE_EXPLAINED.includes(r.kind)) return r;
  const raised = SERVICE_CAUSES.find(
    (k) => (core.entries.get(core.keyOf(station, k, r.subject))?.hold.rawLevel() ?? 0) > 0,
  );
  const own = raised ? undefined : RECEIVER_SERVICE_FAULTS.find((f) => receiverAlarms?.includes(f.name));
  if (!raised && !own) return r;
  const why = raised
    ? `explained by the station's ${raised} alarm on ${r.subject}`
    : `explained by the receiver's ${own?.text} status (${r.subject})`;
  return {
    ...r,
    level: 0,
    evidence: mkEvidence(`${r.evidence.text} — ${why}`, {
      ...r.evidence.facts,
      explainedBy: raised ?? own?.kind ?? null,
      explainedFrom: raised ? 'station-alarm' : 'receiver-status',
    }),
  };
}

/**
 * Applies a telemetry report through `explainedByService`. A frozen/stalled alarm already raised (a real
 * freeze first, the service fault after) shows the explanation at once (`updated`) and then clears after
 * its clear hold, so the board never shows a receiver hang without the cause beside it.
 */
export function applyExplained(
  core: Core,
  station: string,
  report: RuleReport,
  now: number,
  receiverAlarms?: readonly string[],
): RuleReport {
  const r = explainedByService(core, station, report, receiverAlarms);
  core.apply(station, r, 'telemetry', now);
  if (r === report) return r;
  const a = core.entries.get(core.keyOf(station, r.kind, r.subject))?.alarm;
  if (a && a.evidence.text !== r.evidence.text) {
    a.evidence = r.evidence;
    core.emit({ type: 'updated', at: now, alarm: a });
  }
  return r;
}

/** Other stations on `carrier` at margin warning or worse, of all reporting it: O(1) (10 000 stations). */
function peerMargins(core: Core, carrier: string, except: string): { low: number; total: number } {
  const m = core.carrierMargins.get(carrier);
  if (!m) return { low: 0, total: 0 };
  return { low: m.low.size - (m.low.has(except) ? 1 : 0), total: m.all.size - (m.all.has(except) ? 1 : 0) };
}

/** Records which carriers `station` receives now and whether its margin on each is low. */
function updateCarrierMargins(core: Core, station: string): void {
  const st = core.stationState(station);
  const now = new Map<string, boolean>();
  for (const [rx, r] of st.receivers) {
    if (!r.carrier) continue;
    const low = (st.marginLevels.get(rx) ?? 'healthy') !== 'healthy';
    now.set(r.carrier, (now.get(r.carrier) ?? false) || low);
  }
  for (const [carrier, m] of core.carrierMargins) {
    if (now.has(carrier)) continue;
    m.all.delete(station);
    m.low.delete(station);
  }
  for (const [carrier, low] of now) {
    let m = core.carrierMargins.get(carrier);
    if (!m) {
      m = { all: new Set(), low: new Set() };
      core.carrierMargins.set(carrier, m);
    }
    m.all.add(station);
    if (low) m.low.add(station);
    else m.low.delete(station);
  }
}

function evaluateTrend(core: Core, station: string, rx: string, carrier: string, now: number): void {
  const { deps, policy, entries, trends } = core;
  const levelOf = (kind: AlarmKind, subject: string) =>
    entries.get(core.keyOf(station, kind, subject))?.hold.rawLevel() ?? 0;
  const fit = trends.fitOf(station, rx);
  const peers = trends.peers(carrier, station, now);
  const active = levelOf('margin_trend', rx) > 0;
  const vd = trendVerdict(fit, peers, active, {
    dropDb: policy.trendDropDb,
    peerStableDb: policy.trendPeerStableDb,
    minPeers: policy.trendMinPeers,
  });
  if (!vd.on && !active) return;
  const service = core.stations.get(station)?.receivers.get(rx)?.service;
  const label = (service ? deps.carrierOf(service)?.label : undefined) ?? carrier;
  const fell = fit ? -fit.changeDb : 0;
  const span = fit ? fit.spanMs : 0;
  const spanText =
    span >= 86_400_000 ? `${(span / 86_400_000).toFixed(1)} days` : `${Math.round(span / 60_000)} min`;
  const med = vd.peerMedianDb;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const text =
    `margin fell ${fell.toFixed(1)} dB over ${spanText} (${fit?.fromDb.toFixed(1)} → ${fit?.toDb.toFixed(1)} dB) on ${rx} ` +
    `while ${peers.count} other station${peers.count === 1 ? '' : 's'} on ${label} held steady ` +
    `(median change ${med >= 0 ? '+' : '−'}${Math.abs(med).toFixed(1)} dB) → dish alignment or snow`;
  core.apply(
    station,
    {
      kind: 'margin_trend',
      subject: rx,
      level: vd.on ? 2 : 0,
      cause: mkCause('dish-misaligned', 'dish alignment or snow load'),
      evidence: mkEvidence(text, {
        receiver: rx,
        changeDb: fit ? r1(fit.changeDb) : null,
        spanMs: span,
        peers: peers.count,
        peerMedianChangeDb: Number.isNaN(med) ? null : r1(med),
        carrier: label,
      }),
      carrier,
    },
    'trend',
    now,
  );
  // The decline keeps growing after the raise: refresh the evidence (at most once per bucket, when it moved ≥ 0.2 dB).
  const a = entries.get(core.keyOf(station, 'margin_trend', rx))?.alarm;
  const shown = a?.evidence.facts.changeDb;
  if (a && vd.on && fit && typeof shown === 'number' && Math.abs(fit.changeDb - shown) >= 0.2) {
    a.evidence =
      entries.get(core.keyOf(station, 'margin_trend', rx))?.hold.sources.get('trend')?.evidence ?? a.evidence;
    core.emit({ type: 'updated', at: now, alarm: a });
  }
}
