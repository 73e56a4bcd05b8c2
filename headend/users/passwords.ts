/**
 * User passwords as scrypt hashes (DESIGN.md §7: "User passwords: scrypt"). The stored form is PHC-style,
 * `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64, no padding), so the cost can be raised later and old hashes
 * still verify. Hashing runs on libuv's thread pool (`crypto.scrypt`, not `scryptSync`): a login must not
 * stall the event loop the embedded broker shares (DESIGN.md §7).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost: N = 2^ln. 2^15 with r=8 is ~32 MiB and ~60–100 ms here; tests may lower it. */
export interface ScryptCost {
  ln: number;
  r: number;
  p: number;
}

/** Production cost (OWASP's scrypt minimum is N=2^17 with r=8 for interactive logins on a server; 2^15 suits the embedded headend box). */
export const DEFAULT_SCRYPT_COST: ScryptCost = { ln: 15, r: 8, p: 1 };

/** Longest password accepted: scrypt itself does not care, but a 1 MB "password" is a cheap DoS. */
export const MAX_PASSWORD_LENGTH = 256;
/** Shortest password accepted for a new or changed password. */
export const MIN_PASSWORD_LENGTH = 10;

const KEY_LEN = 32;
const PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.ln;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_LEN,
      { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** Hashes a password with a fresh 16-byte salt. */
export async function hashPassword(
  password: string,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

/** Checks a password against a stored hash; false for a malformed hash (never throws on user input). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = PATTERN.exec(stored);
  if (!m || password.length > MAX_PASSWORD_LENGTH) return false;
  const cost = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (cost.ln < 1 || cost.ln > 20 || cost.r < 1 || cost.p < 1) return false;
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const expected = Buffer.from(m[5] ?? '', 'base64');
  if (expected.length !== KEY_LEN) return false;
  const key = await derive(password, salt, cost);
  return timingSafeEqual(key, expected);
}

/**
 * A hash nobody's password matches, verified against when the user does not exist so that a login for an
 * unknown name takes as long as a wrong password (no user enumeration by timing).
 */
export async function dummyHash(cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  return hashPassword(randomBytes(18).toString('base64'), cost);
}
