/**
 * The failure table alarms are mapped to, and the alarm kinds (part of the registry, re-exported by
 * registry.ts). The first rows are DOMAIN.md §6 ("What goes wrong at unattended stations") copied as data
 * — failure, detection and response — so code and tests never read a file outside the repository. The
 * last rows are failures of the system itself that DESIGN.md §4 asks the headend to alarm on.
 */
import { z } from 'zod';
import type { AlarmSeverity } from './registry.js';

/** One row of the failure table. */
export interface FailureRow {
  /** The failure as DOMAIN.md §6 (or DESIGN.md §4) names it. */
  failure: string;
  /** How it is detected. */
  detect: string;
  /** What the system does about it. */
  respond: string;
  /** Where the row comes from. */
  source: 'DOMAIN.md §6' | 'DESIGN.md §4';
  /** Set when no alarm kind covers the row, with the reason (e.g. handled entirely by design). */
  notApplicable?: string;
}

/** The failure table. Keys are stable ids; text is copied verbatim from the cited document. */
export const FAILURES = {
  'power-cut': {
    failure: 'Power cut',
    detect: 'boot after gap',
    respond: 'reconcile schedule; resume an in-window job as a new segment; report the gap',
    source: 'DOMAIN.md §6',
  },
  'receiver-forgets-settings': {
    failure: 'Receiver forgets settings after power loss',
    detect: 'read-back ≠ desired',
    respond: 're-apply full desired tuning (idempotent) on every start and reconnect',
    source: 'DOMAIN.md §6',
  },
  'receiver-hangs': {
    failure: 'Receiver hangs (serial dead, or TS frozen while "locked")',
    detect: 'consecutive timeouts; 0 bytes/s while locked',
    respond: 'soft reset over serial, then escalate (relay/operator), backoff, cap per day',
    source: 'DOMAIN.md §6',
  },
  'lnb-cable-fault': {
    failure: 'LNB or cable fault',
    detect: 'LNB status short/no load; level collapses on all carriers',
    respond: 'LNB power off/on once; raise site-visit alarm; no reboot loops',
    source: 'DOMAIN.md §6',
  },
  'dish-misaligned': {
    failure: 'Dish misaligned (wind, snow load)',
    detect: 'slow margin decline at one station while peers are stable',
    respond: 'trend alarm; compare with the fleet',
    source: 'DOMAIN.md §6',
  },
  'snow-ice-fade': {
    failure: 'Snow/ice fade',
    detect: 'correlated dips that recover',
    respond: 'hysteresis; annotate recordings; no reboot',
    source: 'DOMAIN.md §6',
  },
  'sun-outage': {
    failure: 'Sun outage',
    detect: 'predicted calendar',
    respond: 'suppress alarms in the window; warn about jobs inside it',
    source: 'DOMAIN.md §6',
  },
  'carrier-change': {
    failure: 'Satellite/carrier change or satellite anomaly',
    detect: 'lock lost at many stations at once',
    respond: 'headend pushes new tuning; tell fleet-wide events from local ones',
    source: 'DOMAIN.md §6',
  },
  'service-reshuffle': {
    failure: 'Service/PID reshuffle',
    detect: 'PAT/PMT change',
    respond: 'select by service id',
    source: 'DOMAIN.md §6',
  },
  'scrambled-service': {
    failure: 'Scrambled service',
    detect: 'scrambling bits / receiver CA status',
    respond: "alarm; don't record garbage silently",
    source: 'DOMAIN.md §6',
  },
  'stream-stall': {
    failure: 'Stream stall (network, ffmpeg stuck)',
    detect: 'file not growing',
    respond: 'restart recorder, then check receiver',
    source: 'DOMAIN.md §6',
  },
  'black-silent': {
    failure: 'Black/silent programme with good RF',
    detect: 'detectors; peers see the same',
    respond: "report as upstream, don't touch local equipment",
    source: 'DOMAIN.md §6',
  },
  'disk-full': {
    failure: 'Disk full / read-only filesystem',
    detect: 'free space before and during jobs; EROFS',
    respond: 'retention policy; refuse with a reason; alarm',
    source: 'DOMAIN.md §6',
  },
  'clock-drift': {
    failure: 'Clock drift without NTP',
    detect: 'offset against headend time or TDT',
    respond: 'alarm; mark recordings clock-uncertain',
    source: 'DOMAIN.md §6',
  },
  'flaky-uplink': {
    failure: 'Flaky uplink',
    detect: 'broker disconnects',
    respond: 'keep executing the local schedule; store and forward',
    source: 'DOMAIN.md §6',
  },
  'usb-serial-renumbered': {
    failure: 'USB-serial renumbered',
    detect: 'port missing',
    respond: 'by-id paths; reopen with backoff',
    source: 'DOMAIN.md §6',
  },
  'schedule-not-applied': {
    failure: 'Station does not apply the desired schedule',
    detect: 'applied version ≠ desired for longer than the lag limit, or a rejection',
    respond: 'show desired vs applied and how long they differ; alarm',
    source: 'DESIGN.md §4',
  },
  'schedule-unknown-version': {
    failure: 'Station reports a schedule version the headend never issued',
    detect: 'reported (version, hash) not in the headend store',
    respond: 'alarm; republish the desired document',
    source: 'DESIGN.md §4',
  },
  'event-conflict': {
    failure: 'Same event key with a different payload',
    detect: '(station, storeId, seq) already stored with another payload hash',
    respond: 'keep the first, alarm',
    source: 'DESIGN.md §4',
  },
  'outbox-quarantined': {
    failure: 'An outbox row keeps being refused',
    detect: 'the same row causes repeated disconnects',
    respond: 'quarantine the row and report it; do not retry forever',
    source: 'DESIGN.md §4',
  },
  'credentials-rejected': {
    failure: 'Rejected MQTT credentials',
    detect: 'failed authentication or client id ≠ username',
    respond: 'count and alarm (a misconfigured or impersonating station)',
    source: 'DESIGN.md §4',
  },
} as const satisfies Record<string, FailureRow>;
export type FailureId = keyof typeof FAILURES;

/** One alarm kind. */
export interface AlarmKindInfo {
  /** The failure-table row it reports. */
  row: FailureId;
  /** Default severity; the headend may escalate (e.g. duration) but never silently downgrade. */
  severity: AlarmSeverity;
  /** Who raises it: the station (as an `alarm.raised` event) or the headend (from what it observes). */
  raisedBy: 'station' | 'headend';
  /** One line for the UI. */
  summary: string;
}

/** Alarm kinds (DESIGN.md §7), each mapped to one row of the failure table. */
export const ALARM_KINDS = {
  power_cut: {
    row: 'power-cut',
    severity: 'warning',
    raisedBy: 'station',
    summary: 'restarted after a gap',
  },
  receiver_settings_lost: {
    row: 'receiver-forgets-settings',
    severity: 'info',
    raisedBy: 'station',
    summary: 'receiver settings differed from desired; re-applied',
  },
  receiver_unresponsive: {
    row: 'receiver-hangs',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'receiver does not answer on its control port',
  },
  stream_frozen: {
    row: 'receiver-hangs',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'no stream data while the receiver reports lock',
  },
  lnb_fault: {
    row: 'lnb-cable-fault',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'LNB supply short or no load: site visit',
  },
  margin_trend: {
    row: 'dish-misaligned',
    severity: 'warning',
    raisedBy: 'headend',
    summary: 'margin declining at this station while peers are stable',
  },
  margin_low: {
    row: 'snow-ice-fade',
    severity: 'warning',
    raisedBy: 'station',
    summary: 'link margin below the alarm threshold',
  },
  signal_lost: {
    row: 'snow-ice-fade',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'receiver lost lock on the carrier',
  },
  sun_outage: {
    row: 'sun-outage',
    severity: 'info',
    raisedBy: 'headend',
    summary: 'inside a predicted sun-outage window (other signal alarms suppressed)',
  },
  fleet_signal_lost: {
    row: 'carrier-change',
    severity: 'critical',
    raisedBy: 'headend',
    summary: 'lock lost at many stations on the same carrier at once',
  },
  service_missing: {
    row: 'service-reshuffle',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'the service id is not in the stream (PAT) any more',
  },
  scrambled: {
    row: 'scrambled-service',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'the service is scrambled',
  },
  recorder_stalled: {
    row: 'stream-stall',
    severity: 'warning',
    raisedBy: 'station',
    summary: 'recording file not growing',
  },
  recording_failed: {
    row: 'stream-stall',
    severity: 'critical',
    raisedBy: 'headend',
    summary: 'a recording failed (the reason names the cause: disk, lock, scrambled, service, stall)',
  },
  recording_degraded: {
    row: 'stream-stall',
    severity: 'warning',
    raisedBy: 'headend',
    summary: 'a recording completed with errors or below quality 95',
  },
  black_or_silent: {
    row: 'black-silent',
    severity: 'warning',
    raisedBy: 'station',
    summary: 'black picture or silence with good RF',
  },
  disk_low: {
    row: 'disk-full',
    severity: 'warning',
    raisedBy: 'station',
    summary: 'recordings disk nearly full',
  },
  disk_full: {
    row: 'disk-full',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'no space for a recording: refused or stopped',
  },
  filesystem_read_only: {
    row: 'disk-full',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'recordings filesystem is read-only (EROFS)',
  },
  clock_untrusted: {
    row: 'clock-drift',
    severity: 'warning',
    raisedBy: 'station',
    summary: 'clock offset unknown or too large; recordings marked clock-uncertain',
  },
  station_offline: {
    row: 'flaky-uplink',
    severity: 'warning',
    raisedBy: 'headend',
    summary: 'station disconnected for longer than the grace period',
  },
  serial_port_missing: {
    row: 'usb-serial-renumbered',
    severity: 'critical',
    raisedBy: 'station',
    summary: 'receiver control port missing',
  },
  schedule_lag: {
    row: 'schedule-not-applied',
    severity: 'warning',
    raisedBy: 'headend',
    summary: 'applied schedule differs from desired',
  },
  schedule_unknown_version: {
    row: 'schedule-unknown-version',
    severity: 'critical',
    raisedBy: 'headend',
    summary: 'station reports a schedule version never issued',
  },
  event_conflict: {
    row: 'event-conflict',
    severity: 'critical',
    raisedBy: 'headend',
    summary: 'an event was re-sent with a different payload',
  },
  outbox_quarantined: {
    row: 'outbox-quarantined',
    severity: 'warning',
    raisedBy: 'station',
    summary: 'an event was quarantined after repeated refusals',
  },
  credentials_rejected: {
    row: 'credentials-rejected',
    severity: 'warning',
    raisedBy: 'headend',
    summary: 'MQTT credentials rejected for this station id',
  },
} as const satisfies Record<string, AlarmKindInfo>;
export type AlarmKind = keyof typeof ALARM_KINDS;
export const ALARM_KIND_NAMES = Object.keys(ALARM_KINDS) as AlarmKind[];
export const AlarmKind = z.enum(ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]]);

/** Kinds a station may raise in an `alarm.raised` event. */
export const STATION_ALARM_KIND_NAMES = ALARM_KIND_NAMES.filter((k) => ALARM_KINDS[k].raisedBy === 'station');
export const StationAlarmKind = z.enum(STATION_ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]]);

/** The failure-table row of an alarm kind. */
export function failureOf(kind: AlarmKind): FailureRow & { id: FailureId } {
  const id = ALARM_KINDS[kind].row;
  return { id, ...FAILURES[id] };
}
