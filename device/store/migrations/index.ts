/** The ordered list of station schema migrations. Append only: an applied migration is never edited. */
import { migration001 } from './001-initial.js';
import type { Migration } from './types.js';

export type { Migration } from './types.js';

export const STATION_MIGRATIONS: readonly Migration[] = [migration001];
