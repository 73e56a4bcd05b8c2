/**
 * The quick start (`npm start` → `node dist/scripts/demo.js`; issue 7): the headend with its embedded
 * broker in this process, and a simulated Pingliang prefecture — 102 stations across the 7 counties, each a
 * REAL agent with a simulated receiver over TCP — in one fleet process, so the two use the machine's two
 * cores. It seeds users of every role, a 49-service line-up and guide (sample data), operator recordings, a
 * city-wide conference a few minutes ahead and a recorded county training after it, plus three faulty
 * stations (uplink down, snow on the dish, a hung receiver, an LNB short, and a scrambled channel when the
 * simulator has that fault: scripts/fleet/demo-faults.ts), whose alarms — with their probable causes — show
 * on the fleet board and the alarms page within about two minutes. Then it prints the URL and the logins.
 *
 *   npm start -- [--stations N] [--no-faults] [--port 8080] [--keep] [--dir DIR] [--timing demo|short]
 *                [--broker mqtt://host:1883]   (external broker; password in RURALSAT_BROKER_PASSWORD)
 *
 * Timing (`--timing demo`, the default) is the production profile with DEMO_TIMING's changes, so the story
 * unfolds within minutes; `--timing short` is the test suite's short profile (alarms within seconds; what
 * tests/e2e/quick-start-alarms.test.ts runs). Ctrl-C stops everything, every ffmpeg too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeMosquittoFiles } from '../headend/broker/mosquitto-files.js';
import { loadConfig } from '../headend/config.js';
import { createLogger } from '../headend/log.js';
import { packageVersion, startHeadend } from '../headend/main.js';
import { hashSecret } from '../headend/provisioning/password-hash.js';
import { defaultTiming, shortTiming, type TimingProfile, timingProfile } from '../protocol/timing.js';
import { DemoClient } from './fleet/demo-client.js';
import { demoFaults, faultyStations, MONITOR_SERVICE, startDemoFaults } from './fleet/demo-faults.js';
import { loadState, saveState, seedRegistry, seedStory } from './fleet/demo-story.js';
import { type FleetProcess, spawnFleetProcess } from './fleet/fleet-process.js';
import { PREFECTURE, prefectureStations } from './fleet/prefecture.js';
import { generatedLineup } from './gen-xmltv.js';

/**
 * The demo profile: production timing (protocol/timing.ts `defaultTiming`) with what a demo reasonably
 * shortens — a 1-minute conference pre-roll with receivers tuned 20 s before it, quicker live figures
 * (telemetry every 5 s while active, 30 s idle), a 2-minute offline grace instead of 10 so the offline
 * alarm shows during the demo. The clock exchange keeps its production period: the headend also exchanges
 * as soon as a station comes online, so fresh agents trust their clocks within seconds. Alarm holds
 * (90 s raise, 2 min clear) stay the production ones: what the control room sees is what a real fleet
 * would show, a little later than a test would.
 */
export const DEMO_TIMING: Partial<TimingProfile> = {
  conferencePreRollMs: 60_000,
  tunePreRollMs: 20_000,
  telemetryActiveMs: 5000,
  telemetryIdleMs: 30_000,
  offlineGraceMs: 120_000,
};

const USAGE = `usage: npm start -- [--stations N] [--no-faults] [--port PORT] [--keep] [--dir DIR] [--timing demo|short] [--broker mqtt://host:port]
  --stations N   how many of the prefecture's ${PREFECTURE.length} stations to simulate (default ${PREFECTURE.length})
  --no-faults    no faulty stations (with faults the fleet needs at least 8 stations)
  --timing T     demo (default): production timing with DEMO_TIMING's shortcuts, alarms after 90 s holds;
                 short: the test suite's short profile (alarms within seconds, for tests and quick looks)
  --port PORT    HTTP port of the UI and API (default 8080; 0 = any free port)
  --keep         keep the data of the last run (default: start afresh)
  --dir DIR      where the demo keeps its data (default .demo/ in the project)
  --broker URL   use an external MQTT broker instead of the embedded one (headend password from
                 RURALSAT_BROKER_PASSWORD; the broker must accept the stations: see .demo/mosquitto/)
`;

const MIN = 60_000;

function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** `MM-DD HH:MM–HH:MM` in the prefecture's time zone. */
function fmtSpan(startIso: string, endIso: string, tz: string): string {
  const part = (iso: string, o: Intl.DateTimeFormatOptions) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', ...o }).format(new Date(iso));
  const day = part(startIso, { month: '2-digit', day: '2-digit' });
  const hm = (iso: string) => part(iso, { hour: '2-digit', minute: '2-digit' });
  return `${day} ${hm(startIso)}–${hm(endIso)}`;
}

export async function main(argv: string[]): Promise<number> {
  let flags: ReturnType<typeof parse>;
  const parse = (a: string[]) =>
    parseArgs({
      args: a,
      strict: true,
      options: {
        stations: { type: 'string' },
        'no-faults': { type: 'boolean' },
        port: { type: 'string' },
        keep: { type: 'boolean' },
        dir: { type: 'string' },
        broker: { type: 'string' },
        timing: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  try {
    flags = parse(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const count = Number(flags.stations ?? PREFECTURE.length);
  const port = Number(flags.port ?? 8080);
  if (!Number.isInteger(count) || count < 1 || count > PREFECTURE.length || !Number.isInteger(port)) {
    process.stderr.write(`--stations must be 1–${PREFECTURE.length} and --port a number\n${USAGE}`);
    return 2;
  }
  const timingBase = flags.timing ?? 'demo';
  if (timingBase !== 'demo' && timingBase !== 'short') {
    process.stderr.write(`--timing must be demo or short\n${USAGE}`);
    return 2;
  }
  // The short profile as the tests run it; its conference pre-roll (5 s) is what the printout then says.
  const timing = timingBase === 'short' ? {} : DEMO_TIMING;
  const effective = timingProfile(timing, timingBase === 'short' ? shortTiming : defaultTiming);
  const dir = path.resolve(flags.dir ?? path.join(projectRoot(), '.demo'));
  const stateFile = path.join(dir, 'demo-state.json');
  const fresh = !flags.keep || !fs.existsSync(stateFile);
  if (fresh) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const say = (line = '') => process.stdout.write(`${line}\n`);

  // The headend's own config file: what it runs with, for the curious (DEMO_TIMING in it).
  const configFile = path.join(dir, 'headend.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify(
      {
        dataDir: path.join(dir, 'headend'),
        http: { host: '127.0.0.1', port },
        mqtt: { host: '127.0.0.1', port: 0 },
        ...(flags.broker ? { broker: flags.broker } : {}),
        timingBase: timingBase === 'short' ? 'short' : 'default',
        timing,
        logLevel: 'info',
      },
      null,
      2,
    ),
  );
  const config = loadConfig({ flags: { config: configFile } });
  const logger = createLogger({
    level: 'info',
    destination: createLogFile(path.join(dir, 'logs', 'headend.log')),
  });
  say(`ruralsat ${packageVersion()} quick start — a simulated Pingliang prefecture (SAMPLE DATA)`);
  say(`  data: ${dir}${fresh ? ' (fresh)' : ' (kept from the last run)'}`);
  say(`  running: the headend in this process (pid ${process.pid}), config ${configFile}`);
  say(
    `  timing: ${timingBase === 'short' ? 'short (test profile)' : 'production with DEMO_TIMING'}; alarms raise after ${effective.alarmRaiseHoldMs / 1000} s, offline after ${effective.offlineGraceMs / 1000} s`,
  );
  let headend: Awaited<ReturnType<typeof startHeadend>>;
  try {
    headend = await startHeadend(config, { logger });
  } catch (err) {
    const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
    process.stderr.write(
      inUse
        ? `port ${port} is in use: run with --port <another> (or --port 0 for any free port)\n`
        : `the headend did not start: ${(err as Error).message} (log: ${path.join(dir, 'logs', 'headend.log')})\n`,
    );
    return 1;
  }
  const all = prefectureStations(count);
  const planned = flags['no-faults'] ? [] : faultyStations(all, demoFaults());
  const faulty = planned.map((p) => p.station);
  const operators = all.filter((s) => !faulty.includes(s)).slice(0, 3);
  const state = fresh ? await seedRegistry(headend, all, operators) : loadState(stateFile);
  if (fresh) saveState(stateFile, state);
  const brokerUrl = headend.broker?.url ?? config.broker;
  say(`  MQTT: ${headend.broker ? `embedded broker ${brokerUrl}` : `external broker ${brokerUrl}`}`);
  if (!headend.broker) {
    const password = config.headendUser.password ?? '';
    const files = writeMosquittoFiles(path.join(dir, 'mosquitto'), {
      topicRoot: config.topicRoot,
      headend: {
        username: config.headendUser.username,
        hash: hashSecret(password, { iterations: config.credentials.iterations }),
      },
      stations: headend.store.stations.activeCredentials(),
      listener: { host: new URL(brokerUrl).hostname, port: Number(new URL(brokerUrl).port || 1883) },
    });
    say(
      `  the broker must know these stations: reload it with ${files.confFile} (password_file, acl_file beside it)`,
    );
  }

  let fleet: FleetProcess | null = null;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\nstopping: agents stop their recorders, every ffmpeg is ended…');
    await fleet?.stop().catch(() => undefined);
    await headend.stop();
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => {
    if (stopping) process.exit(130); // a second Ctrl-C: out at once (the fleet process ends with us)
    void stop(0);
  });
  process.on('SIGTERM', () => void stop(0));

  try {
    await run();
  } catch (err) {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    await stop(1);
  }
  return await new Promise<number>(() => undefined);

  async function run() {
    say(`  starting ${state.members.length} station agents in one fleet process…`);
    fleet = await spawnFleetProcess({
      members: state.members,
      brokerUrl,
      lineup: generatedLineup(49),
      dir: path.join(dir, 'stations'),
      timingBase: timingBase === 'short' ? 'short' : 'default',
      timing,
      lockDelayMs: 2000,
      logFile: path.join(dir, 'logs', 'fleet.log'),
    });
    say(
      `  running: fleet process pid ${fleet.pid} (${fleet.stations.length} agents, simulated RX8200s over TCP;`,
    );
    say('           one ffmpeg test source per service in use, fanned out to the receivers)');

    // Let the stations connect and take their first schedule before the story starts.
    const cp = headend.controlPlane;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const online = all.filter((s) => cp.presence.get(s.id)?.connection === 'online').length;
      if (online === all.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const url = headend.httpUrl;
    let story = null;
    if (fresh) {
      const start = Math.ceil((Date.now() + 5 * MIN) / MIN) * MIN;
      story = await seedStory({
        url,
        dir,
        timeZone: config.timeZone,
        state,
        stations: all,
        operators,
        conferenceStartMs: start,
      });
    }
    // After the guide import: that import was seen failing with "database is locked" while the faulty
    // stations' alarms and recordings wrote to the headend at the same moment (reported to the lead).
    if (planned.length > 0) {
      const pw = state.users.find((u) => u.id === 'control')?.password ?? '';
      await startDemoFaults({
        control: await DemoClient.login(url, 'control', pw),
        fleet,
        planned,
        waitMs: 30_000,
        fresh,
      });
    }
    const tz = config.timeZone;
    say();
    say(`  open ${url}/  (Chinese; "English" top right)`);
    say('  log in as:');
    for (const u of state.users) {
      const what = u.role === 'operator' ? `operator of ${u.stations.join(', ')}` : u.role;
      say(`    ${u.id.padEnd(14)} ${u.password || '(password from the first run)'}   ${what}`);
    }
    if (story) {
      const c = story.conference;
      say(
        `  conference "${c.title}" ${fmtSpan(c.start, c.end, tz)} (Beijing time) to all ${all.length} stations;`,
      );
      say(
        `    stations tune ${(effective.conferencePreRollMs + effective.tunePreRollMs) / 1000} s before it; live board: ${url}/#/conference/${c.id}`,
      );
      if (story.countyConference) {
        const k = story.countyConference;
        say(
          `  then "${k.title}" ${fmtSpan(k.start, k.end, tz)} to county ${k.county}, recorded at its stations`,
        );
      }
      for (const r of story.recordings)
        say(`  operator recording "${r.title}" at ${r.station} ${fmtSpan(r.start, r.end, tz)}`);
      say(`  guide: ${story.guideProgrammes} programmes, 49 services, 3 days`);
    }
    if (planned.length > 0) {
      const holdS = effective.alarmRaiseHoldMs / 1000;
      say(
        `  faulty stations (monitoring recording of ${MONITOR_SERVICE}; alarms after the ${holdS} s hold, offline after ${effective.offlineGraceMs / 1000} s):`,
      );
      for (const p of planned) say(`    ${p.station.id.padEnd(22)} ${p.fault.shows}`);
      say(`  alarms with causes: ${url}/#/alarms   fleet board: ${url}/#/fleet`);
    }
    say(
      `  recordings: ${path.join(dir, 'stations', '<station>', 'recordings')}; logs: ${path.join(dir, 'logs')}`,
    );
    say('  Ctrl-C stops everything.');
  }
}

/** A log file destination that creates its directory. */
function createLogFile(file: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return fs.createWriteStream(file, { flags: 'a' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
