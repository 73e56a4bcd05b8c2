/**
 * Seeds one user of every role (admin, control room, technician) and one operator per township station
 * group given (issue 6; used by the demo and the test harness). Passwords are random unless given and are
 * returned once, never logged. Existing users are left alone, so seeding is idempotent.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from './roles.js';
import type { Locale, UsersRepo } from './users-repo.js';

/** One operator to create: a user name, the stations they run, a display name. */
export interface SeedOperator {
  id: string;
  displayName?: string;
  stations: string[];
}

export interface SeedOptions {
  /** Operators and their stations. */
  operators?: SeedOperator[];
  /** Password of every seeded user (demo convenience); random per user when omitted. */
  password?: string;
  /** Names of the non-operator users (defaults: `admin`, `control`, `tech`). */
  names?: Partial<Record<Exclude<Role, 'operator'>, string>>;
  locale?: Locale;
}

/** A seeded user and the password to log in with (shown once). */
export interface SeededUser {
  id: string;
  role: Role;
  password: string;
  stations: string[];
  /** false when the user already existed (its password is then unknown and left unchanged). */
  created: boolean;
}

const DISPLAY: Record<Role, string> = {
  admin: '系统管理员',
  'control-room': '市指挥中心',
  technician: '技术员',
  operator: '乡镇操作员',
};

/** Creates the users that do not exist yet. */
export async function seedUsers(users: UsersRepo, opts: SeedOptions = {}): Promise<SeededUser[]> {
  const wanted: { id: string; role: Role; displayName: string; stations: string[] }[] = [
    { id: opts.names?.admin ?? 'admin', role: 'admin', displayName: DISPLAY.admin, stations: [] },
    {
      id: opts.names?.['control-room'] ?? 'control',
      role: 'control-room',
      displayName: DISPLAY['control-room'],
      stations: [],
    },
    {
      id: opts.names?.technician ?? 'tech',
      role: 'technician',
      displayName: DISPLAY.technician,
      stations: [],
    },
    ...(opts.operators ?? []).map((o) => ({
      id: o.id,
      role: 'operator' as const,
      displayName: o.displayName ?? `${DISPLAY.operator} ${o.id}`,
      stations: o.stations,
    })),
  ];
  const out: SeededUser[] = [];
  for (const w of wanted) {
    if (users.get(w.id)) {
      out.push({ id: w.id, role: w.role, password: '', stations: w.stations, created: false });
      continue;
    }
    const password = opts.password ?? randomBytes(12).toString('base64url');
    await users.create({ ...w, password, locale: opts.locale ?? 'zh-CN' });
    out.push({ id: w.id, role: w.role, password, stations: w.stations, created: true });
  }
  return out;
}
