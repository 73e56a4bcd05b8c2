/**
 * One realistic alarm of every kind, as the headend's engine raises it (for the UI's text tests): the engine
 * runs on the fake-clock rig (tests/helpers/alarm-rig.ts) and is fed what it is fed in production —
 * telemetry through the protocol schema, presence, schedule and clock observations, recording manifests whose
 * reasons come from the agent's own `recordingOutcome`, and station alarm events. Of the station events,
 * power cut and lost settings come from the agent's pure detectors (device/executor/recovery.ts
 * `detectPowerCut`, device/receiver/settings-check.ts `detectSettingsLoss`); the detectors that need
 * processes or ports (content check, service watch, port watch, disk guard, outbox) are copied here in the
 * shape their code writes (file and line named beside each).
 */

import { detectPowerCut } from '../../device/executor/recovery.js';
import { detectSettingsLoss } from '../../device/receiver/settings-check.js';
import { recordingOutcome } from '../../device/recorder/quality.js';
import { createSunOutageCalendar } from '../../headend/alarms/sun-calendar.js';
import type { AlarmRecord } from '../../headend/alarms/types.js';
import type { AlarmKind } from '../../protocol/registry.js';
import { alarmRig, LINEUP, type RxInput, T0, telemetry } from './alarm-rig.js';

const MIN = 60_000;
const DAY = 86_400_000;
type Rig = ReturnType<typeof alarmRig>;
type Evidence = Record<string, number | string | boolean | null>;

/** Feeds `stations` telemetry every 10 s for `ms`. */
function feed(
  rig: Rig,
  ms: number,
  per: Record<string, { rx: RxInput[]; extra?: Parameters<typeof telemetry>[2] }>,
) {
  rig.run(ms, 10_000, (now) => {
    for (const [s, x] of Object.entries(per))
      rig.engine.observeTelemetry(s, telemetry(now, x.rx, x.extra), now);
  });
}

function stationAlarm(
  rig: Rig,
  station: string,
  kind: AlarmKind,
  message: string,
  evidence: Evidence,
  receiverId?: string,
) {
  rig.engine.observeStationAlarm(
    station,
    {
      type: 'alarm.raised',
      alarmId: `${station}-${kind}`,
      kind,
      severity: 'warning',
      ...(receiverId ? { receiverId } : {}),
      message,
      evidence,
    },
    rig.now(),
  );
}

/** Telemetry, presence, schedule, clock, credentials, recordings and station events on one rig. */
function headendKinds(): Rig {
  const rig = alarmRig();
  feed(rig, 4 * MIN, {
    'st-lost': { rx: [{ locked: false }] },
    'st-low': { rx: [{ marginDb: 0.6, cnDb: 7.3 }] },
    'st-lnb': { rx: [{ lnb: 'short', locked: false }] },
    'st-hung': { rx: [{ link: 'down' }] },
    'st-frozen': { rx: [{}], extra: { recorders: [{ bitrateBps: 0, bytes: 1000 }] } },
    'st-disk-low': { rx: [{}], extra: { disk: { freeBytes: 5e9, usedBytes: 95e9 } } },
    'st-disk-full': { rx: [{}], extra: { disk: { freeBytes: 1e9, usedBytes: 99e9 } } },
  });
  let bytes = 5e6;
  rig.run(4 * MIN, 10_000, (now) => {
    bytes = bytes < 6e6 ? bytes + 4e5 : bytes; // grows, then sticks while the input still has data
    rig.engine.observeTelemetry(
      'st-stall',
      telemetry(now, [{}], { recorders: [{ bitrateBps: 4_000_000, bytes }] }),
      now,
    );
  });

  rig.engine.observePresence('st-away', { online: false, at: rig.now() });
  rig.engine.observeSchedule('st-lag', {
    desired: { epoch: 1, n: 3 },
    applied: { epoch: 1, n: 2 },
    issued: true,
    desiredIssuedAt: rig.now(),
    at: rig.now(),
  });
  rig.engine.observeSchedule('st-rogue', {
    desired: { epoch: 1, n: 3 },
    applied: { epoch: 1, n: 9 },
    appliedHash: 'a3f1c2d4e5f60718293a4b5c6d7e8f90',
    issued: false,
    at: rig.now(),
  });
  for (let i = 0; i < 3; i++)
    rig.engine.observeCredentialsRejected({
      username: 'st-creds',
      clientId: 'st-creds',
      reason: 'wrong-secret',
      at: rig.now(),
    });
  rig.run(12 * MIN, 10_000, (now) =>
    rig.engine.observeClock('st-clock', { offsetMs: 3240, rttMs: 38, trusted: true, at: now }),
  );

  // Recording outcomes as the agent computes them (device/recorder/quality.ts).
  const failed = recordingOutcome({
    bytes: 0,
    recordedMs: 0,
    verifiedSegments: 0,
    damagedSegments: 0,
    quality: 0,
    gaps: [],
    ccErrors: 0,
    failure: 'disk_full',
  });
  rig.engine.observeRecording('st-rec', {
    recordingId: '41',
    entryId: 'rec-news',
    nominalStart: '2026-11-27T02:00:00Z',
    outcome: failed.outcome,
    quality: 0,
    reason: failed.reason,
    service: 'svc17',
    at: rig.now(),
  });
  const degraded = recordingOutcome({
    bytes: 9e8,
    recordedMs: 30 * MIN,
    verifiedSegments: 3,
    damagedSegments: 0,
    quality: 91,
    gaps: [
      { from: 0, to: 8000, ms: 8000, cause: 'stall' },
      { from: 60_000, to: 64_000, ms: 4000, cause: 'interruption' },
    ],
    ccErrors: 37,
  });
  rig.engine.observeRecording('st-rec2', {
    recordingId: '42',
    entryId: 'rec-training',
    nominalStart: '2026-11-27T03:00:00Z',
    outcome: degraded.outcome,
    quality: 91,
    reason: degraded.reason,
    service: 'svc17',
    at: rig.now(),
  });

  // Station events. Power cut and lost settings from the agent's detectors.
  const cut = detectPowerCut({
    previous: {
      boot: 6,
      startedAt: '2026-11-27T01:00:00.000Z',
      lastSeenAt: '2026-11-27T01:40:00.000Z',
      stoppedAt: null,
    } as Parameters<typeof detectPowerCut>[0]['previous'],
    journalLastAt: '2026-11-27T01:40:05.000Z',
    bootAt: rig.now(),
    boot: 7,
    inProgress: 1,
    recorders: 1,
  });
  if (cut) stationAlarm(rig, 'st-power', 'power_cut', cut.message, cut.evidence);
  const tp = LINEUP.services[0]?.transponder;
  if (tp) {
    const loss = detectSettingsLoss({
      verified: { sharingKey: '3840H27500', service: 'cctv1', tuning: { transponder: tp, serviceId: 101 } },
      desiredKey: '3840H27500',
      held: false,
      status: {
        locked: false,
        levelRaw: 40,
        cnDb: null,
        marginDb: null,
        ber: null,
        alarms: [],
        lnb: 'ok',
        tuned: {
          frequencyMHz: 3880,
          lnbLoMHz: 5150,
          polarisation: 'H',
          symbolRateKsps: 27500,
          system: 'DVB-S',
          modulation: 'QPSK',
          fec: '3/4',
          input: 1,
          lnbPower: true,
        },
        serviceId: 113,
      },
    });
    // The message as device/receiver/settings-check.ts SettingsWatch.check writes it.
    if (loss)
      stationAlarm(
        rig,
        'st-settings',
        'receiver_settings_lost',
        `receiver rx1 forgot its settings: ${loss.summary}; re-applying the desired tuning`,
        { ...loss.evidence, receiverId: 'rx1' },
        'rx1',
      );
  }
  const since = new Date(rig.now() - 95_000).toISOString();
  // device/detect/service-watch.ts message() / evidence().
  stationAlarm(
    rig,
    'st-ca',
    'scrambled',
    `rx1 reports svc17 (service id 117) scrambled since ${since}: the receiver cannot descramble it (CA status)`,
    { receiver: 'rx1', service: 'svc17', serviceId: 117, since, source: 'service-watch' },
    'rx1',
  );
  stationAlarm(
    rig,
    'st-pat',
    'service_missing',
    `rx1 reports svc17 (service id 117) missing from the multiplex (PAT) since ${since}: the service moved or ended`,
    { receiver: 'rx1', service: 'svc17', serviceId: 117, since, source: 'service-watch' },
    'rx1',
  );
  // device/detect/content-check.ts observe().
  stationAlarm(
    rig,
    'st-black',
    'black_or_silent',
    'black picture and silence on svc17 (rx1) throughout the last 12.0 s with good RF (locked, margin 6.1 dB)',
    {
      receiver: 'rx1',
      service: 'svc17',
      black: true,
      silent: true,
      blackMs: 12000,
      silentMs: 12000,
      mediaMs: 12000,
      marginDb: 6.1,
      since,
    },
    'rx1',
  );
  // device/receiver/port-presence.ts PortWatch.observe().
  stationAlarm(
    rig,
    'st-port',
    'serial_port_missing',
    'receiver control port /dev/serial/by-id/usb-FTDI_FT232R-if00-port0 missing for 95 s (it was /dev/ttyUSB0): adapter unplugged or renumbered',
    {
      path: '/dev/serial/by-id/usb-FTDI_FT232R-if00-port0',
      missingSince: since,
      missingMs: 95_000,
      lastDevice: '/dev/ttyUSB0',
      error: 'PORT_NOT_FOUND',
    },
    'rx1',
  );
  // device/recorder/disk.ts refuse() — raised by the executor with the message only.
  stationAlarm(
    rig,
    'st-refused',
    'disk_full',
    'no space for 1800000000 bytes: used 9800000000 of quota 10000000000, free 200000000 (floor 500000000); 1600000000 bytes short after retention',
    {},
  );
  stationAlarm(
    rig,
    'st-ro',
    'filesystem_read_only',
    'recordings filesystem /var/lib/ruralsat/recordings is read-only (EROFS)',
    {},
  );
  // device/agent/link.ts onQuarantine.
  stationAlarm(rig, 'st-outbox', 'outbox_quarantined', 'event seq 418 quarantined: publish refused 5 times', {
    seq: 418,
    storeId: 'b7c1e0d2',
  });
  // headend/fleet/ingest.ts: a conflicting event.
  rig.engine.observeCondition({
    station: 'st-conflict',
    kind: 'event_conflict',
    active: true,
    subject: 'b7c1e0d2:77',
    evidence: {
      text: 'st-conflict re-sent event 77 of store b7c1e0d2 with a different payload',
      facts: { storeId: 'b7c1e0d2', seq: 77, type: 'occurrence.state' },
    },
    at: rig.now(),
  });
  rig.run(MIN, 10_000);
  return rig;
}

/** 3 days at one station whose margin sinks while 4 peers hold steady (tests/unit/alarms-causes.test.ts). */
function trendRig(): Rig {
  const rig = alarmRig();
  const peers = ['st-002', 'st-003', 'st-004', 'st-005'];
  rig.run(3 * DAY + 3_600_000, 10 * MIN, (now) => {
    const days = (now - T0) / DAY;
    rig.engine.observeTelemetry('st-001', telemetry(now, [{ marginDb: 7.9 - (4 * days) / 3 }]), now);
    peers.forEach((p, i) => {
      rig.engine.observeTelemetry(p, telemetry(now, [{ marginDb: 8 + 0.2 * Math.sin(days * 7 + i) }]), now);
    });
  });
  return rig;
}

/** 8 of 10 stations lose the carrier at once (tests/unit/alarms-fleet.test.ts). */
function fleetRig(): Rig {
  const rig = alarmRig();
  const ids = Array.from({ length: 10 }, (_, i) => `fl-${String(i + 1).padStart(3, '0')}`);
  feed(rig, 30_000, Object.fromEntries(ids.map((s) => [s, { rx: [{}] }])));
  feed(rig, 6 * MIN, Object.fromEntries(ids.map((s, i) => [s, { rx: [{ locked: i >= 8 }] }])));
  return rig;
}

/** A sun outage at Pingliang on 6 March 2026 (tests/unit/alarms-sun.test.ts). */
function sunRig(): Rig {
  const site = {
    site: { latDeg: 35.5, lonDeg: 106.7 },
    dish: { diameterM: 1.8, frequencyMHz: 3840 },
    satelliteLonDeg: 115.5,
  };
  const cal = createSunOutageCalendar(() => site);
  const at = (hhmmss: string) => Date.parse(`2026-03-06T${hhmmss}Z`);
  const rig = alarmRig({ start: at('04:00:00'), sunOutage: cal.windows });
  rig.run(at('04:25:00') - at('04:00:00'), 10_000, (now) => {
    const rx: RxInput =
      now < at('04:16:30') ? { marginDb: 6 } : now < at('04:19:00') ? { marginDb: 0.4 } : { locked: false };
    rig.engine.observeTelemetry('st-sun', telemetry(now, [rx]), now);
  });
  return rig;
}

/** Every alarm the rigs raised, in its latest state (the trend's evidence is refreshed as the decline grows). */
export function sampleAlarms(): AlarmRecord[] {
  const out: AlarmRecord[] = [];
  for (const rig of [headendKinds(), trendRig(), fleetRig(), sunRig()]) {
    for (const tr of rig.transitions)
      if (tr.type === 'raised') out.push(rig.engine.get(tr.alarm.id) ?? tr.alarm);
  }
  return out;
}
