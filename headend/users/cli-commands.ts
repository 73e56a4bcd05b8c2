/**
 * User commands of the admin CLI (headend/cli.ts): the first admin of a new headend is created here, and a
 * forgotten password is reset here. Passwords are generated (≥ 96 bits), printed once and stored only as
 * scrypt hashes; the user changes theirs after logging in.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { createUserStore } from './index.js';
import { Role } from './roles.js';

/** Flags these commands read (merged into the CLI's parseArgs options). */
export const USER_COMMAND_FLAGS = {
  role: { type: 'string' },
  station: { type: 'string', multiple: true },
  'display-name': { type: 'string' },
} as const;

export const USER_USAGE = `  user-add --id NAME --role admin|control-room|operator|technician [--station ID]... [--display-name TEXT]
                                      create a user; prints a generated password ONCE (operators need --station)
  user-password --id NAME             new generated password (printed once); ends the user's sessions and tokens
  users [--json]                      list users`;

type Values = Record<string, string | boolean | string[] | undefined>;

/** Runs a user command; false when `cmd` is not one. Throws `Error`s whose message is for the admin. */
export async function runUserCommand(
  cmd: string,
  v: Values,
  db: () => Database,
  io: { stdout: (s: string) => void; stderr: (s: string) => void },
  actor: string,
  audit: (e: { actor: string; action: string; target: string; details?: Record<string, unknown> }) => void,
): Promise<boolean> {
  if (cmd !== 'user-add' && cmd !== 'user-password' && cmd !== 'users') return false;
  const users = createUserStore(db()).users;
  const id = typeof v.id === 'string' ? v.id : '';
  const password = () => randomBytes(12).toString('base64url');
  if (cmd === 'users') {
    const list = users.list();
    if (v.json) io.stdout(`${JSON.stringify(list, null, 2)}\n`);
    else {
      io.stdout('ID\tROLE\tNAME\tSTATIONS\tDISABLED\n');
      for (const u of list)
        io.stdout(
          `${[u.id, u.role, u.displayName, u.stations.join(',') || '-', u.disabledAt ?? '-'].join('\t')}\n`,
        );
      io.stdout(`${list.length} user(s)\n`);
    }
    return true;
  }
  if (!id) throw new Error('--id is required');
  if (cmd === 'user-add') {
    const role = Role.safeParse(v.role);
    if (!role.success) throw new Error('--role must be admin, control-room, operator or technician');
    const secret = password();
    const u = await users.create({
      id,
      displayName: typeof v['display-name'] === 'string' ? v['display-name'] : id,
      role: role.data,
      password: secret,
      stations: (v.station as string[] | undefined) ?? [],
    });
    audit({
      actor,
      action: 'user.create',
      target: `user:${u.id}`,
      details: { after: { role: u.role, stations: u.stations } },
    });
    io.stdout(`created ${u.role} ${u.id}\npassword: ${secret}\n`);
    io.stderr('The password is shown this once; the headend keeps only its scrypt hash.\n');
    return true;
  }
  const secret = password();
  await users.update(id, { password: secret });
  audit({ actor, action: 'user.password', target: `user:${id}` });
  io.stdout(`new password of ${id}: ${secret}\n`);
  io.stderr('Shown this once. Every session and API token of the user has ended.\n');
  return true;
}
