/**
 * Who may run which diagnostics method (issue 8: "the technician role may use it; operators may not";
 * DESIGN.md §1: remote diagnostics are the technician's). The one role table (headend/users/roles.ts)
 * decides: `diagnostics.run` — technician and admin — may call every method, remedies included. The
 * control room is not granted it: what it needs ("which villages are receiving, with what signal") is on
 * the fleet board from telemetry, and a probe or log read still occupies the station's link and receiver
 * port. Operators schedule recordings; the receiver is not theirs.
 */
import { RPC_METHODS, type RpcMethod } from '../../protocol/registry.js';
import { type Role, roleCan } from '../users/roles.js';

/** RPC methods a person runs from the station page or the API (protect/delete have their own routes). */
export const DIAGNOSTIC_METHODS = [
  'receiver.status',
  'receiver.info',
  'receiver.retune',
  'receiver.reset',
  'receiver.lnb',
  'stream.probe',
  'plan.explain',
  'logs.tail',
  'disk.usage',
  'recordings.list',
  'recordings.retention',
] as const satisfies readonly RpcMethod[];
export type DiagnosticMethod = (typeof DIAGNOSTIC_METHODS)[number];

/** True when the method changes something on the station (registry `sideEffects`). */
export function isRemedy(method: DiagnosticMethod): boolean {
  return RPC_METHODS[method].sideEffects;
}

/** May `role` call `method`? (Every method needs `diagnostics.run`; the method is named for the message.) */
export function mayCall(role: Role, _method: DiagnosticMethod): boolean {
  return roleCan(role, 'diagnostics.run');
}

/** The methods `role` may call (for the UI and the methods listing). */
export function methodsFor(role: Role): DiagnosticMethod[] {
  return DIAGNOSTIC_METHODS.filter((m) => mayCall(role, m));
}
