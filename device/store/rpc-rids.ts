/**
 * rids of side-effecting RPCs (DESIGN.md §4 "RPC"): `claim` is an atomic insert, so of two deliveries of
 * the same request only one runs; a redelivery after completion gets the stored response. A claim left
 * `running` by a crash is answered as such and never re-run: for reset, LNB power or delete, doing it
 * at most once is the safe side.
 */
import type { Database } from 'better-sqlite3';

export type RidClaim =
  /** First delivery: the caller runs the method, then calls `complete`. */
  | { status: 'claimed' }
  /** A previous delivery finished: answer with its response, do not run again. */
  | { status: 'done'; response: unknown; at: string }
  /** A previous delivery started and has not finished (or the agent died while running it). */
  | { status: 'running'; since: string };

export class RpcRidsRepo {
  constructor(private readonly db: Database) {}

  /** Claims `rid` for `method`, or reports what an earlier delivery of it did. */
  claim(rid: string, method: string, at: string): RidClaim {
    const inserted = this.db
      .prepare("INSERT OR IGNORE INTO rpc_rids (rid, method, state, at) VALUES (?, ?, 'running', ?)")
      .run(rid, method, at);
    if (inserted.changes === 1) return { status: 'claimed' };
    const r = this.db.prepare('SELECT state, response, at, done_at FROM rpc_rids WHERE rid = ?').get(rid) as {
      state: 'running' | 'done';
      response: string | null;
      at: string;
      done_at: string | null;
    };
    if (r.state === 'done') {
      return {
        status: 'done',
        response: r.response === null ? null : JSON.parse(r.response),
        at: r.done_at ?? r.at,
      };
    }
    return { status: 'running', since: r.at };
  }

  /** Stores the response of a claimed rid (what a redelivery will be answered with). */
  complete(rid: string, response: unknown, at: string): void {
    this.db
      .prepare("UPDATE rpc_rids SET state = 'done', response = ?, done_at = ? WHERE rid = ?")
      .run(JSON.stringify(response), at, rid);
  }

  /** Forgets rids claimed before `beforeIso` (older than any request's ttl can be redelivered). */
  prune(beforeIso: string): number {
    return this.db.prepare('DELETE FROM rpc_rids WHERE at < ?').run(beforeIso).changes;
  }
}
