import t from 'tap';
import { StationEvent } from '../../protocol/messages/events.js';
import { RPC_SCHEMAS } from '../../protocol/messages/rpc-methods.js';
import {
  ALARM_KIND_NAMES,
  ALARM_KINDS,
  AlarmKind,
  canTransition,
  classRank,
  EVENT_TYPES,
  EXECUTION_STATES,
  EXECUTION_TRANSITIONS,
  type ExecutionState,
  FAILURES,
  type FailureRow,
  failureOf,
  hasSideEffects,
  RECORDING_OUTCOMES,
  RPC_METHOD_NAMES,
  STATION_ALARM_KIND_NAMES,
  StationAlarmKind,
  TERMINAL_EXECUTION_STATES,
} from '../../protocol/registry.js';

/** DOMAIN.md §6, "Failure" column, in order — copied here so the test never reads outside the repo. */
const DOMAIN_SECTION_6 = [
  'Power cut',
  'Receiver forgets settings after power loss',
  'Receiver hangs (serial dead, or TS frozen while "locked")',
  'LNB or cable fault',
  'Dish misaligned (wind, snow load)',
  'Snow/ice fade',
  'Sun outage',
  'Satellite/carrier change or satellite anomaly',
  'Service/PID reshuffle',
  'Scrambled service',
  'Stream stall (network, ffmpeg stuck)',
  'Black/silent programme with good RF',
  'Disk full / read-only filesystem',
  'Clock drift without NTP',
  'Flaky uplink',
  'USB-serial renumbered',
];

const rows = Object.entries(FAILURES) as Array<[keyof typeof FAILURES, FailureRow]>;

t.test('the failure table holds every DOMAIN.md §6 row, in order, with detection and response', async (t) => {
  const domainRows = rows.filter(([, r]) => r.source === 'DOMAIN.md §6');
  t.same(
    domainRows.map(([, r]) => r.failure),
    DOMAIN_SECTION_6,
  );
  for (const [id, r] of domainRows) {
    t.ok(r.detect.length > 3 && r.respond.length > 3, `${id} has detection and response text`);
  }
});

t.test('every alarm kind maps to an existing failure row', async (t) => {
  for (const kind of ALARM_KIND_NAMES) {
    const row = failureOf(kind);
    t.ok(Object.hasOwn(FAILURES, row.id), `${kind} → ${row.id}`);
    t.equal(row.failure, FAILURES[row.id].failure);
  }
});

t.test('every failure row is covered by an alarm kind or explicitly marked not applicable', async (t) => {
  const used = new Set(ALARM_KIND_NAMES.map((k) => ALARM_KINDS[k].row));
  for (const [id, r] of rows) {
    if (r.notApplicable !== undefined) {
      t.notOk(used.has(id), `${id} is marked not applicable, so no kind may map to it`);
      t.ok(r.notApplicable.length > 10, `${id} says why it is not applicable`);
    } else {
      t.ok(used.has(id), `${id} (${r.failure}) has an alarm kind`);
    }
  }
});

t.test('station alarm kinds are what a station may send; headend kinds are refused from it', async (t) => {
  t.same(
    STATION_ALARM_KIND_NAMES,
    ALARM_KIND_NAMES.filter((k) => ALARM_KINDS[k].raisedBy === 'station'),
  );
  for (const k of ALARM_KIND_NAMES) {
    t.ok(AlarmKind.safeParse(k).success);
    t.equal(StationAlarmKind.safeParse(k).success, ALARM_KINDS[k].raisedBy === 'station', k);
  }
  t.notOk(AlarmKind.safeParse('made_up').success);
  // Examples from DOMAIN.md §6 that must stay headend-side: fleet correlation and trend need peers.
  t.equal(ALARM_KINDS.fleet_signal_lost.raisedBy, 'headend');
  t.equal(ALARM_KINDS.margin_trend.raisedBy, 'headend');
  t.equal(ALARM_KINDS.station_offline.raisedBy, 'headend');
});

t.test('RPC methods: side-effect flags as DESIGN.md §4 lists them, and a schema for each', async (t) => {
  const withEffects = [
    'receiver.retune',
    'receiver.reset',
    'receiver.lnb',
    'recordings.protect',
    'recordings.delete',
    'recordings.retention',
  ];
  t.same(RPC_METHOD_NAMES.filter(hasSideEffects).sort(), withEffects.sort());
  t.same(
    Object.keys(RPC_SCHEMAS).sort(),
    [...RPC_METHOD_NAMES].sort(),
    'params/result schemas for exactly the registry',
  );
  t.equal(RPC_METHOD_NAMES.length, 14, 'the 14 methods of DESIGN.md §6');
});

t.test('every event type has exactly one schema in the events union', async (t) => {
  const discriminators = StationEvent.options.map((o) => o.shape.type.value);
  t.same([...discriminators].sort(), [...EVENT_TYPES].sort());
});

t.test('execution states: terminal states are final, every state can end, outcomes are states', async (t) => {
  for (const s of TERMINAL_EXECUTION_STATES) t.same(EXECUTION_TRANSITIONS[s], [], `${s} is final`);
  for (const s of EXECUTION_STATES) {
    // Breadth-first: a terminal state is reachable from every state.
    const seen = new Set<ExecutionState>([s]);
    const queue: ExecutionState[] = [s];
    while (queue.length > 0) {
      for (const n of EXECUTION_TRANSITIONS[queue.shift() as ExecutionState]) {
        if (!seen.has(n)) {
          seen.add(n);
          queue.push(n);
        }
      }
    }
    t.ok(
      [...seen].some((x) => TERMINAL_EXECUTION_STATES.includes(x)),
      `${s} can reach a terminal state`,
    );
  }
  for (const o of RECORDING_OUTCOMES) t.ok(TERMINAL_EXECUTION_STATES.includes(o), `${o} is a terminal state`);
  t.ok(
    canTransition('recording', 'recording'),
    'resume after a power cut is a new segment of the same occurrence',
  );
  t.notOk(canTransition('completed', 'recording'), 'a finished occurrence never restarts');
  t.notOk(canTransition('pending', 'completed'), 'nothing completes without running');
  t.notOk(
    canTransition('showing', 'completed_with_errors'),
    'a shown-only conference has no recording to judge',
  );
});

t.test('class rank: conference > mandated > operator', async (t) => {
  t.ok(classRank('conference') > classRank('mandated'));
  t.ok(classRank('mandated') > classRank('operator'));
});
