/**
 * Alarms (DESIGN.md §7, issue 8): the pure engine and its rules, fleet correlation, sun-outage calendar,
 * persistence and webhooks. Ingest and the HTTP API use `createAlarmService`; tests and tools may use the
 * engine alone.
 */
export { type RelayedAlarm, relayToEngine } from './board-relay.js';
export { type CarrierLookup, carrierLookupFromLineup } from './carriers.js';
export { type AlarmEngine, type AlarmEngineDeps, type ConditionInput, createAlarmEngine } from './engine.js';
export {
  type AlarmPolicy,
  type AlarmPolicyInput,
  AlarmPolicySchema,
  DEFAULT_ALARM_POLICY,
  holdsOf,
  RECORDING_DEGRADED_KIND,
  RECORDING_FAILED_KIND,
  RULES,
  ruleOf,
} from './rules.js';
export { type AlarmService, type AlarmServiceDeps, createAlarmService } from './service.js';
export type { RecordingObservation, ScheduleObservation, StationAlarmEvent } from './station-rules.js';
export { type AlarmHistoryEntry, type AlarmQuery, type AlarmsRepo, createAlarmsRepo } from './store.js';
export {
  createSunOutageCalendar,
  type StationCalendar,
  type StationSky,
  type SunOutageCalendar,
} from './sun-calendar.js';
export * from './types.js';
export {
  createWebhookNotifier,
  type WebhookConfig,
  type WebhookConfigInput,
  WebhookConfigSchema,
  type WebhookNotifier,
  type WebhookPayload,
  webhookPayload,
} from './webhook.js';
