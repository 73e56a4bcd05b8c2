/**
 * A recording's reason → the failure-table row its alarm names (headend/alarms/station-rules.ts): the agent's
 * reason codes first, whole words, so a read-only disk is not a stall and "clock" is not a lock loss.
 */
import t from 'tap';
import { recordingRow } from '../../headend/alarms/station-rules.js';

const cases: [string, string][] = [
  ['read_only: no usable recording', 'disk-full'],
  ['disk_full: 20 MB needed, 3 MB free', 'disk-full'],
  ['EROFS on /srv/recordings', 'disk-full'],
  ['scrambled: rx1 reports svc17 scrambled', 'scrambled-service'],
  ['service_missing: 117 not in the PAT', 'service-reshuffle'],
  ['service 117 not in the stream', 'service-reshuffle'],
  ['clock_untrusted: offset unknown', 'clock-drift'],
  ['no_lock: 3840 MHz H', 'snow-ice-fade'],
  ['lock lost at 14:02', 'snow-ice-fade'],
  ['8.1 s missing in 1 gap (stall)', 'stream-stall'],
  ['truncated (by "会议" at 2026-11-27T06:09:00Z)', 'stream-stall'],
];
for (const [reason, row] of cases) t.equal(recordingRow(reason), row, reason);
