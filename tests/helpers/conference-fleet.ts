/**
 * The quick-start prefecture for end-to-end tests (issue 7): the REAL headend (headend/main.ts, embedded
 * broker, HTTP on port 0, short timing) with the 49-service sample line-up, users of every role, N stations
 * of the Pingliang prefecture provisioned through the real path, and the fleet process (scripts/fleet) that
 * runs one real agent per station against a simulated RX8200 over TCP, with one ffmpeg test source per
 * service in use. Everything is stopped on teardown (the fleet process kills every ffmpeg it spawned).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { HeadendConfigSchema } from '../../headend/config.js';
import { silentLogger } from '../../headend/log.js';
import { type RunningHeadend, startHeadend } from '../../headend/main.js';
import { createUserStore } from '../../headend/users/index.js';
import { seedUsers } from '../../headend/users/seed.js';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import { type FleetProcess, spawnFleetProcess } from '../../scripts/fleet/fleet-process.js';
import { type PrefectureStation, prefectureStations } from '../../scripts/fleet/prefecture.js';
import { lineupInput, provisionPrefecture } from '../../scripts/fleet/setup.js';
import { generatedLineup } from '../../scripts/gen-xmltv.js';
import { ApiClient, PASSWORD, TEST_SCRYPT } from './headend-harness.js';

export interface ConferenceFleet {
  headend: RunningHeadend;
  fleet: FleetProcess;
  stations: PrefectureStation[];
  lineup: ServiceTuning[];
  /** Root of the stations' directories: `<dir>/<station>/recordings`. */
  stationsDir: string;
  url: string;
  /** A client logged in as `control` (control room), `admin`, `tech` or an operator of `operators`. */
  as(user: string): Promise<ApiClient>;
  /** Polls until every station is connected and applied its newest document. */
  synced(timeoutMs: number): Promise<void>;
}

export async function startConferenceFleet(
  t: Test,
  opts: { stations: number; operators?: { id: string; stations: string[] }[] },
): Promise<ConferenceFleet> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-conf-'));
  const keep = Boolean(process.env.CONF_TEST_KEEP);
  const config = HeadendConfigSchema.parse({
    dataDir: path.join(dir, 'headend'),
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: 0 },
    timingBase: 'short',
    logLevel: 'silent',
  });
  const headend = await startHeadend(config, {
    logger: silentLogger(),
    api: { users: { scrypt: TEST_SCRYPT }, sseHeartbeatMs: 1000 },
  });
  let fleet: FleetProcess | null = null;
  t.teardown(async () => {
    await fleet?.stop();
    await headend.stop();
    if (keep) t.comment(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });
  const store = headend.store;
  const lineup = generatedLineup(49);
  store.lineup.replace(lineupInput(lineup));
  headend.controlPlane.lineupChanged();
  const stations = prefectureStations(opts.stations);
  const members = provisionPrefecture(store, stations, {
    iterations: 100,
    headendUsername: config.headendUser.username,
    actor: 'test:fleet',
  });
  headend.controlPlane.stationsChanged('test:fleet');
  const users = createUserStore(store.db, { scrypt: TEST_SCRYPT });
  await seedUsers(users.users, { password: PASSWORD, operators: opts.operators ?? [] });
  const stationsDir = path.join(dir, 'stations');
  // The stations' databases on a tmpfs when there is one (see sim-fleet.ts `dataRoot`); recordings on disk.
  const shm = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/ruralsat-conf-') : null;
  if (shm) t.teardown(() => fs.rmSync(shm, { recursive: true, force: true }));
  fleet = await spawnFleetProcess({
    members,
    brokerUrl: headend.broker?.url ?? headend.mqtt.url,
    lineup,
    dir: stationsDir,
    ...(shm ? { dataRoot: shm } : {}),
    timingBase: 'short',
    // 102 receivers tune at the same instant on a 2-core machine: tune earlier than the short profile so
    // every one has locked (and its stream flows) before its recorder starts during the pre-roll.
    timing: { tunePreRollMs: 8000 },
    lockDelayMs: 300,
    logFile: path.join(dir, 'fleet.log'),
  });
  const cp = headend.controlPlane;
  const running = fleet;
  return {
    headend,
    fleet: running,
    stations,
    lineup,
    stationsDir,
    url: headend.httpUrl,
    as: (user) => new ApiClient(headend.httpUrl).login(user, PASSWORD),
    async synced(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const behind = stations.filter(
          (s) => cp.presence.get(s.id)?.connection !== 'online' || !cp.tracker.status(s.id).inSync,
        );
        if (behind.length === 0) return;
        if (Date.now() > deadline)
          throw new Error(
            `${behind.length} station(s) not online and in sync: ${behind.slice(0, 5).map((s) => s.id)}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}
