import type { Database } from 'better-sqlite3';

/**
 * One schema migration. Versions start at 1 and grow by one; `name` is recorded beside the version so a
 * build whose migration N differs from the one that was applied is caught at open instead of corrupting data.
 * `up` runs inside a transaction with the runner's bookkeeping, so a migration is applied whole or not at all.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Database): void;
}
