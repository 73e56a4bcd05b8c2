/**
 * The programme guide (DESIGN.md §7, issue 5): XMLTV import in a worker thread, channel mapping, the
 * retained per-day guide documents, and guide-linked entries. What the composition root and the HTTP
 * layer use; the modules behind it are documented where they are.
 */
export {
  changedGuideDays,
  clearExpiredGuideDays,
  type GuideDayKey,
  type GuideDayPublishDeps,
  guideDaysInWindow,
  guideWindow,
  publishGuideDays,
} from './guide-days.js';
export { type ImportOptions, importGuide } from './guide-import.js';
export {
  createGuideLinkStore,
  type GuideLink,
  type GuideLinkedEntry,
  type LinkOccurrence,
  type LinkResolution,
  type LinkWarning,
  resolveGuideLinks,
  toScheduleItems,
} from './guide-links.js';
export { type GuideSource, isLanAddress, type SourceLimits } from './guide-sources.js';
export {
  type ChannelMapRepo,
  createChannelMapRepo,
  createGuideReader,
  failInterruptedImports,
  type GuideReader,
  listImportRuns,
} from './guide-store.js';
export type { GuideProgramme } from './guide-validate.js';
export { GuideImportError, type GuideImportErrorCode, type ImportReport } from './import-report.js';
export {
  createGuideImporter,
  type GuideImporter,
  type GuideImporterDeps,
  type ImportSource,
} from './import-worker.js';
export { createLocalCalendar, type LocalCalendar } from './local-day.js';
export type { ChannelMapRow } from './xmltv-channels.js';
