/**
 * The agent's run marker (DOMAIN.md §6 "Power cut: boot after gap → … report the gap"): one row in `meta`
 * saying which boot is running, since when, when it was last seen alive, and whether it stopped cleanly.
 * A start that finds the previous run never stopped knows the station lost power (or the agent was killed)
 * and how long it was dark: from the last heartbeat to now. Written with `synchronous=FULL` like every
 * other row (device/store/db.ts), so the marker of a run that stopped cleanly survives the power going
 * off a second later.
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';

const KEY = 'agent_run';

const RunMarkerSchema = z.object({
  /** Boot counter of that run (device/store/counters.ts). */
  boot: z.number().int().nonnegative(),
  /** When it started (agent clock, ISO UTC). */
  startedAt: z.string(),
  /** Its last heartbeat (or its start). */
  lastSeenAt: z.string(),
  /** Set by a clean stop; null while running (or after a crash). */
  stoppedAt: z.string().nullable(),
});
export type RunMarker = z.infer<typeof RunMarkerSchema>;

export class RunMarkerRepo {
  constructor(private readonly db: Database) {}

  /** The marker as stored; null when there is none (a new database, or one from before markers). */
  read(): RunMarker | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(KEY) as
      | { value: string }
      | undefined;
    if (!row) return null;
    try {
      const r = RunMarkerSchema.safeParse(JSON.parse(row.value));
      return r.success ? r.data : null;
    } catch {
      return null;
    }
  }

  /** Marks run `boot` as started at `at`; returns what the previous run left. */
  begin(boot: number, at: string): RunMarker | null {
    return this.db
      .transaction(() => {
        const previous = this.read();
        this.write({ boot, startedAt: at, lastSeenAt: at, stoppedAt: null });
        return previous;
      })
      .immediate();
  }

  /** Heartbeat: the running agent was alive at `at`. */
  beat(at: string): void {
    const m = this.read();
    if (m && m.stoppedAt === null) this.write({ ...m, lastSeenAt: at });
  }

  /** Clean stop at `at`. */
  end(at: string): void {
    const m = this.read();
    if (m) this.write({ ...m, lastSeenAt: at, stoppedAt: at });
  }

  private write(m: RunMarker): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(KEY, JSON.stringify(m));
  }
}
