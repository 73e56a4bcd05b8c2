/**
 * The process-spawning dependency (STYLE.md §5: spawn is passed in). Node's `child_process.spawn` has this
 * shape; tests and the bench pass it, or a wrapper that records what was started.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
