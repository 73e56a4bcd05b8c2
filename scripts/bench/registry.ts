/**
 * Every bench `npm run bench` runs, in table order. Add a module here to add rows to the table.
 * Modules are imported lazily, one by one, so a module that fails to load becomes one ERROR row instead
 * of stopping the others (and `npm run bench planner` still has to load them all to match names).
 */
import type { Bench } from './bench.js';

export interface BenchModule {
  /** Module path, for the ERROR row when it fails to load. */
  module: string;
  load(): Promise<readonly Bench[]>;
}

export const benchModules: readonly BenchModule[] = [
  { module: './planner.js', load: async () => [(await import('./planner.js')).plannerBench] },
  { module: './xmltv.js', load: async () => [(await import('./xmltv.js')).xmltvBench] },
  { module: './fanout.js', load: async () => [(await import('./fanout.js')).fanoutBench] },
  {
    module: './save-transaction.js',
    load: async () => [(await import('./save-transaction.js')).saveTransactionBench],
  },
  {
    module: './fanout-mosquitto.js',
    load: async () => [(await import('./fanout-mosquitto.js')).fanoutMosquittoBench],
  },
  {
    module: './recorder.js',
    load: async () => {
      const m = await import('./recorder.js');
      return [m.recorderStartBench, m.recorderCpuBench];
    },
  },
  {
    module: './telemetry-ingest.js',
    load: async () => [(await import('./telemetry-ingest.js')).telemetryIngestBench],
  },
  { module: './agent-rss.js', load: async () => [(await import('./agent-rss.js')).agentRssBench] },
  { module: './alarms.js', load: async () => [(await import('./alarms.js')).alarmsBench] },
  {
    module: './content-check.js',
    load: async () => [(await import('./content-check.js')).contentCheckBench],
  },
];
