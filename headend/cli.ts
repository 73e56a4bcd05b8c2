/**
 * Admin command line of the headend (issue 5): `provision`, `list`, `rotate`, `revoke`, `backup`,
 * `restore`, `mosquitto-files`. It opens the same database as the running headend (WAL + busy_timeout make
 * that safe); only `restore` needs the headend stopped. Secrets are printed once and never stored.
 *
 *   node dist/headend/cli.js provision --config headend.json --id kongtong-anguo --name 安国镇 --county kongtong --out anguo.json
 */
import fs from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeMosquittoFiles } from './broker/mosquitto-files.js';
import {
  CONFIG_FLAGS,
  ConfigError,
  databasePath,
  type HeadendConfig,
  loadConfig,
  stationBrokerUrl,
} from './config.js';
import { type AgentConfigFile, renderAgentConfig, writeAgentConfig } from './provisioning/agent-config.js';
import { hashSecret } from './provisioning/password-hash.js';
import {
  type ProvisioningDeps,
  provisionStation,
  revokeStation,
  rotateCredential,
} from './provisioning/provisioning.js';
import { backupDatabase, defaultBackupPath, restoreDatabase } from './store/backup.js';
import { StoreError } from './store/errors.js';
import { openStore, type Store } from './store/index.js';
import { MIGRATIONS } from './store/migrations/index.js';
import type { NewStation, StationReceiver } from './store/stations.js';
import { runUserCommand, USER_COMMAND_FLAGS, USER_USAGE } from './users/cli-commands.js';
import { UsersError } from './users/errors.js';

const COMMAND_FLAGS = {
  id: { type: 'string' },
  name: { type: 'string' },
  county: { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  dish: { type: 'string' },
  tag: { type: 'string', multiple: true },
  'receiver-transport': { type: 'string' },
  'receiver-address': { type: 'string' },
  'receiver-sharing': { type: 'string' },
  'receiver-bus-address': { type: 'string' },
  'stream-url': { type: 'string' },
  reason: { type: 'string' },
  out: { type: 'string' },
  from: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  'persistence-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...USER_COMMAND_FLAGS,
} as const;

const USAGE = `usage: ruralsat-headend <command> [--config file] [options]
  provision --id ID --name NAME --county COUNTY [--lat N --lon N --dish M] [--tag T]...
            [--receiver-transport serial|tcp --receiver-address PATH|HOST:PORT [--receiver-bus-address N]
             [--receiver-sharing service|transponder] [--stream-url udp://239.1.1.1:5000]]
            [--out agent.json]        register a station; prints its secret ONCE (and writes the agent config)
  list [--county C] [--all] [--json]  list stations (--all includes revoked ones)
  rotate --id ID [--out agent.json]   new secret for a station; the old one stops working
  revoke --id ID [--reason TEXT]      refuse a station from now on (history kept)
  backup [--out FILE]                 online backup of the database (default: <dataDir>/backups/…)
  restore --from FILE                 replace the database with a backup (headend stopped); new schedule epoch
  mosquitto-files --out DIR [--persistence-dir DIR]
                                      write password_file, acl_file and mosquitto.conf for an external Mosquitto
${USER_USAGE}
config flags: --config --data-dir --http --mqtt --broker --broker-username --station-broker-url --topic-root
              --time-zone --log-level (env: RURALSAT_HEADEND_CONFIG, RURALSAT_DATA_DIR, RURALSAT_BROKER_PASSWORD, …)`;

/** Where the CLI writes. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env?: Record<string, string | undefined>;
}

/** A usage mistake: exit code 2. */
class UsageError extends Error {}

type Values = Record<string, string | boolean | string[] | undefined>;

function need(v: Values, key: string): string {
  const x = v[key];
  if (typeof x !== 'string' || x === '') throw new UsageError(`--${key} is required`);
  return x;
}

function num(v: Values, key: string): number | undefined {
  const x = v[key];
  if (typeof x !== 'string') return undefined;
  const n = Number(x);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a number, got ${JSON.stringify(x)}`);
  return n;
}

function receiverFrom(v: Values): StationReceiver[] {
  const address = v['receiver-address'];
  if (typeof address !== 'string') return [];
  const streamUrl = v['stream-url'];
  return [
    {
      id: 'rx1',
      family: 'rx8200',
      transport: (v['receiver-transport'] as StationReceiver['transport'] | undefined) ?? 'serial',
      sharing: (v['receiver-sharing'] as StationReceiver['sharing'] | undefined) ?? 'service',
      address,
      busAddress: num(v, 'receiver-bus-address') ?? 2,
      ...(typeof streamUrl === 'string' ? { streamUrl } : {}),
    },
  ];
}

function agentConfig(
  config: HeadendConfig,
  station: Parameters<typeof renderAgentConfig>[0]['station'],
  secret: string,
): AgentConfigFile {
  return renderAgentConfig({
    station,
    secret,
    brokerUrl: stationBrokerUrl(config),
    topicRoot: config.topicRoot,
    timeZone: config.timeZone,
    defaults: config.agentDefaults,
  });
}

function handOver(io: CliIo, v: Values, cfg: AgentConfigFile, verb: string): void {
  const out = v.out;
  if (typeof out === 'string') {
    writeAgentConfig(out, cfg);
    io.stdout(
      `${verb} ${cfg.stationId}\nsecret: ${cfg.broker.password}\nagent config written to ${out} (mode 600)\n`,
    );
  } else {
    io.stdout(`${JSON.stringify(cfg, null, 2)}\n`);
  }
  io.stderr(
    'The secret is shown this once: the headend keeps only its hash. Install the agent config now.\n',
  );
}

async function run(cmd: string, v: Values, config: HeadendConfig, io: CliIo): Promise<void> {
  const actor = `cli:${os.userInfo().username}`;
  const withStore = async <T>(fn: (store: Store) => T | Promise<T>): Promise<T> => {
    fs.mkdirSync(config.dataDir, { recursive: true });
    const store = openStore(databasePath(config));
    try {
      return await fn(store);
    } finally {
      store.close();
    }
  };
  const deps = (store: Store): ProvisioningDeps => ({
    store,
    iterations: config.credentials.iterations,
    headendUsername: config.headendUser.username,
    actor,
  });
  switch (cmd) {
    case 'provision': {
      const input: NewStation = {
        id: need(v, 'id'),
        name: need(v, 'name'),
        county: need(v, 'county'),
        receivers: receiverFrom(v),
        tags: (v.tag as string[] | undefined) ?? [],
      };
      for (const [field, flag] of [
        ['lat', 'lat'],
        ['lon', 'lon'],
        ['dishM', 'dish'],
      ] as const) {
        const n = num(v, flag);
        if (n !== undefined) input[field] = n;
      }
      if (typeof v.out === 'string' && fs.existsSync(v.out)) throw new UsageError(`${v.out} exists`);
      const r = await withStore((s) => provisionStation(deps(s), input));
      handOver(io, v, agentConfig(config, r.station, r.secret), 'provisioned');
      return;
    }
    case 'rotate': {
      if (typeof v.out === 'string' && fs.existsSync(v.out)) throw new UsageError(`${v.out} exists`);
      const r = await withStore((s) => rotateCredential(deps(s), need(v, 'id')));
      handOver(io, v, agentConfig(config, r.station, r.secret), 'rotated');
      return;
    }
    case 'revoke': {
      const reason = typeof v.reason === 'string' ? v.reason : undefined;
      const s = await withStore((st) => revokeStation(deps(st), need(v, 'id'), reason));
      io.stdout(`revoked ${s.id} at ${s.revokedAt}\n`);
      return;
    }
    case 'list': {
      const stations = await withStore((s) =>
        s.stations.list({
          includeRevoked: v.all === true,
          ...(typeof v.county === 'string' ? { county: v.county } : {}),
        }),
      );
      if (v.json) {
        io.stdout(`${JSON.stringify(stations, null, 2)}\n`);
        return;
      }
      io.stdout(`${['ID', 'COUNTY', 'NAME', 'CREDENTIAL', 'RECEIVERS'].join('\t')}\n`);
      for (const s of stations) {
        const cred = s.revokedAt
          ? `revoked ${s.revokedAt}`
          : s.hasCredential
            ? `set ${s.credentialChangedAt}`
            : 'none';
        io.stdout(
          `${[s.id, s.county, s.name, cred, s.receivers.map((r) => `${r.transport}:${r.address}`).join(',') || '-'].join('\t')}\n`,
        );
      }
      io.stdout(`${stations.length} station(s)\n`);
      return;
    }
    case 'backup': {
      const out = typeof v.out === 'string' ? v.out : defaultBackupPath(config.dataDir);
      const info = await withStore((s) => backupDatabase(s.db, out));
      io.stdout(
        `backup written to ${info.file} (${info.bytes} bytes, schema ${info.schemaVersion}, epoch ${info.scheduleEpoch})\n`,
      );
      return;
    }
    case 'restore': {
      const from = need(v, 'from');
      const r = await restoreDatabase({
        dbFile: databasePath(config),
        backupFile: from,
        migrations: MIGRATIONS,
        actor,
      });
      io.stdout(
        `restored ${from} into ${r.file}; new schedule epoch ${r.scheduleEpoch}` +
          `${r.previous ? `; previous database kept as ${r.previous}` : ''}\n` +
          'Start the headend: every station gets a new-epoch schedule document.\n',
      );
      return;
    }
    case 'mosquitto-files': {
      const out = need(v, 'out');
      const password = config.headendUser.password;
      if (!password) {
        throw new UsageError(
          'mosquitto-files needs the headend password: headendUser.password or RURALSAT_BROKER_PASSWORD',
        );
      }
      const stations = await withStore((s) => s.stations.activeCredentials());
      const files = writeMosquittoFiles(out, {
        topicRoot: config.topicRoot,
        headend: {
          username: config.headendUser.username,
          hash: hashSecret(password, { iterations: config.credentials.iterations }),
        },
        stations,
        listener: config.mqtt,
        persistenceDir: typeof v['persistence-dir'] === 'string' ? v['persistence-dir'] : null,
      });
      io.stdout(
        `wrote ${files.passwordFile} (${files.stationCount} station(s) + ${config.headendUser.username}), ${files.aclFile}, ${files.confFile}\n` +
          'Reload Mosquitto to apply: systemctl reload mosquitto (SIGHUP).\n',
      );
      return;
    }
    default: {
      const handled = await withStore((s) =>
        runUserCommand(
          cmd,
          v,
          () => s.db,
          io,
          actor,
          (e) => s.audit.record(e),
        ).catch((err: unknown) => {
          if (err instanceof UsersError) throw err;
          throw new UsageError((err as Error).message);
        }),
      );
      if (!handled) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  }
}

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failed, 2 usage or config error). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout(`${USAGE}\n`);
    return cmd ? 0 : 2;
  }
  try {
    const { values } = parseArgs({
      args: rest,
      options: { ...CONFIG_FLAGS, ...COMMAND_FLAGS },
      strict: true,
    });
    if (values.help) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    const flags = Object.fromEntries(
      Object.keys(CONFIG_FLAGS).map((k) => [k, values[k as keyof typeof values]]),
    );
    const config = loadConfig({ flags, ...(io.env ? { env: io.env } : {}) });
    await run(cmd, values, config, io);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof StoreError || err instanceof UsersError) {
      const issues =
        err instanceof UsersError && err.issues.length > 0
          ? ` (${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`
          : '';
      io.stderr(`${cmd}: ${err.code}: ${err.message}${issues}\n`);
      return 1;
    }
    io.stderr(`${cmd}: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  }).then((code) => {
    process.exitCode = code;
  });
}
