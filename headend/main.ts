/**
 * The headend's composition root (STYLE.md guideline 5): config → store → broker → HTTP. Everything is
 * built here and passed down; nothing else reads the environment or opens sockets on its own.
 * Run: `node dist/headend/main.js --config /etc/ruralsat/headend.json` (systemd: headend/systemd/).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { type AlarmWiring, createAlarmWiring } from './alarm-wiring.js';
import type { SunOutageCalendar } from './alarms/sun-calendar.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './broker/embedded.js';
import {
  ConfigError,
  databasePath,
  type HeadendConfig,
  loadConfig,
  parseConfigArgs,
  resolveTiming,
  stationBrokerUrl,
} from './config.js';
import { createMetrics, type HeadendMetrics } from './diagnostics/metrics.js';
import { createDiagnostics, type Diagnostics } from './diagnostics/service.js';
import { type Housekeeping, startHousekeeping } from './housekeeping.js';
import { createApp } from './http/app.js';
import { type ApiComposeDeps, composeApi } from './http/compose.js';
import { createLogger, moduleLogger } from './log.js';
import { type ControlPlane, createControlPlane } from './mqtt/control-plane.js';
import { openStore, type Store } from './store/index.js';
import { claimDataDir } from './store/lock.js';
import { schemaVersion } from './store/migrate.js';

/** How often connected stations are re-checked against the registry (a CLI `revoke` takes effect). */
const REVALIDATE_EVERY_MS = 30_000;

/** A running headend. */
export interface RunningHeadend {
  config: HeadendConfig;
  store: Store;
  /** The embedded broker, when `broker` is `embedded`. */
  broker: EmbeddedBroker | null;
  /** Where the headend's own MQTT client connects, and as whom. */
  mqtt: { url: string; username: string; password: string };
  /** MQTT client, publisher, scheduling, presence and ingest (headend/mqtt/control-plane.ts). */
  controlPlane: ControlPlane;
  /** Bound HTTP address, e.g. `http://127.0.0.1:8080`. */
  httpUrl: string;
  /** Alarms wired to the fleet, diagnostics, housekeeping and metrics (issue 8). */
  technician: {
    alarms: AlarmWiring;
    diagnostics: Diagnostics;
    housekeeping: Housekeeping;
    metrics: HeadendMetrics;
  };
  logger: Logger;
  stop(): Promise<void>;
}

/** The package version, from the package.json above this file (works from `headend/` and `dist/headend/`). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ruralsat') return pkg.version ?? '0.0.0';
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Starts the headend from a validated config. */
export async function startHeadend(
  config: HeadendConfig,
  opts: {
    logger?: Logger;
    /** API tuning (tests: a cheaper scrypt cost, short login limits, a fast SSE heartbeat). */
    api?: Pick<ApiComposeDeps, 'users' | 'loginLimits' | 'sseHeartbeatMs' | 'rpc'>;
    /** Alarm parts (tests: a sun-outage calendar with a window now; a fetch for webhooks). */
    alarms?: { calendar?: SunOutageCalendar; fetch?: typeof fetch };
  } = {},
): Promise<RunningHeadend> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const log = moduleLogger(logger, 'headend/main');
  const startedAt = new Date();
  resolveTiming(config); // validates the overrides against the profile now, not at first use
  fs.mkdirSync(config.dataDir, { recursive: true });
  const release = claimDataDir(config.dataDir);
  const cleanups: (() => Promise<void> | void)[] = [release];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    const store = openStore(databasePath(config));
    cleanups.push(() => store.close());
    log.info(
      {
        event: 'store-open',
        file: databasePath(config),
        migrated: store.migration,
        epoch: store.meta.scheduleEpoch(),
      },
      'database open',
    );

    let broker: EmbeddedBroker | null = null;
    const headendPassword = config.headendUser.password ?? randomBytes(24).toString('base64url');
    let mqttUrl: string;
    if (config.broker === 'embedded') {
      const tlsFiles = config.mqtt.tls;
      broker = await startEmbeddedBroker({
        credentialOf: (id) => store.stations.credentialOf(id),
        topicRoot: config.topicRoot,
        headendUser: { username: config.headendUser.username, password: headendPassword },
        logger: moduleLogger(logger, 'headend/broker'),
        listen: { host: config.mqtt.host, port: config.mqtt.port },
        ...(tlsFiles
          ? {
              tls: {
                cert: fs.readFileSync(tlsFiles.certFile),
                key: fs.readFileSync(tlsFiles.keyFile),
                ...(tlsFiles.caFile ? { ca: fs.readFileSync(tlsFiles.caFile) } : {}),
              },
            }
          : {}),
        revalidateEveryMs: REVALIDATE_EVERY_MS,
      });
      cleanups.push(() => broker?.close());
      mqttUrl = broker.url;
    } else {
      mqttUrl = config.broker;
    }

    // Alarms (DESIGN.md §7): built first so the control plane can feed it every telemetry sample.
    const alarms = createAlarmWiring({
      store,
      timing: resolveTiming(config),
      logger,
      ...(config.alarms.policy ? { policy: config.alarms.policy } : {}),
      webhooks: config.alarms.webhooks,
      ...(opts.alarms?.calendar ? { calendar: opts.alarms.calendar } : {}),
      ...(opts.alarms?.fetch ? { fetch: opts.alarms.fetch } : {}),
    });
    cleanups.push(() => alarms.close());

    const controlPlane = createControlPlane({
      store,
      logger,
      timing: resolveTiming(config),
      broker: { url: mqttUrl, username: config.headendUser.username, password: headendPassword },
      topicRoot: config.topicRoot,
      timeZone: config.timeZone,
      version: packageVersion(),
      onTelemetry: (stationId, t) => alarms.onTelemetry(stationId, t),
    });
    controlPlane.start();
    cleanups.push(() => controlPlane.stop());
    alarms.attach({ controlPlane, broker });
    const diagnostics = createDiagnostics({ rpc: opts.api?.rpc ?? controlPlane.rpc, audit: store.audit });
    const housekeeping = startHousekeeping({
      store,
      logger: moduleLogger(logger, 'headend/housekeeping'),
      cron: config.housekeeping.retentionCron,
      timeZone: config.timeZone,
      telemetryDays: config.housekeeping.telemetryDays,
      alarmDays: config.housekeeping.alarmDays,
      diagnosticsAuditDays: config.housekeeping.diagnosticsAuditDays,
    });
    cleanups.push(() => housekeeping.stop());
    const metrics = createMetrics({ store, controlPlane, alarms: alarms.service, diagnostics });
    cleanups.push(() => metrics.close());
    // The embedded broker is in this process: be connected before saying "started". An external one may be
    // down; the headend then starts anyway and keeps reconnecting (its documents wait in the outbox).
    if (broker && !(await controlPlane.waitUntilUp(10_000)))
      log.warn({ event: 'mqtt-not-up' }, 'not yet connected to the embedded broker');

    const apiParts = composeApi({
      store,
      dbPath: databasePath(config),
      dataDir: config.dataDir,
      timeZone: config.timeZone,
      version: packageVersion(),
      logger: moduleLogger(logger, 'headend/http'),
      controlPlane,
      technician: { diagnostics, alarms: alarms.service, calendar: alarms.calendar, housekeeping },
      alarms: alarms.view,
      ...opts.api,
    });
    cleanups.push(() => apiParts.close());
    const app = createApp({
      api: apiParts.ctx,
      logger: moduleLogger(logger, 'headend/http'),
      version: packageVersion(),
      startedAt,
      metrics: metrics.handler,
      health: {
        database: () => {
          const ok = store.db.prepare('SELECT 1 AS one').get() as { one: number };
          return {
            ok: ok.one === 1,
            schemaVersion: schemaVersion(store.db),
            scheduleEpoch: store.meta.scheduleEpoch(),
          };
        },
        broker: () =>
          broker
            ? { ok: true, mode: 'embedded', url: broker.url, ...broker.stats() }
            : { ok: true, mode: 'external', url: config.broker },
        fleet: () => ({ ok: true, stations: store.stations.list().length }),
        mqtt: () => controlPlane.health(),
        live: () => ({ ok: true, ...apiParts.ctx.sse.stats() }),
        alarms: () => ({ ok: true, active: alarms.service.engine.stats().active, ...alarms.service.stats() }),
      },
    });
    cleanups.push(() => app.api?.close());
    const httpTls = config.http.tls;
    const server = httpTls
      ? https.createServer(
          { cert: fs.readFileSync(httpTls.certFile), key: fs.readFileSync(httpTls.keyFile) },
          app,
        )
      : http.createServer(app);
    const httpPort = await listen(server, config.http.host, config.http.port);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    const httpUrl = `${httpTls ? 'https' : 'http'}://${host}:${httpPort}`;

    log.info(
      {
        event: 'started',
        http: httpUrl,
        healthz: `${httpUrl}/healthz`,
        mqtt: mqttUrl,
        broker: config.broker === 'embedded' ? 'embedded' : 'external',
        stationBrokerUrl: stationBrokerUrl(config, broker?.port),
        dataDir: config.dataDir,
        stations: store.stations.list().length,
        topicRoot: config.topicRoot,
        timeZone: config.timeZone,
      },
      `headend listening: HTTP ${httpUrl}, MQTT ${mqttUrl}`,
    );
    return {
      config,
      store,
      broker,
      mqtt: { url: mqttUrl, username: config.headendUser.username, password: headendPassword },
      controlPlane,
      httpUrl,
      technician: { alarms, diagnostics, housekeeping, metrics },
      logger,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Command-line entry: parse flags, start, stop cleanly on SIGTERM/SIGINT. */
export async function main(argv: string[]): Promise<number> {
  let config: HeadendConfig;
  try {
    config = loadConfig({ flags: parseConfigArgs(argv) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  let running: RunningHeadend;
  try {
    running = await startHeadend(config, { logger });
  } catch (err) {
    logger.fatal({ err }, `headend failed to start: ${(err as Error).message}`);
    logger.flush();
    return 1;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ event: 'stopping', signal }, `stopping on ${signal}`);
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  await running.stop();
  logger.info({ event: 'stopped' }, 'headend stopped');
  logger.flush();
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
