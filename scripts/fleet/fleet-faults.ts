/**
 * The faults a demo or a test injects at a station of the simulated fleet (DOMAIN.md §6): the uplink cut
 * (the station's MQTT connection drops; it goes on executing from its store), or ANY scripted fault of the
 * simulated receiver (device/simulator/faults.ts `FaultStep`: fade, sun outage, LNB short, hang, freeze,
 * power cut, …, and whatever kinds the simulator learns later), validated by the simulator's own schema so
 * the two never disagree. `snow-fade` and `receiver-hang` are kept as the older names of `fade` and `hang`.
 */
import { z } from 'zod';
import { FAULT_KINDS, FaultStep } from '../../device/simulator/faults.js';

/** Older names the first fleet used (still accepted). */
const LegacyFault = z.discriminatedUnion('kind', [
  /** Snow or ice on the dish: C/N drops by `depthDb` (= `{kind: 'fade', depthDb}`). */
  z.strictObject({ kind: z.literal('snow-fade'), depthDb: z.number().min(0).max(60) }),
  /** The receiver stops answering on its serial port (= `{kind: 'hang'}`). */
  z.strictObject({ kind: z.literal('receiver-hang') }),
]);

/** One fault to inject: the uplink cut, a legacy name, or a simulator fault step. */
export const FleetFaultSchema = z.union([
  /** The uplink (broadband/3G) goes down: disconnected at the headend, executing locally. */
  z.strictObject({ kind: z.literal('uplink-down') }),
  LegacyFault,
  FaultStep,
]);
export type FleetFault = z.input<typeof FleetFaultSchema>;

/** What `clear` takes: the kind of an injected fault. */
export const FleetFaultKindSchema = z.enum(['uplink-down', 'snow-fade', 'receiver-hang', ...FAULT_KINDS]);
export type FleetFaultKind = z.infer<typeof FleetFaultKindSchema>;

/** The simulator step a fault means, or `null` for the uplink cut (not the receiver's). */
export function simulatorStep(f: FleetFault): z.input<typeof FaultStep> | null {
  switch (f.kind) {
    case 'uplink-down':
      return null;
    case 'snow-fade':
      return { kind: 'fade', depthDb: f.depthDb };
    case 'receiver-hang':
      return { kind: 'hang' };
    default:
      return f;
  }
}

/** The simulator's fault kind behind a `clear` kind (`null` for the uplink). */
export function simulatorKind(kind: FleetFaultKind): (typeof FAULT_KINDS)[number] | null {
  if (kind === 'uplink-down') return null;
  if (kind === 'snow-fade') return 'fade';
  if (kind === 'receiver-hang') return 'hang';
  return kind;
}
