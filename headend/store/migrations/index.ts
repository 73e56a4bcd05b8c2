/** Every migration of the headend database, in order (the runner is ../migrate.ts). */
import type { Migration } from '../migrate.js';
import { migration as initial } from './001-initial.js';
import { migration as guide } from './002-guide.js';
import { migration as fleet } from './003-fleet.js';
import { migration as users } from './004-users.js';
import { migration as alarms } from './005-alarms.js';
import { migration as conferences } from './006-conferences.js';
import { migration as scheduleDocsRowid } from './007-schedule-docs-rowid.js';
import { migration as dropUnpublishedIndex } from './008-drop-unpublished-index.js';

export const MIGRATIONS: readonly Migration[] = [
  initial,
  guide,
  fleet,
  users,
  alarms,
  conferences,
  scheduleDocsRowid,
  dropUnpublishedIndex,
];
