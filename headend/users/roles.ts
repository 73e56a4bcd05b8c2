/**
 * Roles and what each may do (issue 6 "Access control", DESIGN.md §1). One table, read by the HTTP layer,
 * the SSE filter and the UI (`/api/v1/auth/me` returns the caller's permissions), so the three never disagree.
 *
 * - `admin`: everything, including users, the line-up, station registry and backups.
 * - `control-room`: the city control room (DESIGN.md §1): pushes conferences and mandated recordings to any
 *   stations, imports the guide, sees the whole fleet, acknowledges alarms.
 * - `operator`: a township operator: sees and schedules recordings for the stations they own, nothing else.
 * - `technician`: reads everything (fleet, events, telemetry, plans) and runs diagnostics; schedules nothing.
 */
import { z } from 'zod';

export const ROLES = ['admin', 'control-room', 'operator', 'technician'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** Actions checked by the API. Station-scoped ones are further limited to an operator's own stations. */
export const PERMISSIONS = [
  /** Read stations, plans, events, recordings (operators: own stations only). */
  'fleet.read',
  /** Register and edit stations, edit groups. */
  'stations.manage',
  /** Replace the line-up. */
  'lineup.manage',
  /** Upload / import XMLTV. */
  'guide.import',
  /** Create, edit, delete operator recordings (operators: on own stations, own entries). */
  'entries.write',
  /** Conferences, mandated recordings, and any target (county, group, all, other townships). */
  'entries.control',
  /** Protect / delete recordings (operators: own stations). */
  'recordings.manage',
  /** Remote diagnostics over RPC (DESIGN.md §6 Diagnostics RPC). */
  'diagnostics.run',
  /** Acknowledge alarms. */
  'alarms.ack',
  /** Read the whole audit log (operators see entries about their own stations and themselves). */
  'audit.read',
  /** Manage users and their tokens. */
  'users.manage',
  /** Take an online backup. */
  'backup.run',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS,
  'control-room': [
    'fleet.read',
    'guide.import',
    'entries.write',
    'entries.control',
    'recordings.manage',
    'alarms.ack',
    'audit.read',
  ],
  operator: ['fleet.read', 'entries.write', 'recordings.manage'],
  technician: ['fleet.read', 'diagnostics.run', 'alarms.ack', 'audit.read'],
};

/** Does `role` hold `permission` at all (before any station scope)? */
export function roleCan(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** Every permission of a role (for `/auth/me` and the UI). */
export function permissionsOf(role: Role): Permission[] {
  return [...GRANTS[role]];
}

/** Is the role limited to the stations it owns? */
export function isStationScoped(role: Role): boolean {
  return role === 'operator';
}
