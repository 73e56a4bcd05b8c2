/**
 * The station agent's configuration: ONE zod schema, read from a JSON file, then overridden field by field
 * by RURALSAT_* environment variables. This is the only device-side file that reads `process.env`
 * (STYLE.md guideline 5); everything else receives the parsed `AgentConfig`. A bad config fails at start
 * with every field error listed, not just the first.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { StationId, TimeZone } from '../protocol/messages/common.js';
import {
  defaultTiming,
  shortTiming,
  TimingOverridesSchema,
  type TimingProfile,
  timingProfile,
} from '../protocol/timing.js';
import { DEFAULT_TOPIC_ROOT, rootProblem } from '../protocol/topics.js';
import { LOG_LEVELS } from './log.js';

const NonEmpty = z.string().min(1);

/** TLS towards the broker. Paths to PEM files; read once at start by `readBrokerTls`. */
const BrokerTls = z
  .object({
    /** CA bundle that signed the broker's certificate (a private CA in most deployments). */
    ca: NonEmpty.optional(),
    /** Client certificate, only when the broker asks for one (v1 authenticates by username/password). */
    cert: NonEmpty.optional(),
    /** Private key of `cert`. */
    key: NonEmpty.optional(),
    /** Verify the broker's certificate. Only a lab turns this off. */
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict()
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: 'tls.cert and tls.key go together',
    path: ['key'],
  });

const Broker = z
  .object({
    /** `mqtts://host:8883` (or `mqtt://` on loopback / a lab). */
    url: z.url({ protocol: /^mqtts?$/, error: 'broker.url must be mqtt://host:port or mqtts://host:port' }),
    /** MQTT username; defaults to the station id (the broker requires username = client id, DESIGN.md §4). */
    username: NonEmpty.optional(),
    /** The station's secret, shown once at provisioning. */
    password: NonEmpty.optional(),
    tls: BrokerTls.optional(),
    /**
     * Allow plain `mqtt://` to a host that is not loopback (e.g. inside a VPN tunnel). Off by default:
     * DESIGN.md §4 makes TLS the default off loopback.
     */
    allowPlaintext: z.boolean().default(false),
  })
  .strict();

/** How the agent reaches the receiver's remote-control port (DOMAIN.md §3, §6: by-id paths; ser2net). */
const ReceiverTransport = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('serial'),
      /** Prefer `/dev/serial/by-id/…`: USB-serial adapters renumber (DOMAIN.md §6). */
      path: NonEmpty,
      /** RX8200 default 9600 8N1 (DOMAIN.md §3). */
      baudRate: z.number().int().positive().default(9600),
    })
    .strict(),
  z
    .object({
      type: z.literal('tcp'),
      /** A serial-over-IP device server (ser2net raw TCP) or the simulator. */
      host: NonEmpty,
      port: z.number().int().min(1).max(65535),
    })
    .strict(),
]);

const Receiver = z
  .object({
    /** Receiver id used by the schedule document's `receivers[]` (the planner assigns occurrences to it). */
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('rx1'),
    /** Receiver family: selects the driver (one per family, DESIGN.md §6). */
    family: z.literal('rx8200'),
    transport: ReceiverTransport,
    /** Remote-control bus address 0–999 (RX8200 default 2, DOMAIN.md §3). */
    address: z.number().int().min(0).max(999).default(2),
  })
  .strict();

const Disk = z
  .object({
    /** Total bytes the recordings may use; retention frees space beyond it (0 = no quota, free-space floor only). */
    quotaBytes: z.number().int().nonnegative().default(0),
    /** Free bytes the filesystem must keep; below it a recording is refused with `disk_full`. */
    minFreeBytes: z
      .number()
      .int()
      .nonnegative()
      .default(1024 * 1024 * 1024),
    /**
     * Share of the quota the retention sweep keeps free (TVHeadend's "maintain free space"): so the next
     * recording can always start, and above the headend's `disk_low` line (10 % free + 3 % hysteresis) so the
     * `recordings.retention` remedy clears that alarm. 0 = free space only when over the quota.
     */
    headroomRatio: z.number().min(0).max(0.9).default(0.15),
  })
  .strict();

export const AgentConfigSchema = z
  .object({
    /** Station id = MQTT client id = username (DESIGN.md §4). */
    stationId: StationId,
    broker: Broker,
    /** MQTT topic root (DESIGN.md §4). */
    topicRoot: z
      .string()
      .default(DEFAULT_TOPIC_ROOT)
      .superRefine((root, ctx) => {
        const p = rootProblem(root);
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
    receiver: Receiver,
    /**
     * The receiver's MPEG-TS output the recorder reads, e.g. `udp://239.1.1.1:5000` (DOMAIN.md §4: usually UDP,
     * often multicast) or `http://…`.
     */
    streamUrl: z.url({
      protocol: /^(udp|rtp|http|https)$/,
      error: 'streamUrl must be udp://, rtp:// or http(s)://',
    }),
    /** Where recordings are written (segment files). */
    recordingsDir: NonEmpty,
    /** Where the station database (`station.db`, SQLite WAL) lives. */
    dataDir: NonEmpty,
    disk: Disk.default({ quotaBytes: 0, minFreeBytes: 1024 * 1024 * 1024, headroomRatio: 0.15 }),
    /** The station's IANA time zone (DOMAIN.md §1: Asia/Shanghai). The schedule document carries its own. */
    timeZone: TimeZone.default('Asia/Shanghai'),
    /** Which timing profile the overrides apply to: `default` (production) or `short` (tests, demos). */
    timingBase: z.enum(['default', 'short']).default('default'),
    /** Field-by-field overrides of the timing profile (protocol/timing.ts). */
    timing: TimingOverridesSchema.default({}),
    /** pino level. */
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /** Unix socket of the on-site CLI (JSON lines); defaults to `<dataDir>/agent.sock`. */
    controlSocketPath: NonEmpty.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const url = new URL(c.broker.url);
    if (url.protocol === 'mqtt:' && !isLoopback(url.hostname) && !c.broker.allowPlaintext) {
      ctx.addIssue({
        code: 'custom',
        path: ['broker', 'url'],
        message: `${c.broker.url}: use mqtts:// off loopback (or set broker.allowPlaintext inside a VPN)`,
      });
    }
    if (c.broker.username !== undefined && c.broker.username !== c.stationId) {
      ctx.addIssue({
        code: 'custom',
        path: ['broker', 'username'],
        message:
          'broker.username must equal stationId (the broker refuses username ≠ client id, DESIGN.md §4)',
      });
    }
  });

/** The validated configuration (defaults filled). */
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
/** What a config file may contain before defaults. */
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

/** A config that failed validation: `issues` lists every field error as `path: message`. */
export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid agent config:\n  ${issues.join('\n  ')}`);
  }
}

/** Is `host` a loopback address or name? */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

type Kind = 'string' | 'int' | 'bool';
/**
 * Environment overrides: variable → config path and type. RURALSAT_BROKER_PASSWORD is the way to keep the
 * secret out of the file (e.g. a systemd credential); the rest are for containers and tests.
 */
export const ENV_OVERRIDES: Readonly<Record<string, { path: readonly string[]; kind: Kind }>> = {
  RURALSAT_STATION_ID: { path: ['stationId'], kind: 'string' },
  RURALSAT_BROKER_URL: { path: ['broker', 'url'], kind: 'string' },
  RURALSAT_BROKER_USERNAME: { path: ['broker', 'username'], kind: 'string' },
  RURALSAT_BROKER_PASSWORD: { path: ['broker', 'password'], kind: 'string' },
  RURALSAT_BROKER_CA: { path: ['broker', 'tls', 'ca'], kind: 'string' },
  RURALSAT_TOPIC_ROOT: { path: ['topicRoot'], kind: 'string' },
  RURALSAT_RECEIVER_SERIAL_PATH: { path: ['receiver', 'transport', 'path'], kind: 'string' },
  RURALSAT_RECEIVER_ADDRESS: { path: ['receiver', 'address'], kind: 'int' },
  RURALSAT_STREAM_URL: { path: ['streamUrl'], kind: 'string' },
  RURALSAT_RECORDINGS_DIR: { path: ['recordingsDir'], kind: 'string' },
  RURALSAT_DATA_DIR: { path: ['dataDir'], kind: 'string' },
  RURALSAT_DISK_QUOTA_BYTES: { path: ['disk', 'quotaBytes'], kind: 'int' },
  RURALSAT_DISK_MIN_FREE_BYTES: { path: ['disk', 'minFreeBytes'], kind: 'int' },
  RURALSAT_TIME_ZONE: { path: ['timeZone'], kind: 'string' },
  RURALSAT_TIMING_BASE: { path: ['timingBase'], kind: 'string' },
  RURALSAT_LOG_LEVEL: { path: ['logLevel'], kind: 'string' },
  RURALSAT_CONTROL_SOCKET: { path: ['controlSocketPath'], kind: 'string' },
};

/** Names the config file when `--config` is not given. */
export const CONFIG_FILE_ENV = 'RURALSAT_AGENT_CONFIG';

type Raw = Record<string, unknown>;

function setPath(raw: Raw, keys: readonly string[], value: unknown): void {
  let node = raw;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Raw;
  }
  const last = keys[keys.length - 1];
  if (last !== undefined) node[last] = value;
}

/** Sources of one load; tests pass their own instead of touching the process. */
export interface ConfigSources {
  /** Path of the JSON config file (`--config`), if any. */
  file?: string | undefined;
  /** Environment (RURALSAT_* only are read). */
  env?: Readonly<Record<string, string | undefined>>;
  /** File reader (tests). */
  readFile?: (file: string) => string;
}

/**
 * Reads, merges and validates the config. Throws `AgentConfigError` listing every problem: unreadable file,
 * malformed env values and every schema issue, together.
 */
export function loadAgentConfig(sources: ConfigSources): AgentConfig {
  const env = sources.env ?? {};
  const readFile = sources.readFile ?? ((f: string) => readFileSync(f, 'utf8'));
  const problems: string[] = [];
  let raw: Raw = {};
  const file = sources.file ?? env[CONFIG_FILE_ENV];
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFile(file));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push(`${file}: the config file must hold one JSON object`);
      } else {
        raw = parsed as Raw;
        // Relative directories in a file are relative to the file, so a config can travel with its data.
        for (const key of ['dataDir', 'recordingsDir', 'controlSocketPath'] as const) {
          const v = raw[key];
          if (typeof v === 'string' && v !== '') raw[key] = path.resolve(path.dirname(file), v);
        }
      }
    } catch (err) {
      problems.push(`${file}: cannot read config file: ${(err as Error).message}`);
    }
  }
  for (const [name, spec] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (spec.kind === 'int') {
      if (!/^\d+$/.test(value)) {
        problems.push(`${name}: expected a non-negative integer, got ${JSON.stringify(value)}`);
        continue;
      }
      setPath(raw, spec.path, Number(value));
    } else if (spec.kind === 'bool') {
      setPath(raw, spec.path, value === 'true' || value === '1');
    } else {
      setPath(raw, spec.path, value);
    }
  }
  const result = AgentConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(`${issue.path.map(String).join('.') || '(config)'}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new AgentConfigError(problems);
  return result.data;
}

/** `loadAgentConfig` from this process's environment (used by main.ts only). */
export function loadAgentConfigFromProcess(file: string | undefined): AgentConfig {
  return loadAgentConfig({ file, env: process.env });
}

/** The timing profile the config selects. */
export function resolveTiming(config: Pick<AgentConfig, 'timing' | 'timingBase'>): TimingProfile {
  return timingProfile(config.timing, config.timingBase === 'short' ? shortTiming : defaultTiming);
}

/** Path of the station database inside the data dir. */
export function databasePath(config: Pick<AgentConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'station.db');
}

/** Path of the local control socket. */
export function controlSocketPath(config: Pick<AgentConfig, 'dataDir' | 'controlSocketPath'>): string {
  return config.controlSocketPath ?? path.join(config.dataDir, 'agent.sock');
}

/** TLS material for mqtt.js, read from the configured PEM files (throws AgentConfigError when unreadable). */
export function readBrokerTls(
  tls: AgentConfig['broker']['tls'],
  readFile: (file: string) => Buffer = (f) => readFileSync(f),
): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } | undefined {
  if (!tls) return undefined;
  const problems: string[] = [];
  const read = (field: 'ca' | 'cert' | 'key'): Buffer | undefined => {
    const file = tls[field];
    if (file === undefined) return undefined;
    try {
      return readFile(file);
    } catch (err) {
      problems.push(`broker.tls.${field}: cannot read ${file}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const out = { ca: read('ca'), cert: read('cert'), key: read('key') };
  if (problems.length > 0) throw new AgentConfigError(problems);
  return {
    ...(out.ca ? { ca: out.ca } : {}),
    ...(out.cert ? { cert: out.cert } : {}),
    ...(out.key ? { key: out.key } : {}),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}
