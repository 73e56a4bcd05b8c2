/** The users module's one error type (STYLE.md guideline 12): a stable `code` the HTTP layer maps. */

export type UsersErrorCode = 'INVALID_INPUT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT';

/** One field problem. */
export interface UserFieldIssue {
  path: string;
  message: string;
}

/** A user operation that cannot be done; never a crash. */
export class UsersError extends Error {
  override readonly name = 'UsersError';
  constructor(
    readonly code: UsersErrorCode,
    message: string,
    readonly issues: UserFieldIssue[] = [],
  ) {
    super(message);
  }
}
