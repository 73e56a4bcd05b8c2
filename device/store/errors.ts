/**
 * The store layer's one error type (STYLE.md §6, §12). Callers switch on `code`, never on the message.
 */

export const STORE_ERROR_CODES = [
  /** The database file could not be opened or its pragmas could not be set. */
  'OPEN_FAILED',
  /** The database was written by a newer agent (a migration this build does not know): refuse, don't guess. */
  'DB_TOO_NEW',
  /** An applied migration's recorded name differs from this build's migration of the same version. */
  'MIGRATION_MISMATCH',
  /** A migration threw; its transaction was rolled back and the database left at the previous version. */
  'MIGRATION_FAILED',
  /** A write that must share a transaction with its state change was called outside `store.transaction`. */
  'NOT_IN_TRANSACTION',
  /** An event does not match the protocol's event schema (it would be refused by the headend forever). */
  'INVALID_EVENT',
  /** The row asked for does not exist. */
  'NOT_FOUND',
  /** The write contradicts what is stored (e.g. a recording that is running cannot be deleted). */
  'CONFLICT',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
