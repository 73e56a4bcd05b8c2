/** Every bench `npm run bench` runs, in order. Add a module here to add a row to the table. */
import type { Bench } from './bench.js';
import { plannerBench } from './planner.js';

export const benches: readonly Bench[] = [plannerBench];
