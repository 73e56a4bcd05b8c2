/**
 * The users module: people, their sessions and their API tokens over the headend database (migration 4).
 * Built once by the composition root and passed down (STYLE.md guideline 5).
 */
import type { Database } from 'better-sqlite3';
import type { ScryptCost } from './passwords.js';
import {
  createSessionsRepo,
  createTokensRepo,
  type SessionOptions,
  type SessionsRepo,
  type TokensRepo,
} from './sessions.js';
import { createUsersRepo, type UsersRepo } from './users-repo.js';

export interface UserStore {
  users: UsersRepo;
  sessions: SessionsRepo;
  tokens: TokensRepo;
}

export interface UserStoreOptions {
  now?: () => Date;
  /** scrypt cost of new password hashes (tests lower it). */
  scrypt?: ScryptCost;
  sessions?: Partial<SessionOptions>;
}

export function createUserStore(db: Database, opts: UserStoreOptions = {}): UserStore {
  const now = opts.now ?? (() => new Date());
  return {
    users: createUsersRepo(db, { now, ...(opts.scrypt ? { scrypt: opts.scrypt } : {}) }),
    sessions: createSessionsRepo(db, { now, ...(opts.sessions ? { options: opts.sessions } : {}) }),
    tokens: createTokensRepo(db, { now }),
  };
}

export { UsersError } from './errors.js';
export type { Role } from './roles.js';
export type { ApiToken, Session } from './sessions.js';
export type { NewUser, User, UserPatch } from './users-repo.js';
