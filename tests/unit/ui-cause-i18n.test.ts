/**
 * The alarm texts of the web UI in the technician's language (headend/web/js/cause-i18n.js, issue 8): every
 * row of the failure table (read from protocol/failures.ts, so a new row without a translation fails here)
 * has a Chinese and an English failure and response, the English verbatim; every alarm kind's summary is
 * known; the engine's usual causes and evidence are said in Chinese from their facts; anything else is
 * shown as the engine wrote it, marked as English.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { FAILURES } from '../../protocol/failures.js';
import { ALARM_KINDS } from '../../protocol/registry.js';

interface Said {
  text: string;
  english: boolean;
}
interface CauseI18n {
  FAILURE_ROWS: Record<
    string,
    { zh: { failure: string; respond: string }; en: { failure: string; respond: string } }
  >;
  KIND_SUMMARIES: Record<string, [string, string]>;
  alarmTexts(
    a: unknown,
    tz: string,
    loc: string,
  ): { failure: Said; respond: Said; cause: Said; evidence: Said };
}

const mod = (await import(pathToFileURL(path.resolve('headend/web/js/cause-i18n.js')).href)) as CauseI18n;
const CJK = /[\u4e00-\u9fff]/;

t.test('every failure-table row has a zh and an en failure and response', async (t) => {
  for (const [id, row] of Object.entries(FAILURES)) {
    const tr = mod.FAILURE_ROWS[id];
    t.ok(tr, `row ${id} is translated`);
    if (!tr) continue;
    t.match(tr.zh.failure, CJK, `${id}: zh failure is Chinese`);
    t.match(tr.zh.respond, CJK, `${id}: zh response is Chinese`);
    t.equal(tr.en.failure, row.failure, `${id}: en failure is the table's, verbatim`);
    t.equal(tr.en.respond, row.respond, `${id}: en response is the table's, verbatim`);
  }
  t.same(
    Object.keys(mod.FAILURE_ROWS).filter((id) => !(id in FAILURES)),
    [],
    'no translation of a row the table does not have',
  );
});

t.test('every alarm kind has its summary in zh, and the en one is the registry’s', async (t) => {
  for (const [kind, info] of Object.entries(ALARM_KINDS)) {
    const s = mod.KIND_SUMMARIES[kind];
    t.ok(s, `${kind} has a summary`);
    if (!s) continue;
    t.equal(s[0], info.summary, `${kind}: en summary matches protocol/failures.ts`);
    t.match(s[1], CJK, `${kind}: zh summary is Chinese`);
  }
});

const lockLoss = {
  kind: 'signal_lost',
  cause: {
    row: 'snow-ice-fade',
    failure: FAILURES['snow-ice-fade'].failure,
    respond: FAILURES['snow-ice-fade'].respond,
    text: 'snow/ice on the dish or feed, dish alignment, or the carrier itself',
  },
  evidence: {
    text: 'receiver rx1 has no lock on 3840 MHz H 27500 ks/s (service svc17)',
    facts: { receiver: 'rx1', service: 'svc17', carrier: '3840 MHz H 27500 ks/s', level: null },
  },
};

t.test('a lock loss reads in Chinese: cause, evidence from facts, failure and response', async (t) => {
  const x = mod.alarmTexts(lockLoss, 'Asia/Shanghai', 'zh-CN');
  t.equal(x.cause.text, '天线或馈源积雪结冰、天线偏移，或载波本身');
  t.equal(x.evidence.text, '接收机 rx1 在 3840 MHz H 27500 ks/s（节目 svc17）失锁');
  t.equal(x.failure.text, '雨雪结冰衰落');
  t.equal(x.respond.text, '迟滞判断；在录像上标注；不重启设备');
  t.notOk(x.cause.english || x.evidence.english, 'nothing falls back to English');
  const en = mod.alarmTexts(lockLoss, 'Asia/Shanghai', 'en');
  t.equal(en.cause.text, lockLoss.cause.text, 'English UI: the engine’s own words');
  t.equal(en.respond.text, FAILURES['snow-ice-fade'].respond);
});

t.test('figures come from the facts: margin, peers, offline since, fleet counts', async (t) => {
  const margin = mod.alarmTexts(
    {
      kind: 'margin_low',
      cause: {
        row: 'snow-ice-fade',
        failure: '',
        respond: '',
        text: 'regional: 4 of 6 other stations on 3840 MHz H 27500 ks/s are low too (weather or uplink)',
      },
      evidence: {
        text: 'margin 0.6 dB …',
        facts: { receiver: 'rx1', marginDb: 0.6, cnDb: 9.5, requiredCnDb: 8.9 },
      },
    },
    'Asia/Shanghai',
    'zh-CN',
  );
  t.equal(
    margin.cause.text,
    '区域性：3840 MHz H 27500 ks/s 上其他 6 个站点中有 4 个余量同样偏低（天气或上行）',
  );
  t.equal(
    margin.evidence.text,
    '接收机 rx1 余量 0.6 dB（C/N 9.5 dB，需要 8.9 dB）；低于 3 dB 警告，低于 1 dB 严重',
  );
  const offline = mod.alarmTexts(
    {
      kind: 'station_offline',
      cause: { row: 'flaky-uplink', failure: '', respond: '', text: ALARM_KINDS.station_offline.summary },
      evidence: {
        text: 'x disconnected since …',
        facts: { since: '2026-11-27T05:52:12.592Z', graceMs: 120000 },
      },
    },
    'Asia/Shanghai',
    'zh-CN',
  );
  t.equal(offline.cause.text, '站点断开时间超过宽限期', 'a kind summary as cause');
  t.equal(
    offline.evidence.text,
    '自 11/27 13:52:12 断开连接；站点继续按本地计划执行',
    'the time in the UI zone',
  );
  const fleet = mod.alarmTexts(
    {
      kind: 'fleet_signal_lost',
      cause: {
        row: 'carrier-change',
        failure: '',
        respond: '',
        text: 'upstream or satellite: carrier change or satellite anomaly',
      },
      evidence: { text: '…', facts: { carrier: '3840 MHz H', lostStations: 37, carrierStations: 102 } },
    },
    'Asia/Shanghai',
    'zh-CN',
  );
  t.equal(fleet.cause.text, '上游或卫星：载波变更或卫星异常');
  t.equal(fleet.evidence.text, '3840 MHz H 上 102 个站点中有 37 个同时失锁');
});

t.test('what cannot be said in Chinese is shown as written, marked English', async (t) => {
  const x = mod.alarmTexts(
    {
      kind: 'black_or_silent',
      cause: {
        row: 'no-such-row',
        failure: 'Something new',
        respond: 'do a thing',
        text: 'a brand new cause',
      },
      evidence: { text: 'black for 12 s on svc05', facts: {} },
    },
    'Asia/Shanghai',
    'zh-CN',
  );
  t.same(x.cause, { text: 'a brand new cause', english: true });
  t.same(x.evidence, { text: 'black for 12 s on svc05', english: true });
  t.same(x.failure, { text: 'Something new', english: true }, 'an unknown row keeps the engine’s words');
  const odd = mod.alarmTexts(
    { ...lockLoss, evidence: { text: 'odd', facts: { receiver: 42 } } },
    'Asia/Shanghai',
    'zh-CN',
  );
  t.same(odd.evidence, { text: 'odd', english: true }, 'facts of the wrong type fall back, no crash');
});
