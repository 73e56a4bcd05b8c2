/**
 * The headend's configuration: ONE zod schema, read from a JSON file, then environment variables, then
 * command-line flags (each later source overrides the earlier one, field by field). This is the only
 * file of the headend that reads `process.env` (STYLE.md guideline 5). A bad config fails fast with every
 * field error listed, never only the first.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { TimeZone } from '../protocol/messages/common.js';
import {
  defaultTiming,
  shortTiming,
  TimingOverridesSchema,
  type TimingProfile,
  timingProfile,
} from '../protocol/timing.js';
import { DEFAULT_TOPIC_ROOT, rootProblem } from '../protocol/topics.js';
import { AlarmPolicySchema } from './alarms/rules.js';
import { WebhookConfigSchema } from './alarms/webhook.js';
import { LOG_LEVELS } from './log.js';

/** TLS material of a listener (PEM files). */
const TlsFiles = z
  .object({
    /** Certificate chain, PEM. */
    certFile: z.string().min(1),
    /** Private key, PEM. */
    keyFile: z.string().min(1),
    /** Optional CA bundle, PEM (client certificates are not required by v1). */
    caFile: z.string().min(1).optional(),
  })
  .strict();

/** A TCP listener. Port 0 picks a free port (tests); the chosen port is logged at start. */
const Listener = z
  .object({
    /** Address to bind: `127.0.0.1` (default), `0.0.0.0`, `::`, or one interface's address. */
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    /** Required whenever `host` is not a loopback address (DESIGN.md §4: TLS is the default off loopback). */
    tls: TlsFiles.optional(),
  })
  .strict();
export type ListenerConfig = z.infer<typeof Listener>;

const BrokerUrl = z.url({
  protocol: /^mqtts?$/,
  error: 'broker URL must be mqtt://host:port or mqtts://host:port',
});

export const HeadendConfigSchema = z
  .object({
    /** Directory of the headend's state: `headend.db` (SQLite, WAL), `backups/`, `headend.pid`. */
    dataDir: z.string().min(1),
    /** HTTP API, web UI and `/healthz`. */
    http: Listener.default({ host: '127.0.0.1', port: 8080 }),
    /** Listener of the embedded MQTT broker (unused when `broker` is a URL). */
    mqtt: Listener.default({ host: '127.0.0.1', port: 1883 }),
    /** MQTT topic root of contract v1 (DESIGN.md §4). */
    topicRoot: z
      .string()
      .default(DEFAULT_TOPIC_ROOT)
      .superRefine((root, ctx) => {
        const p = rootProblem(root);
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
    /** `embedded` runs aedes in this process; an `mqtt(s)://` URL uses an external broker (Mosquitto, EMQX). */
    broker: z.union([z.literal('embedded'), BrokerUrl]).default('embedded'),
    /** The headend's own MQTT identity: full access below the topic root (protocol/acl.ts). */
    headendUser: z
      .object({
        /** Username = client id of the headend; must not be a provisioned station id. */
        username: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'username: 1–64 chars of A–Z a–z 0–9 _ . -'),
        /**
         * Password. Required with an external broker (its password_file gets this user's hash); with the
         * embedded broker a random one is made at every start when omitted.
         */
        password: z.string().min(16, 'password: at least 16 characters').optional(),
      })
      .strict()
      .default({ username: 'headend' }),
    /** The broker URL written into agent config files; derived from `mqtt` or `broker` when omitted. */
    stationBrokerUrl: BrokerUrl.optional(),
    /** The prefecture's time zone (DOMAIN.md §1: China Standard Time). */
    timeZone: TimeZone.default('Asia/Shanghai'),
    /** Which timing profile the overrides apply to: `default` (production) or `short` (tests, demos). */
    timingBase: z.enum(['default', 'short']).default('default'),
    /** Field-by-field overrides of the timing profile (protocol/timing.ts). */
    timing: TimingOverridesSchema.default({}),
    /** pino level. */
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /** Station credentials (DESIGN.md §3: Mosquitto `$7$` PBKDF2-SHA512 hashes). */
    credentials: z
      .object({
        /** PBKDF2 iterations of new hashes; Mosquitto accepts any count (mosquitto_passwd uses 101). */
        iterations: z.number().int().min(100).max(1_000_000).default(10_000),
      })
      .strict()
      .default({ iterations: 10_000 }),
    /** Values written into new agent config files where the registry holds nothing per station. */
    agentDefaults: z
      .object({
        /** Where the agent writes recordings on the station. */
        recordingsDir: z.string().min(1).default('/var/lib/ruralsat/recordings'),
        /** Where the agent keeps its SQLite database. */
        dataDir: z.string().min(1).default('/var/lib/ruralsat/agent'),
        /** The receiver's MPEG-TS output (DOMAIN.md §4: usually UDP multicast in 239.0.0.0/8). */
        streamUrl: z.string().min(1).default('udp://239.1.1.1:5000'),
        /** Receiver link when the station's registry entry names none. */
        receiverTransport: z.enum(['serial', 'tcp']).default('serial'),
        /** `/dev/serial/by-id/…` for serial, `host:port` for tcp. */
        receiverAddress: z.string().min(1).default('/dev/ttyUSB0'),
      })
      .strict()
      .prefault({}),
    /** Alarms (DESIGN.md §7): thresholds that are not timings, and the webhooks notified of transitions. */
    alarms: z
      .object({
        /** Margin, disk, clock and fleet thresholds (headend/alarms/rules.ts); defaults from DOMAIN.md §2. */
        policy: AlarmPolicySchema.optional(),
        /** JSON POSTs per rule (`kinds`) and severity; retried with backoff (headend/alarms/webhook.ts). */
        webhooks: z.array(WebhookConfigSchema).default([]),
      })
      .strict()
      .prefault({}),
    /** Housekeeping jobs (headend/housekeeping.ts), run by node-cron at admin-set times. */
    housekeeping: z
      .object({
        /** Cron expression of the retention job (default 03:17 every night, in `timeZone`). */
        retentionCron: z.string().min(9).default('17 3 * * *'),
        /** Per-minute telemetry kept this many days (the station page plots 24 h and 7 days). */
        telemetryDays: z.number().int().min(8).max(3650).default(90),
        /** Cleared alarms (and their history) kept this many days. */
        alarmDays: z.number().int().min(1).max(3650).default(365),
        /** Audit-log rows of diagnostics calls kept this many days (other control actions are kept). */
        diagnosticsAuditDays: z.number().int().min(1).max(3650).default(180),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const p of crossFieldProblems(c)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

type Raw = Record<string, unknown>;
type Problem = { path: string[]; message: string };

const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null ? (v as Raw) : {});

/**
 * Rules across fields. Run on the parsed config by the schema, and on the raw input by `loadConfig` when
 * other fields are invalid too (zod skips refinements then), so every problem is reported at once.
 */
function crossFieldProblems(raw: unknown): Problem[] {
  const c = obj(raw);
  const out: Problem[] = [];
  for (const key of ['http', 'mqtt'] as const) {
    const l = obj(c[key]);
    const host = typeof l.host === 'string' ? l.host : '127.0.0.1';
    if (!isLoopback(host) && l.tls === undefined) {
      out.push({
        path: [key, 'tls'],
        message: `${key} listens on ${host}, not loopback: tls.certFile and tls.keyFile are required (DESIGN.md §4)`,
      });
    }
  }
  for (const key of ['broker', 'stationBrokerUrl'] as const) {
    const url = c[key];
    if (typeof url !== 'string' || !url.startsWith('mqtt:')) continue;
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      continue;
    }
    if (!isLoopback(host))
      out.push({ path: [key], message: `${url}: use mqtts:// for a broker off loopback` });
  }
  const broker = c.broker;
  if (typeof broker === 'string' && broker !== 'embedded' && obj(c.headendUser).password === undefined) {
    out.push({
      path: ['headendUser', 'password'],
      message: 'an external broker needs the headend password (file, or RURALSAT_BROKER_PASSWORD)',
    });
  }
  return out;
}

/** The validated configuration. */
export type HeadendConfig = z.infer<typeof HeadendConfigSchema>;

/** A config that failed validation: `issues` lists every field error as `path: message`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid headend config:\n  ${issues.join('\n  ')}`);
  }
}

/** Is `host` a loopback address or name? */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `node:util.parseArgs` options of every config flag; the CLI merges its own options with these. */
export const CONFIG_FLAGS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  http: { type: 'string' },
  mqtt: { type: 'string' },
  broker: { type: 'string' },
  'broker-username': { type: 'string' },
  'station-broker-url': { type: 'string' },
  'topic-root': { type: 'string' },
  'time-zone': { type: 'string' },
  'log-level': { type: 'string' },
  'timing-base': { type: 'string' },
} as const;

/** Parsed config flags (`--data-dir` etc.), as `parseArgs` returns them. */
export type ConfigFlags = Partial<Record<keyof typeof CONFIG_FLAGS, string | boolean | undefined>>;

/**
 * Environment variables (all optional): RURALSAT_HEADEND_CONFIG (file), RURALSAT_DATA_DIR, RURALSAT_HTTP and
 * RURALSAT_MQTT (`host:port`), RURALSAT_BROKER, RURALSAT_BROKER_USERNAME, RURALSAT_BROKER_PASSWORD (the
 * only way besides the file to give a password: never on the command line, where `ps` shows it),
 * RURALSAT_STATION_BROKER_URL, RURALSAT_TOPIC_ROOT, RURALSAT_TIME_ZONE, RURALSAT_LOG_LEVEL, RURALSAT_TIMING_BASE.
 */
const ENV_TO_FLAG: Record<string, keyof typeof CONFIG_FLAGS | 'broker-password'> = {
  RURALSAT_HEADEND_CONFIG: 'config',
  RURALSAT_DATA_DIR: 'data-dir',
  RURALSAT_HTTP: 'http',
  RURALSAT_MQTT: 'mqtt',
  RURALSAT_BROKER: 'broker',
  RURALSAT_BROKER_USERNAME: 'broker-username',
  RURALSAT_BROKER_PASSWORD: 'broker-password',
  RURALSAT_STATION_BROKER_URL: 'station-broker-url',
  RURALSAT_TOPIC_ROOT: 'topic-root',
  RURALSAT_TIME_ZONE: 'time-zone',
  RURALSAT_LOG_LEVEL: 'log-level',
  RURALSAT_TIMING_BASE: 'timing-base',
};

type FlatProblem = { path: string; message: string };

/** `host:port`, `[v6]:port` or `:port` (= 127.0.0.1). */
function parseHostPort(
  value: string,
  where: string,
  problems: FlatProblem[],
): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    problems.push({ path: where, message: `expected host:port, got ${JSON.stringify(value)}` });
    return null;
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function applySource(
  raw: Raw,
  src: Partial<Record<string, string | boolean | undefined>>,
  origin: string,
  problems: FlatProblem[],
) {
  const str = (k: string) => {
    const v = src[k];
    return typeof v === 'string' ? v : undefined;
  };
  const set = (k: string, v: unknown) => {
    if (v !== undefined) raw[k] = v;
  };
  set('dataDir', str('data-dir'));
  for (const key of ['http', 'mqtt'] as const) {
    const v = str(key);
    if (v === undefined) continue;
    const hp = parseHostPort(v, `${origin} ${key}`, problems);
    if (hp) raw[key] = { ...(raw[key] as Raw | undefined), ...hp };
  }
  set('broker', str('broker'));
  set('stationBrokerUrl', str('station-broker-url'));
  set('topicRoot', str('topic-root'));
  set('timeZone', str('time-zone'));
  set('logLevel', str('log-level'));
  set('timingBase', str('timing-base'));
  const user = str('broker-username');
  const password = str('broker-password');
  if (user !== undefined || password !== undefined) {
    const prev = (raw.headendUser as Raw | undefined) ?? {};
    raw.headendUser = {
      username: 'headend',
      ...prev,
      ...(user ? { username: user } : {}),
      ...(password ? { password } : {}),
    };
  }
}

/** Where a config comes from. */
export interface ConfigSources {
  /** Parsed flags (see CONFIG_FLAGS). */
  flags?: ConfigFlags;
  /** The environment; `process.env` when omitted. */
  env?: Record<string, string | undefined>;
  /** Reads the config file; `fs.readFileSync` when omitted. */
  readFile?: (file: string) => string;
}

/** Reads and validates the config: file ← env ← flags. Throws `ConfigError` listing every problem. */
export function loadConfig(sources: ConfigSources = {}): HeadendConfig {
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const readFile = sources.readFile ?? ((f: string) => readFileSync(f, 'utf8'));
  const problems: FlatProblem[] = [];
  const envSrc: Record<string, string> = {};
  for (const [name, flag] of Object.entries(ENV_TO_FLAG)) {
    const v = env[name];
    if (v !== undefined && v !== '') envSrc[flag] = v;
  }
  let raw: Raw = {};
  const file = typeof flags.config === 'string' ? flags.config : envSrc.config;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFile(file));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push({ path: file, message: 'the config file must hold one JSON object' });
      } else {
        raw = parsed as Raw;
        // Relative paths in a file are relative to the file, so a config can travel with its data dir.
        if (typeof raw.dataDir === 'string') raw.dataDir = path.resolve(path.dirname(file), raw.dataDir);
      }
    } catch (err) {
      problems.push({ path: file, message: `cannot read config file: ${(err as Error).message}` });
    }
  }
  applySource(raw, envSrc, 'env', problems);
  applySource(raw, flags, 'flag', problems);
  const result = HeadendConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push({ path: issue.path.map(String).join('.') || '(config)', message: issue.message });
    }
    for (const p of crossFieldProblems(raw)) problems.push({ path: p.path.join('.'), message: p.message });
  }
  if (problems.length > 0 || !result.success) {
    const lines = problems.map((p) => `${p.path}: ${p.message}`);
    throw new ConfigError([...new Set(lines)]);
  }
  return { ...result.data, dataDir: path.resolve(result.data.dataDir) };
}

/** Parses argv into config flags (unknown flags are a ConfigError). */
export function parseConfigArgs(argv: string[]): ConfigFlags {
  try {
    return parseArgs({ args: argv, options: CONFIG_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

/** The timing profile the config selects. */
export function resolveTiming(config: HeadendConfig): TimingProfile {
  return timingProfile(config.timing, config.timingBase === 'short' ? shortTiming : defaultTiming);
}

/** The broker URL agents are told to use. */
export function stationBrokerUrl(config: HeadendConfig, boundMqttPort?: number): string {
  if (config.stationBrokerUrl) return config.stationBrokerUrl;
  if (config.broker !== 'embedded') return config.broker;
  const scheme = config.mqtt.tls ? 'mqtts' : 'mqtt';
  // A wildcard bind says nothing about the name stations reach us by: the machine's host name is the best guess
  // (set `stationBrokerUrl` to be sure).
  const host = config.mqtt.host === '0.0.0.0' || config.mqtt.host === '::' ? os.hostname() : config.mqtt.host;
  const h = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${h}:${boundMqttPort ?? config.mqtt.port}`;
}

/** Path of the headend database inside the data dir. */
export function databasePath(config: Pick<HeadendConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'headend.db');
}
