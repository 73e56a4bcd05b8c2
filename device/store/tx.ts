/**
 * Transaction tokens. Writes that must commit together with the state change they report (DESIGN.md §4:
 * "the agent writes the event to its outbox in the same transaction as the state change") take a `StoreTx`
 * as their first argument; a token is only valid while the `store.transaction` callback that received it
 * runs, so calling such a write outside a transaction is a typed error instead of a silent auto-commit.
 */
import type { Database } from 'better-sqlite3';
import { StoreError } from './errors.js';

declare const txBrand: unique symbol;

/** Proof that the caller is inside `store.transaction(fn)`; opaque to callers. */
export interface StoreTx {
  readonly [txBrand]: true;
}

const open = new WeakSet<object>();

/** Runs `fn` in an IMMEDIATE transaction (nested calls become savepoints) and hands it a live token. */
export function runInTransaction<T>(db: Database, fn: (tx: StoreTx) => T): T {
  const body = db.transaction(() => {
    const token = Object.freeze({}) as StoreTx;
    open.add(token);
    try {
      const result = fn(token);
      if (result instanceof Promise) {
        throw new StoreError('NOT_IN_TRANSACTION', 'a store transaction must be synchronous (got a promise)');
      }
      return result;
    } finally {
      open.delete(token);
    }
  });
  return db.inTransaction ? body() : body.immediate();
}

/** Throws NOT_IN_TRANSACTION unless `tx` is a live token of an open transaction on `db`. */
export function assertInTransaction(db: Database, tx: StoreTx, what: string): void {
  if (!open.has(tx) || !db.inTransaction) {
    throw new StoreError('NOT_IN_TRANSACTION', `${what} must be called inside store.transaction()`);
  }
}
