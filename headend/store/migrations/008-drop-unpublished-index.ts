/**
 * Migration 8: drops `schedule_docs_unpublished` (migration 1, kept by 7). Nothing reads through it any
 * more — "not yet published" is asked of each station's NEWEST document only (headend/store/schedules.ts
 * `unpublished`, one probe of `schedule_docs_version` per station) — but every issued document was added
 * to it and every broker PUBACK removed it again. At 5 000 stations that maintenance was ~35 % of setting
 * the published flags of a fleet-wide push and ~15 % of inserting its documents
 * (scripts/bench/fanout-mosquitto.ts).
 */
export const migration = {
  version: 8,
  name: 'drop-unpublished-index',
  up: `DROP INDEX IF EXISTS schedule_docs_unpublished;`,
} as const;
