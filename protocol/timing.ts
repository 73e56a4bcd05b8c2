/**
 * The one timing profile. Every protocol timing (grace periods, alarm holds, pre-roll, telemetry periods,
 * retry backoffs, receiver lock timeouts) is read from here, so production reads it from config and tests
 * run the same code with a short profile instead of waiting minutes (DESIGN.md §4, last rule).
 */
import { z } from 'zod';

const ms = z.number().int().nonnegative();

export const TimingProfileSchema = z.object({
  /** Presence: how long a station may be disconnected before the "offline" alarm (DESIGN.md §4). */
  offlineGraceMs: ms,
  /** How long an alarm condition must hold before the alarm is raised (DOMAIN.md §2: 1–2 min). */
  alarmRaiseHoldMs: ms,
  /** How long the condition must be absent before the alarm clears automatically. */
  alarmClearHoldMs: ms,
  /** A schedule applied this long behind the desired version, while connected, raises an alarm. */
  scheduleLagAlarmMs: ms,
  /** Default soft padding before a recording (DESIGN.md §5). */
  recordingPadBeforeMs: ms,
  /** Default soft padding after a recording. */
  recordingPadAfterMs: ms,
  /** Conferences tune this long before their start (DESIGN.md §5). */
  conferencePreRollMs: ms,
  /** The recorder is started this long before the planned start so ffmpeg's probing (~1.2 s) is not lost. */
  recorderLeadMs: ms,
  /** Receivers are tuned this long before a recording's (padded) start. */
  tunePreRollMs: ms,
  /** Telemetry period while the station is executing an occurrence. */
  telemetryActiveMs: ms,
  /** Telemetry period while idle. */
  telemetryIdleMs: ms,
  /** MQTT reconnect backoff: first delay, cap, and jitter share (0..1). */
  reconnectMinMs: ms,
  reconnectMaxMs: ms,
  reconnectJitter: z.number().min(0).max(1),
  /** Events not covered by the headend's ack after this long are resent from the ack. */
  outboxResendMs: ms,
  /** Disconnects caused by the same outbox row before it is quarantined. */
  outboxQuarantineAfter: z.number().int().positive(),
  /** Serial request timeout for one receiver command, and retries after a timeout. */
  receiverRequestTimeoutMs: ms,
  receiverRetries: z.number().int().nonnegative(),
  /** How long to wait for lock after a tune before reporting no lock. */
  receiverLockTimeoutMs: ms,
  /** Receiver status poll period (receivers send no unsolicited events, DOMAIN.md §3). */
  receiverPollMs: ms,
  /** Serial/TCP transport reopen backoff (USB-serial adapters renumber, DOMAIN.md §6). */
  transportReopenMinMs: ms,
  transportReopenMaxMs: ms,
  /** Simulated receiver lock delay after a tune (DOMAIN.md: real IRDs take 1–3 s). */
  simulatorLockDelayMs: ms,
  /** Recorder: no bytes for this long = stalled (DOMAIN.md §4: 5–10 s). */
  recorderStallMs: ms,
  /** Recorder: segment length (DOMAIN.md §4: a power cut loses at most one segment). */
  recorderSegmentMs: ms,
  /** Recorder: after `q`, wait this long before SIGINT, then as long again before SIGKILL. */
  recorderStopGraceMs: ms,
  /** Recovery ladder: backoff between rungs, and the cap of resets per day. */
  recoveryBackoffMs: ms,
  recoveryDailyCap: z.number().int().nonnegative(),
  /** RPC: default time-to-live of a request and the headend's bound on any wait. */
  rpcDefaultTtlMs: ms,
  /** Maintenance hold taken by the on-site CLI: default and maximum length. */
  maintenanceHoldMs: ms,
  maintenanceHoldMaxMs: ms,
  /** Clock offset exchange period (NTP-style, minimum-RTT filter). */
  clockExchangeMs: ms,
  /** Clock offset beyond which the clock is untrusted and an alarm is raised. */
  clockMaxOffsetMs: ms,
  /**
   * After a restart, how long recovery waits for a clock exchange before executing with an untrusted (but
   * plausible) clock; recordings made then are marked clock-uncertain (DESIGN.md §6, Clock).
   */
  clockTrustWaitMs: ms,
  /** Margin trend alarm: the span over which a station's margin slope is compared with its carrier peers (DOMAIN.md §6, dish misaligned). */
  alarmTrendWindowMs: ms,
  /** Fleet correlation: lock losses on one carrier starting within this window count as one event (DOMAIN.md §6, carrier change). */
  fleetCorrelationWindowMs: ms,
  /** Sun-outage suppression starts this long before and ends this long after a predicted window (the onset is gradual, DOMAIN.md §2). */
  sunOutageGuardMs: ms,
  /** Alarm webhook: timeout of one POST. */
  webhookTimeoutMs: ms,
  /** Alarm webhook: first retry delay (doubles per attempt, capped at 60× this). */
  webhookRetryMinMs: ms,
  /** Alarm webhook: retries after the first attempt before a notification is given up. */
  webhookRetries: z.number().int().nonnegative(),
  /**
   * Station retention sweep period: max age and keep-N applied, and space freed before the disk is short
   * (DOMAIN.md §6 "Disk full": retention policy), without waiting for a recording to need the space.
   */
  retentionSweepMs: ms,
  /**
   * Content check period while recording: the last `contentCheckWindowMs` of the segment being written is
   * decoded for black picture, silence and decodable video (DOMAIN.md §4: blackdetect/silencedetect as a
   * separate analysis; device/detect/).
   */
  contentCheckPeriodMs: ms,
  /** Content check: how much of the newest recorded media one check decodes (bounds its CPU). */
  contentCheckWindowMs: ms,
});
export type TimingProfile = z.infer<typeof TimingProfileSchema>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Production defaults. */
export const defaultTiming: TimingProfile = {
  offlineGraceMs: 10 * MINUTE,
  alarmRaiseHoldMs: 90 * SECOND,
  alarmClearHoldMs: 2 * MINUTE,
  scheduleLagAlarmMs: 5 * MINUTE,
  recordingPadBeforeMs: 2 * MINUTE,
  recordingPadAfterMs: 5 * MINUTE,
  conferencePreRollMs: 5 * MINUTE,
  recorderLeadMs: 3 * SECOND,
  tunePreRollMs: 60 * SECOND,
  telemetryActiveMs: 10 * SECOND,
  telemetryIdleMs: 60 * SECOND,
  reconnectMinMs: 1 * SECOND,
  reconnectMaxMs: 60 * SECOND,
  reconnectJitter: 0.3,
  outboxResendMs: 30 * SECOND,
  outboxQuarantineAfter: 3,
  receiverRequestTimeoutMs: 1500,
  receiverRetries: 2,
  receiverLockTimeoutMs: 15 * SECOND,
  receiverPollMs: 5 * SECOND,
  transportReopenMinMs: 1 * SECOND,
  transportReopenMaxMs: 30 * SECOND,
  simulatorLockDelayMs: 2 * SECOND,
  recorderStallMs: 8 * SECOND,
  recorderSegmentMs: 10 * MINUTE,
  recorderStopGraceMs: 5 * SECOND,
  recoveryBackoffMs: 30 * SECOND,
  recoveryDailyCap: 6,
  rpcDefaultTtlMs: 30 * SECOND,
  maintenanceHoldMs: 15 * MINUTE,
  maintenanceHoldMaxMs: 2 * 60 * MINUTE,
  clockExchangeMs: 5 * MINUTE,
  clockMaxOffsetMs: 2 * SECOND,
  clockTrustWaitMs: 6 * MINUTE,
  alarmTrendWindowMs: 3 * 24 * 60 * MINUTE,
  fleetCorrelationWindowMs: 2 * MINUTE,
  sunOutageGuardMs: 2 * MINUTE,
  webhookTimeoutMs: 5 * SECOND,
  webhookRetryMinMs: 1 * SECOND,
  webhookRetries: 5,
  retentionSweepMs: 60 * MINUTE,
  contentCheckPeriodMs: 60 * SECOND,
  contentCheckWindowMs: 10 * SECOND,
};

/** The short profile the test suite runs with: the same code paths in seconds instead of minutes. */
export const shortTiming: TimingProfile = {
  ...defaultTiming,
  offlineGraceMs: 2 * SECOND,
  alarmRaiseHoldMs: 1 * SECOND,
  alarmClearHoldMs: 1 * SECOND,
  scheduleLagAlarmMs: 3 * SECOND,
  recordingPadBeforeMs: 0,
  recordingPadAfterMs: 0,
  conferencePreRollMs: 5 * SECOND,
  recorderLeadMs: 2 * SECOND,
  tunePreRollMs: 3 * SECOND,
  telemetryActiveMs: 500,
  telemetryIdleMs: 1 * SECOND,
  reconnectMinMs: 100,
  reconnectMaxMs: 1 * SECOND,
  outboxResendMs: 1 * SECOND,
  receiverRequestTimeoutMs: 400,
  receiverRetries: 1,
  receiverLockTimeoutMs: 3 * SECOND,
  receiverPollMs: 300,
  transportReopenMinMs: 100,
  transportReopenMaxMs: 1 * SECOND,
  simulatorLockDelayMs: 300,
  recorderStallMs: 3 * SECOND,
  recorderSegmentMs: 10 * SECOND,
  recorderStopGraceMs: 2 * SECOND,
  recoveryBackoffMs: 500,
  rpcDefaultTtlMs: 5 * SECOND,
  maintenanceHoldMs: 5 * SECOND,
  maintenanceHoldMaxMs: 60 * SECOND,
  clockExchangeMs: 2 * SECOND,
  clockTrustWaitMs: 3 * SECOND,
  alarmTrendWindowMs: 60 * SECOND,
  fleetCorrelationWindowMs: 2 * SECOND,
  sunOutageGuardMs: 2 * MINUTE,
  webhookTimeoutMs: 1 * SECOND,
  webhookRetryMinMs: 50,
  webhookRetries: 3,
  retentionSweepMs: 5 * SECOND,
  contentCheckPeriodMs: 2 * SECOND,
  contentCheckWindowMs: 2 * SECOND,
};

export const TimingOverridesSchema = TimingProfileSchema.partial().strict();

/** Production defaults overridden field by field (config files give only what they change). */
export function timingProfile(
  overrides: z.infer<typeof TimingOverridesSchema> = {},
  base: TimingProfile = defaultTiming,
): TimingProfile {
  return TimingProfileSchema.parse({ ...base, ...TimingOverridesSchema.parse(overrides) });
}
