/**
 * The messages between a parent (the demo, an end-to-end test) and a fleet process (fleet-child.ts) over
 * Node's IPC channel. Both ends are ours, but what arrives is still parsed (STYLE.md guideline 1: no `any`
 * reaches the core); the station secrets travel here, never on a command line where `ps` shows them.
 */
import { z } from 'zod';
import { ServiceTuning } from '../../protocol/messages/tuning.js';
import { TimingOverridesSchema } from '../../protocol/timing.js';
import { FleetFaultKindSchema, FleetFaultSchema } from './fleet-faults.js';

/** What the child needs to start the fleet. */
export const FleetStartOptions = z.strictObject({
  members: z.array(z.strictObject({ id: z.string(), secret: z.string() })),
  brokerUrl: z.string(),
  lineup: z.array(ServiceTuning),
  dir: z.string(),
  /** Stations' databases here instead of beside the recordings (sim-fleet.ts `dataRoot`). */
  dataRoot: z.string().optional(),
  timingBase: z.enum(['default', 'short']),
  timing: TimingOverridesSchema.default({}),
  lockDelayMs: z.number().int().nonnegative(),
  /** JSON log lines of the fleet (agents, simulators) go to this file. */
  logFile: z.string(),
  agentLogLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('warn'),
  concurrency: z.number().int().positive().default(8),
  /** Lines each agent keeps in memory for `logs.tail` (0 = none: the RPC answers REFUSED). */
  logRingLines: z.number().int().nonnegative().default(200),
});
export type FleetStartOptions = z.input<typeof FleetStartOptions>;

export { FleetFaultKindSchema, FleetFaultSchema } from './fleet-faults.js';

/** Parent → child. */
export const ToChild = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('start'), id: z.number(), options: z.unknown() }),
  z.strictObject({ op: z.literal('inject'), id: z.number(), station: z.string(), fault: FleetFaultSchema }),
  z.strictObject({ op: z.literal('clear'), id: z.number(), station: z.string(), kind: FleetFaultKindSchema }),
  z.strictObject({ op: z.literal('stats'), id: z.number() }),
  z.strictObject({ op: z.literal('stop'), id: z.number() }),
]);
export type ToChild = z.infer<typeof ToChild>;
/** What a parent sends (before defaults are applied). */
export type ToChildInput = z.input<typeof ToChild>;

/** What `stats` answers: the fleet process and what it spawned. */
export const FleetStats = z.strictObject({
  pid: z.number(),
  rssBytes: z.number(),
  cpuUserMs: z.number(),
  cpuSystemMs: z.number(),
  /** PIDs of ffmpeg/ffprobe processes still running (test sources, recorders). */
  children: z.array(z.number()),
  /** Test sources running (one per service in use). */
  sources: z.array(z.strictObject({ key: z.string(), pid: z.number().nullable(), subscribers: z.number() })),
  stations: z.number(),
});
export type FleetStats = z.infer<typeof FleetStats>;

/** Child → parent: the answer to request `id`. */
export const FromChild = z.discriminatedUnion('ok', [
  z.strictObject({ id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: z.number(), ok: z.literal(false), error: z.string() }),
]);
export type FromChild = z.infer<typeof FromChild>;
