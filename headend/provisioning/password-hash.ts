/**
 * Station secrets and their one stored form: Mosquitto's PBKDF2-SHA512 password hash,
 * `$7$<iterations>$<base64 salt>$<base64 64-byte digest>` (DESIGN.md §3: Mosquitto 2.0.11 accepts lines made
 * with Node's `pbkdf2(secret, salt, iterations, 64, 'sha512')`, salt used as raw bytes). The same string is
 * written to Mosquitto's password_file and verified by the embedded broker, so no secret is ever kept.
 */
import { createHash, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of a new station secret: 192 bits (issue 5 asks ≥ 128). */
export const SECRET_BYTES = 24;
/** Mosquitto's salt length (mosquitto_passwd writes 12 bytes). */
export const SALT_BYTES = 12;
/** SHA-512 digest length, as Mosquitto stores it. */
const DIGEST_BYTES = 64;
/** Upper bound on iterations we will compute for a stored hash (a corrupt row must not stall the broker). */
const MAX_ITERATIONS = 1_000_000;

/** A new random station secret, URL-safe base64 (32 characters for 192 bits). */
export function generateSecret(bytes: number = SECRET_BYTES): string {
  if (bytes < 16) throw new RangeError('a station secret needs at least 128 bits');
  return randomBytes(bytes).toString('base64url');
}

/** The parts of a `$7$` hash. */
export interface ParsedHash {
  iterations: number;
  salt: Buffer;
  digest: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses a `$7$` hash; null when it is anything else (never throws). */
export function parseHash(hash: string): ParsedHash | null {
  const parts = hash.split('$');
  // '', '7', iterations, salt, digest
  if (parts.length !== 5 || parts[0] !== '' || parts[1] !== '7') return null;
  const [, , it, salt, digest] = parts as [string, string, string, string, string];
  if (!/^[1-9]\d{0,6}$/.test(it) || !B64.test(salt) || !B64.test(digest)) return null;
  const iterations = Number(it);
  const s = Buffer.from(salt, 'base64');
  const d = Buffer.from(digest, 'base64');
  if (iterations > MAX_ITERATIONS || s.length === 0 || d.length !== DIGEST_BYTES) return null;
  return { iterations, salt: s, digest: d };
}

/** Hashes a secret into a Mosquitto `$7$` line value. */
export function hashSecret(secret: string, opts: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = opts.iterations ?? 10_000;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new RangeError(`iterations must be 1..${MAX_ITERATIONS}`);
  }
  const salt = opts.salt ?? randomBytes(SALT_BYTES);
  const digest = pbkdf2Sync(Buffer.from(secret, 'utf8'), salt, iterations, DIGEST_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${digest.toString('base64')}`;
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Verifies `secret` against a `$7$` hash (constant-time compare), off the event loop (libuv pool). */
export function verifySecret(secret: string | Buffer, hash: string): Promise<boolean> {
  const p = parseHash(hash);
  if (!p) return Promise.resolve(false);
  const pw = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return new Promise((resolve) => {
    pbkdf2(pw, p.salt, p.iterations, DIGEST_BYTES, 'sha512', (err, digest) =>
      resolve(!err && equal(digest, p.digest)),
    );
  });
}

/** Synchronous `verifySecret`, for the CLI. */
export function verifySecretSync(secret: string | Buffer, hash: string): boolean {
  const p = parseHash(hash);
  if (!p) return false;
  const pw = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return equal(pbkdf2Sync(pw, p.salt, p.iterations, DIGEST_BYTES, 'sha512'), p.digest);
}

/**
 * Remembers successful verifications so a reconnect storm of 102 (or 5 000) stations costs one SHA-256 each
 * instead of a PBKDF2 run. The key includes the stored hash, so a rotated or revoked credential never hits an
 * old entry; only successes are cached, so a wrong secret always pays the full price.
 */
export class VerifiedCache {
  private readonly seen = new Set<string>();
  constructor(private readonly max = 20_000) {}

  private key(secret: string | Buffer, hash: string): string {
    return createHash('sha256').update(hash).update('\u0000').update(secret).digest('base64');
  }

  /** Verifies, answering from the cache when this exact secret already matched this exact hash. */
  async verify(secret: string | Buffer, hash: string): Promise<boolean> {
    const k = this.key(secret, hash);
    if (this.seen.has(k)) return true;
    const ok = await verifySecret(secret, hash);
    if (ok) {
      if (this.seen.size >= this.max) this.seen.clear();
      this.seen.add(k);
    }
    return ok;
  }
}
