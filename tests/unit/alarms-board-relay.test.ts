/**
 * The relay from headend/fleet's alarm board into the engine (board-relay.ts), against the real board:
 * what presence, the schedule tracker and ingest already decided is raised without a second hold, a
 * station's own alarm merges with the headend's telemetry rule for the same receiver, and an event
 * conflict latches until acknowledged.
 */
import { pino } from 'pino';
import t from 'tap';
import { relayToEngine } from '../../headend/alarms/board-relay.js';
import { createAlarmBoard } from '../../headend/fleet/alarm-board.js';
import { defaultTiming as D } from '../../protocol/timing.js';
import { alarmRig, T0, telemetry } from '../helpers/alarm-rig.js';

function rigWithBoard() {
  const rig = alarmRig();
  const board = createAlarmBoard({ logger: pino({ level: 'silent' }), now: () => new Date(rig.now()) });
  board.subscribe(relayToEngine(rig.engine));
  return { rig, board };
}

t.test(
  'station offline decided by presence (after its grace) is raised at once, cleared at once',
  async (t) => {
    const { rig, board } = rigWithBoard();
    board.raise({
      kind: 'station_offline',
      stationId: 'st-001',
      subject: '',
      message: 'st-001 disconnected since …',
      evidence: {},
    });
    const a = rig.raised('station_offline')[0]?.alarm;
    t.ok(a, 'no second grace period');
    t.equal(a?.cause.row, 'flaky-uplink');
    t.equal(a?.evidence.text, 'st-001 disconnected since …');
    board.clear('station_offline', 'st-001');
    t.equal(rig.cleared('station_offline').length, 1);
  },
);

t.test("a station's own alarm and the headend's rule on the same receiver are one alarm", async (t) => {
  const { rig, board } = rigWithBoard();
  board.raise({
    kind: 'lnb_fault',
    stationId: 'st-002',
    subject: 'al-17',
    severity: 'critical',
    message: 'LNB short on rx1',
    evidence: { receiverId: 'rx1', lnb: 'short' },
    fromStation: true,
  });
  rig.run(3 * 60_000, 10_000, (now) =>
    rig.engine.observeTelemetry('st-002', telemetry(now, [{ lnb: 'short' }]), now),
  );
  t.equal(rig.raised('lnb_fault').length, 1, 'one alarm for one fault');
  t.equal(rig.raised('lnb_fault')[0]?.alarm.subject, 'rx1');
  board.clear('lnb_fault', 'st-002', 'al-17');
  rig.run(D.alarmClearHoldMs + 30_000, 10_000, (now) =>
    rig.engine.observeTelemetry('st-002', telemetry(now), now),
  );
  t.equal(rig.cleared('lnb_fault').length, 1, 'cleared once both say so');
});

t.test('an event conflict latches until acknowledged', async (t) => {
  const { rig, board } = rigWithBoard();
  board.raise({
    kind: 'event_conflict',
    stationId: 'st-003',
    subject: 'abcdef0123456789:42',
    message: 'st-003 re-sent event 42 with a different payload',
    evidence: { seq: 42 },
  });
  rig.at(T0 + 3_600_000);
  const a = rig.raised('event_conflict')[0]?.alarm;
  t.equal(a?.severity, 'critical');
  t.equal(rig.cleared().length, 0, 'still there an hour later');
  rig.engine.acknowledge(a?.id as string, 'zhao.tech');
  t.equal(rig.cleared('event_conflict').length, 1, 'acknowledged: cleared');
});
