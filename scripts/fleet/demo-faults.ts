/**
 * The faulty stations of the quick start (issue 8 "the quick-start fleet shows at least three alarm kinds
 * with causes"): what goes wrong at each (DOMAIN.md §6), and what the control room sees.
 *
 * A fault only makes an alarm when the station needs what broke (DESIGN.md §7; headend/alarms/rules.ts): a
 * receiver nobody tuned is not polled for lock and has no margin, so snow on an idle station's dish shows
 * nothing until a conference tunes it. So the control room first pushes a mandated monitoring recording of
 * the local channel to the stations with receiver faults — as a real control room monitors the provincial
 * channel — and the faults strike while it runs: the alarms are what the real rules make of them, not staged.
 */
import { FAULT_KINDS } from '../../device/simulator/faults.js';
import type { FailureId } from '../../protocol/failures.js';
import type { AlarmKind } from '../../protocol/registry.js';
import type { DemoClient } from './demo-client.js';
import type { FleetFault } from './fleet-faults.js';
import type { FleetProcess } from './fleet-process.js';
import type { PrefectureStation } from './prefecture.js';

/** One planned fault: what is injected, whether the station needs its receiver, what the room will see. */
export interface DemoFault {
  fault: FleetFault;
  /** The station records the monitoring channel (the fault hits a receiver the plan needs). */
  monitored: boolean;
  /** The printed line: what happens and which alarm the control room sees, with its cause. */
  shows: string;
  /** The alarm `shows` promises: its kind and the failure-table row of its cause (tests check the demo keeps it). */
  alarm: { kind: AlarmKind; row: FailureId };
}

/** The local channel the monitoring recording takes (甘肃卫视, svc17 in the generated line-up). */
export const MONITOR_SERVICE = 'svc17';
/** How long the monitoring recording runs. */
const MONITOR_MS = 60 * 60_000;

const has = (kind: string) => (FAULT_KINDS as readonly string[]).includes(kind);

/**
 * The faults, in the order they are given to the stations after the first three of the fleet (the first
 * stations of each county stay healthy for the operators). The last ones need fault kinds the simulator may
 * not have yet (device/simulator/faults.ts); they are left out when it does not.
 */
export function demoFaults(): DemoFault[] {
  const out: DemoFault[] = [
    {
      fault: { kind: 'uplink-down' },
      monitored: false,
      shows:
        'uplink down: "disconnected" at once, the "station offline" alarm after the grace period (cause: flaky uplink); it keeps executing its schedule',
      alarm: { kind: 'station_offline', row: 'flaky-uplink' },
    },
    {
      fault: { kind: 'fade', depthDb: 9 },
      monitored: true,
      shows:
        'snow on the dish (9 dB fade) while it records the local channel: "signal lost" (cause: snow/ice fade, no reboot)',
      alarm: { kind: 'signal_lost', row: 'snow-ice-fade' },
    },
    {
      fault: { kind: 'hang' },
      monitored: true,
      shows:
        'receiver hung on its serial port while recording: "receiver unresponsive" (cause: receiver hangs; the RX8200 has no remote reset: retune, then a site visit)',
      alarm: { kind: 'receiver_unresponsive', row: 'receiver-hangs' },
    },
    {
      fault: { kind: 'lnb-short' },
      monitored: true,
      shows:
        'LNB/cable short: "LNB fault" (cause: LNB or cable fault; LNB power cycle offered, then a site visit)',
      alarm: { kind: 'lnb_fault', row: 'lnb-cable-fault' },
    },
  ];
  if (has('scrambled'))
    out.push({
      // A kind the simulator gained in issue 8; typed loosely so this file builds against either version.
      fault: { kind: 'scrambled' } as FleetFault,
      monitored: true,
      shows:
        'the local channel arrives scrambled: "scrambled service" (cause: scrambled service, not recorded silently)',
      alarm: { kind: 'scrambled', row: 'scrambled-service' },
    });
  return out;
}

/** Stations that get a fault: the 4th onwards of the fleet, one per fault, when the fleet is big enough. */
export function faultyStations(
  all: readonly PrefectureStation[],
  faults: readonly DemoFault[],
): { station: PrefectureStation; fault: DemoFault }[] {
  if (all.length < faults.length + 3) return [];
  return faults.flatMap((fault, i) => {
    const station = all[3 + i];
    return station ? [{ station, fault }] : [];
  });
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Pushes the monitoring recording to the stations that need it (as the control room, through the API), waits
 * until their recorders run (bounded), then injects every fault. Returns how long the wait took.
 */
export async function startDemoFaults(o: {
  control: DemoClient;
  fleet: FleetProcess;
  planned: readonly { station: PrefectureStation; fault: DemoFault }[];
  /** Longest wait for the monitoring recordings to start before faults are injected anyway. */
  waitMs: number;
  /** A fresh demo pushes the monitoring recording; a kept one already has it. */
  fresh: boolean;
}): Promise<void> {
  const monitored = o.planned.filter((p) => p.fault.monitored).map((p) => p.station.id);
  // The uplink cut needs nothing running: the station goes on executing offline (DOMAIN.md §6 Flaky uplink).
  for (const p of o.planned) if (!p.fault.monitored) await o.fleet.inject(p.station.id, p.fault.fault);
  if (monitored.length === 0) return;
  const start = Date.now() + 2000;
  if (o.fresh)
    await o.control.post('/entries', {
      kind: 'recording',
      class: 'mandated',
      title: '本地频道监测录像（演示）',
      service: MONITOR_SERVICE,
      padBeforeMs: 0,
      padAfterMs: 0,
      when: { type: 'once', start: iso(start), end: iso(start + MONITOR_MS) },
      target: { type: 'stations', stationIds: monitored },
    });
  const deadline = Date.now() + o.waitMs;
  const running = new Set<string>();
  while (Date.now() < deadline && running.size < monitored.length) {
    await new Promise((r) => setTimeout(r, 500));
    const list = (await o.control.get('/stations')) as { id: string; activity?: unknown[] }[];
    for (const s of list) if (monitored.includes(s.id) && (s.activity?.length ?? 0) > 0) running.add(s.id);
  }
  for (const p of o.planned) if (p.fault.monitored) await o.fleet.inject(p.station.id, p.fault.fault);
}
