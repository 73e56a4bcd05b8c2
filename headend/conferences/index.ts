/** Video conferences (issue 7): the service, its schemas and read models. */
export * from './attendance.js';
export type { AttendanceTracker, FleetView, RowsListener } from './attendance-tracker.js';
export * from './conference-schema.js';
export { ConferenceError, type ConferenceErrorCode } from './errors.js';
export type { BoardRow, ConferenceBoard } from './queries.js';
export {
  type ConferenceReport,
  type CountyTotals,
  reportCsv,
  restrictReport,
  type StationReport,
} from './report.js';
export {
  type ApplyTime,
  type ConferenceChange,
  type ConferenceSaveResult,
  type ConferenceServiceDeps,
  type Conferences,
  createConferenceService,
} from './service.js';
