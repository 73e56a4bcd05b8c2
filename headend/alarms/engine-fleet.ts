/**
 * Fleet correlation inside the engine (fleet.ts has the pure verdict). Every telemetry message updates
 * which stations receive which carrier and which of them lost it; when a carrier's fleet condition is on
 * (pending or raised), its stations' own lock-loss alarms are held back and, once the fleet alarm is up,
 * linked to it; when it clears, the stations that stayed bad are released to their own alarms (issue 8).
 */
import type { Core, Entry, FleetState } from './engine-core.js';
import { fleetVerdict } from './fleet.js';

/** Entry key of a carrier's fleet alarm. */
export function fleetKey(core: Core, carrier: string): string {
  return core.keyOf(null, 'fleet_signal_lost', carrier);
}

function fleetOf(core: Core, key: string, label: string): FleetState {
  let f = core.fleets.get(key);
  if (!f) {
    f = { key, label, lost: new Map(), receiving: new Set(), members: [] };
    core.fleets.set(key, f);
  }
  return f;
}

/** Re-decides one carrier's fleet condition. */
export function updateFleet(core: Core, f: FleetState, now: number): void {
  const key = fleetKey(core, f.key);
  const existing = core.entries.get(key);
  const lost = [...f.lost]
    .filter(([s]) => core.stations.get(s)?.online !== false && !core.sunWindow(s, now, now))
    .map(([station, since]) => ({ station, since }));
  const v = fleetVerdict(f.label, lost, f.receiving.size, existing?.alarm != null, {
    minStations: core.policy.fleetMinStations,
    minShare: core.policy.fleetMinShare,
    windowMs: core.t.fleetCorrelationWindowMs,
  });
  const before = new Set(f.members);
  f.members = v.on ? v.stations : [];
  if (!v.on && !existing) return;
  const r = {
    kind: 'fleet_signal_lost' as const,
    subject: f.key,
    level: v.on ? 3 : 0,
    cause: v.cause,
    evidence: v.evidence,
    carrier: f.key,
  };
  core.apply(null, r, 'fleet', now);
  const e = core.entries.get(key);
  const joined = f.members.filter((s) => !before.has(s));
  if (e?.alarm && v.on && (joined.length > 0 || f.members.length !== before.size)) {
    e.alarm.evidence = v.evidence;
    core.emit({ type: 'updated', at: now, alarm: e.alarm });
    linkStations(core, e, joined, now);
  }
}

/** True when `e` (a station's lock loss) belongs to its carrier's fleet event and must not raise alone. */
export function deferToFleet(core: Core, e: Entry, now: number): boolean {
  if (!e.station || !e.carrier) return false;
  const f = core.fleets.get(e.carrier);
  const fe = core.entries.get(fleetKey(core, e.carrier));
  // Held back while the fleet condition is pending or its alarm is up (even during its clear hold).
  if (!f?.lost.has(e.station) || !fe || (fe.hold.rawLevel() === 0 && !fe.alarm)) return false;
  e.suppressed = 'fleet';
  if (fe.alarm && e.alarm && e.alarm.linkedTo !== fe.alarm.id) {
    e.alarm.linkedTo = fe.alarm.id;
    core.emit({ type: 'linked', at: now, alarm: e.alarm });
  }
  return true;
}

/** Links the already-raised lock-loss alarms of the fleet's stations to the fleet alarm. */
export function onFleetRaised(core: Core, fe: Entry, now: number): void {
  const f = fe.carrier ? core.fleets.get(fe.carrier) : undefined;
  if (f) linkStations(core, fe, f.members, now);
}

function linkStations(core: Core, fe: Entry, stations: readonly string[], now: number): void {
  if (!fe.alarm) return;
  for (const s of stations) {
    for (const e of core.entriesOf(s)) {
      if (
        e.kind !== 'signal_lost' ||
        e.carrier !== fe.carrier ||
        !e.alarm ||
        e.alarm.linkedTo === fe.alarm.id
      )
        continue;
      e.alarm.linkedTo = fe.alarm.id;
      core.emit({ type: 'linked', at: now, alarm: e.alarm });
    }
  }
}

/** Unlinks station alarms and releases held-back stations that are still without lock. */
export function onFleetCleared(core: Core, carrier: string, fleetId: string, now: number): void {
  const released: Entry[] = [];
  for (const e of core.entries.values()) {
    if (e.kind !== 'signal_lost' || e.carrier !== carrier) continue;
    if (e.alarm?.linkedTo === fleetId) {
      e.alarm.linkedTo = null;
      core.emit({ type: 'unlinked', at: now, alarm: e.alarm });
    } else if (!e.alarm && e.suppressed === 'fleet') {
      e.releasedFrom = fleetId;
      e.suppressed = null;
      core.dirty.add(e.key);
      released.push(e);
    }
  }
  for (const e of released) core.evaluate(e, now);
}

/**
 * Refreshes which carriers `station` receives and whether it lost them (after its telemetry or presence
 * changed); the fleets whose membership changed are re-decided on the next tick.
 */
export function trackLoss(core: Core, station: string): void {
  const st = core.stationState(station);
  const wanted = new Map<string, { label: string; since: number | null }>();
  if (st.online !== false) {
    for (const [rx, r] of st.receivers) {
      if (!r.carrier || !r.needed || !r.service) continue;
      const c = core.deps.carrierOf(r.service);
      if (!c) continue;
      const e = core.entries.get(core.keyOf(station, 'signal_lost', rx));
      const since = e && e.hold.rawLevel() > 0 ? e.hold.onsetOf(3) : null;
      const prev = wanted.get(c.key);
      const best =
        prev?.since != null && since !== null ? Math.min(prev.since, since) : (prev?.since ?? since);
      wanted.set(c.key, { label: c.label, since: best });
    }
  }
  const touched = new Set<FleetState>();
  for (const f of core.fleets.values()) {
    if (!wanted.has(f.key) && (f.receiving.delete(station) || f.lost.delete(station))) {
      f.lost.delete(station);
      touched.add(f);
    }
  }
  for (const [key, w] of wanted) {
    const f = fleetOf(core, key, w.label);
    if (!f.receiving.has(station)) {
      f.receiving.add(station);
      touched.add(f);
    }
    const had = f.lost.get(station) ?? null;
    if (had !== w.since) {
      if (w.since === null) f.lost.delete(station);
      else f.lost.set(station, w.since);
      touched.add(f);
    }
  }
  // Decided on the next tick, once per carrier, however many stations changed in between.
  for (const f of touched) core.dirtyFleets.add(f);
}

/** Re-decides every carrier with lost stations or a raised fleet alarm (on tick: windows slide). */
export function tickFleets(core: Core, now: number): void {
  for (const f of [...core.fleets.values()]) {
    if (core.dirtyFleets.has(f) || f.lost.size > 0 || core.entries.get(fleetKey(core, f.key))?.alarm)
      updateFleet(core, f, now);
  }
  core.dirtyFleets.clear();
}

/** Re-creates a carrier's fleet state for a fleet alarm restored from the store. */
export function restoreFleet(core: Core, carrier: string, label: string): void {
  fleetOf(core, carrier, label);
}
