/** Headend config (headend/config.ts): file ← env ← flags, one schema, every field error listed. */
import t from 'tap';
import {
  ConfigError,
  loadConfig,
  parseConfigArgs,
  resolveTiming,
  stationBrokerUrl,
} from '../../headend/config.js';
import { defaultTiming, shortTiming } from '../../protocol/timing.js';

const files = (map: Record<string, string>) => (f: string) => {
  const text = map[f];
  if (text === undefined) throw new Error(`ENOENT: ${f}`);
  return text;
};

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test('defaults: embedded broker on loopback, Asia/Shanghai, production timing', async (t) => {
  const c = loadConfig({ env: {}, flags: { 'data-dir': '/var/lib/ruralsat-headend' } });
  t.match(c, {
    dataDir: '/var/lib/ruralsat-headend',
    http: { host: '127.0.0.1', port: 8080 },
    mqtt: { host: '127.0.0.1', port: 1883 },
    topicRoot: 'ruralsat/v1',
    broker: 'embedded',
    headendUser: { username: 'headend' },
    timeZone: 'Asia/Shanghai',
    logLevel: 'info',
  });
  t.same(resolveTiming(c), defaultTiming);
  t.equal(stationBrokerUrl(c, 41883), 'mqtt://127.0.0.1:41883');
});

t.test('file, then env, then flags; relative dataDir is relative to the file', async (t) => {
  const file = JSON.stringify({
    dataDir: 'data',
    http: { host: '127.0.0.1', port: 9000 },
    logLevel: 'warn',
    timingBase: 'short',
    timing: { offlineGraceMs: 60000 },
  });
  const c = loadConfig({
    readFile: files({ '/etc/ruralsat/headend.json': file }),
    env: {
      RURALSAT_HEADEND_CONFIG: '/etc/ruralsat/headend.json',
      RURALSAT_LOG_LEVEL: 'debug',
      RURALSAT_MQTT: ':11883',
    },
    flags: { 'log-level': 'error' },
  });
  t.equal(c.dataDir, '/etc/ruralsat/data');
  t.equal(c.http.port, 9000, 'from the file');
  t.same(c.mqtt, { host: '127.0.0.1', port: 11883 }, 'from env');
  t.equal(c.logLevel, 'error', 'flag beats env beats file');
  t.same(resolveTiming(c), { ...shortTiming, offlineGraceMs: 60000 }, 'overrides on the short profile');
});

t.test('a bad config lists every problem at once', async (t) => {
  const issues = problems(() =>
    loadConfig({
      env: {},
      readFile: files({
        'c.json': JSON.stringify({
          dataDir: '/d',
          http: { host: '0.0.0.0', port: 8080 },
          topicRoot: '$SYS/x',
          timeZone: 'Mars/Olympus',
          logLevel: 'loud',
          timing: { offlineGraceMs: -1, bogus: 1 },
          extra: true,
        }),
      }),
      flags: { config: 'c.json', mqtt: 'nonsense' },
    }),
  );
  const text = issues.join('\n');
  for (const needle of [
    /mqtt.*host:port/,
    /http\.tls.*not loopback/,
    /topicRoot/,
    /timeZone/,
    /logLevel/,
    /timing\.offlineGraceMs/,
    /bogus/,
    /extra/,
  ]) {
    t.match(text, needle, `reports ${needle}`);
  }
  t.ok(issues.length >= 8, `${issues.length} problems listed`);
});

t.test('TLS is required off loopback; external brokers need the headend password and mqtts', async (t) => {
  t.match(
    problems(() => loadConfig({ env: {}, flags: { 'data-dir': '/d', mqtt: '0.0.0.0:8883' } })).join('\n'),
    /mqtt\.tls/,
  );
  const tlsOk = loadConfig({
    env: {},
    readFile: files({
      'c.json': JSON.stringify({
        dataDir: '/d',
        mqtt: { host: '0.0.0.0', port: 8883, tls: { certFile: '/c', keyFile: '/k' } },
      }),
    }),
    flags: { config: 'c.json' },
  });
  t.match(stationBrokerUrl(tlsOk), /^mqtts:\/\/.+:8883$/, 'agents are told mqtts');
  t.match(
    problems(() =>
      loadConfig({ env: {}, flags: { 'data-dir': '/d', broker: 'mqtt://broker.example:1883' } }),
    ).join('\n'),
    /broker: .*mqtts.*\n?.*headendUser\.password|headendUser\.password[\s\S]*mqtts|mqtts[\s\S]*headendUser\.password/,
  );
  const ext = loadConfig({
    env: { RURALSAT_BROKER_PASSWORD: 'a-long-enough-password' },
    flags: { 'data-dir': '/d', broker: 'mqtts://broker.example:8883' },
  });
  t.equal(ext.headendUser.password, 'a-long-enough-password', 'password from env');
  t.equal(stationBrokerUrl(ext), 'mqtts://broker.example:8883');
  t.match(problems(() => loadConfig({ env: {}, flags: {} })).join('\n'), /dataDir/, 'dataDir is required');
  t.match(
    problems(() => loadConfig({ env: {}, flags: { config: '/missing.json' } })).join('\n'),
    /cannot read config file/,
  );
});

t.test('unknown flags are a config error', async (t) => {
  t.throws(() => parseConfigArgs(['--data-dir', '/d', '--colour', 'red']), ConfigError);
  t.same(parseConfigArgs(['--data-dir', '/d']), { 'data-dir': '/d' });
});
