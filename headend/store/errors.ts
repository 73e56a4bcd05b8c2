/** The store layer's one error type (STYLE.md guideline 12): a stable `code` callers and the HTTP layer map. */

/** Codes of `StoreError`. */
export type StoreErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_INPUT'
  | 'CONFLICT'
  | 'SCHEMA_TOO_NEW'
  | 'MIGRATION_MISMATCH'
  | 'BAD_MIGRATIONS'
  | 'NOT_A_BACKUP'
  | 'HEADEND_RUNNING';

/** A store operation that cannot be done; never a crash. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}
