/**
 * Fleet correlation through the RUNNING headend (issue 8; DOMAIN.md §6 "Satellite/carrier change or
 * satellite anomaly: lock lost at many stations at once — tell fleet-wide events from local ones"): when
 * the stations on one carrier lose lock together, the technician sees ONE fleet alarm naming the carrier
 * and the count ("upstream or satellite"), not one alarm per station; stations on another carrier are not
 * involved; a loss at one station alone is that station's alarm. Stations here are MQTT-level simulated
 * stations (scripts/load/sim-station.ts) publishing telemetry, so a dozen fit in one test.
 */
import t from 'tap';
import type { Telemetry } from '../../protocol/messages/telemetry.js';
import { topics } from '../../protocol/topics.js';
import { SimStation } from '../../scripts/load/sim-station.js';
import { sleep, startTechnicianRig, until } from '../helpers/technician-rig.js';

const CCTV = Array.from({ length: 8 }, (_, i) => `jingchuan-c${String(i + 1).padStart(2, '0')}`);
const GANSU = ['lingtai-g01', 'lingtai-g02'];

function telemetry(service: string, locked: boolean): Telemetry {
  return {
    at: new Date().toISOString(),
    receivers: [
      {
        id: 'rx1',
        link: 'up',
        locked,
        service,
        level: { value: locked ? 180 : 40, unit: 'raw' },
        cnDb: locked ? 12.1 : null,
        marginDb: locked ? 5.2 : null,
        ber: locked ? 1e-8 : null,
        lnb: 'ok',
      },
    ],
    recorders: [],
    disk: { freeBytes: 50e9, usedBytes: 1e9, quotaBytes: null },
    host: { cpuPct: 5, memUsedBytes: 2e8, memTotalBytes: 1e9 },
  };
}

t.test(
  'carrier lost at many stations at once is one fleet alarm; a local loss is a station alarm',
  async (t) => {
    const rig = await startTechnicianRig(t, {
      stations: [...CCTV, ...GANSU].map((id) => ({ id, county: id.split('-')[0] as string })),
    });
    const T = topics();
    const sims = new Map<string, SimStation>();
    for (const id of [...CCTV, ...GANSU]) {
      const s = new SimStation({ id, password: rig.secrets[id] ?? '', url: rig.brokerUrl });
      await s.connect();
      sims.set(id, s);
    }
    t.teardown(async () => {
      for (const s of sims.values()) await s.stop(true).catch(() => undefined);
    });
    const locked = new Map<string, boolean>([...sims.keys()].map((id) => [id, true]));
    let running = true;
    const pump = (async () => {
      while (running) {
        for (const [id, s] of sims) {
          const service = GANSU.includes(id) ? 'gansu' : 'cctv1';
          await s.publishRaw(T.telemetry(id), JSON.stringify(telemetry(service, locked.get(id) ?? true)));
        }
        await sleep(400);
      }
    })();
    t.teardown(async () => {
      running = false;
      await pump;
    });
    const cp = rig.headend.controlPlane;
    await until(
      () => [...sims.keys()].every((id) => cp.telemetry.latest(id)),
      'telemetry from every station',
    );
    await sleep(2500);
    t.same(rig.alarms(), [], 'all receiving: no alarm');

    // The carrier fails for every station receiving it (an uplink or satellite event).
    const t0 = Date.now();
    for (const id of CCTV) locked.set(id, false);
    const fleet = await until(
      () => rig.alarms({ kind: 'fleet_signal_lost' })[0],
      'the fleet alarm',
      20_000,
      20,
    );
    t.comment(`fleet alarm raised ${Date.now() - t0} ms after the carrier loss`);
    t.equal(fleet.scope, 'fleet');
    t.equal(fleet.cause.row, 'carrier-change', `cause: ${fleet.cause.text}`);
    t.match(
      fleet.evidence.text,
      /^carrier lost at 8 stations — upstream or satellite: 8 of 8 stations on /,
      `evidence names the count: ${fleet.evidence.text}`,
    );
    await sleep(3000);
    t.equal(rig.alarms({ kind: 'fleet_signal_lost' }).length, 1, 'exactly one fleet alarm');
    t.equal(fleet.evidence.facts.lostStations, 8, 'eight stations counted');
    t.same(
      rig.alarms({ kind: 'signal_lost' }).filter((a) => a.linkedTo !== fleet.id),
      [],
      'no station raises its own lock-loss alarm beside it (held back, or folded into it)',
    );
    t.same(
      rig.transitions.filter(
        (x) => x.kind === 'signal_lost' && x.type === 'raised' && x.at >= t0 && x.alarm.linkedTo === null,
      ),
      [],
      'not even briefly before the fleet alarm came up',
    );
    t.same(
      rig.alarms().filter((a) => a.station !== null && GANSU.includes(a.station)),
      [],
      'stations on the other carrier are not involved',
    );

    // What a technician sees: one alarm on the alarm page, no red row per station on the fleet board.
    const tech = await rig.as('tech');
    const list = (await tech.get('/api/v1/alarms')).body as {
      id: string;
      scope: string;
      stations?: number;
      linkedTo: string | null;
    }[];
    const top = list.filter((a) => a.linkedTo === null);
    t.equal(top.length, 1, 'one alarm that is not folded into another');
    t.match(top[0], { scope: 'fleet', stations: 8 });
    const board = (await tech.get('/api/v1/stations')).body as { id: string; alarms: { kind: string }[] }[];
    t.same(
      board.filter((s) => s.alarms.some((a) => a.kind === 'signal_lost')).map((s) => s.id),
      [],
      'the fleet board shows no per-station signal alarm for a fleet-wide loss',
    );
    const operator = await rig.as(`op-${CCTV[0]}`);
    const opList = (await operator.get('/api/v1/alarms')).body as { scope: string }[];
    t.notOk(
      opList.some((a) => a.scope === 'fleet'),
      'operators see their own stations only',
    );

    // The carrier is back: the fleet alarm clears by itself.
    for (const id of CCTV) locked.set(id, true);
    await until(() => rig.alarms().length === 0, 'every alarm cleared', 20_000, 20);
    t.pass('the fleet alarm and its members cleared when the carrier came back');

    // One station alone loses lock: that is a local fault, raised for the station.
    const solo = CCTV[3] as string;
    const t1 = Date.now();
    locked.set(solo, false);
    const local = await until(
      () => rig.alarms({ kind: 'signal_lost', station: solo })[0],
      'local loss',
      20_000,
      20,
    );
    t.comment(`local loss raised ${Date.now() - t1} ms after it began`);
    await sleep(3000);
    t.equal(local.linkedTo, null, 'not folded into a fleet alarm');
    t.equal(rig.alarms({ kind: 'fleet_signal_lost' }).length, 0, 'no fleet alarm for one station');
    t.equal(local.cause.row, 'snow-ice-fade', `a local cause: ${local.cause.text}`);
  },
);

t.test('rejected credentials and a station clock off by minutes raise their alarms', async (t) => {
  const id = CCTV[0] as string;
  const rig = await startTechnicianRig(t, { stations: [{ id, county: 'jingchuan' }] });
  // Someone keeps trying the station's id with a wrong secret (a misconfigured or impersonating box).
  for (let i = 0; i < 3; i++) {
    const s = new SimStation({ id, password: 'not-the-secret-0123', url: rig.brokerUrl, reconnect: false });
    await s.connect().then(
      () => s.stop(true),
      () => undefined,
    );
  }
  const creds = await until(
    () => rig.alarms({ kind: 'credentials_rejected' })[0],
    'credentials alarm',
    10_000,
  );
  t.equal(creds.station, id, 'named for the station id that was tried');
  t.equal(creds.cause.row, 'credentials-rejected', `cause: ${creds.cause.text}`);

  // The station answers clock exchanges with a clock 5 minutes fast (DOMAIN.md §6 "Clock drift").
  const skew = 5 * 60_000;
  const s = new SimStation({ id, password: rig.secrets[id] ?? '', url: rig.brokerUrl });
  await s.connect();
  t.teardown(() => s.stop(true));
  const T = topics();
  const client = (s as unknown as { client: import('mqtt').MqttClient }).client;
  await client.subscribeAsync(T.rpcReq(id), { qos: 1 });
  client.on('message', (topic, payload) => {
    if (topic !== T.rpcReq(id)) return;
    const req = JSON.parse(payload.toString()) as { rid: string; method: string; params: { t1: number } };
    if (req.method !== 'clock.exchange') return;
    const now = Date.now() + skew;
    const res = { rid: req.rid, ok: true, result: { t1: req.params.t1, t2: now, t3: now } };
    void client.publishAsync(T.rpcRes(id), JSON.stringify(res), { qos: 1 });
  });
  await rig.headend.controlPlane.rpc.exchangeClock(id);
  const clock = await until(
    () => rig.alarms({ station: id, kind: 'clock_untrusted' })[0],
    'clock alarm',
    15_000,
  );
  t.equal(clock.cause.row, 'clock-drift', `cause: ${clock.cause.text}`);
  t.match(clock.evidence.text, /300\.?\d* s|5(\.0)? min|300000/, `evidence: ${clock.evidence.text}`);
});
