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
import { ALARM_KIND_NAMES, ALARM_KINDS } from '../../protocol/registry.js';
import { sampleAlarms } from '../helpers/alarm-samples.js';

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
  t.equal(
    x.failure.text,
    '冰雪衰落',
    'snow/ice on the dish and feed (DOMAIN.md §2: rain fade is mild in C-band)',
  );
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
    '接收机 rx1 余量 0.6 dB（C/N 9.5 dB，需要 8.9 dB）',
    'no thresholds the alarm does not carry',
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

// One realistic alarm of every kind, as the engine raises it (tests/helpers/alarm-samples.ts).
const samples = sampleAlarms();
const zh = (a: unknown) => mod.alarmTexts(a, 'Asia/Shanghai', 'zh-CN');

t.test('every alarm kind, as the engine raises it, reads in Chinese: no English fallback', async (t) => {
  for (const kind of ALARM_KIND_NAMES) {
    const list = samples.filter((a) => a.kind === kind);
    t.ok(list.length > 0, `${kind}: the sample rigs raise it`);
    for (const a of list) {
      const x = zh(a);
      const where = `${kind} at ${a.station ?? 'fleet'}`;
      t.notOk(x.cause.english, `${where}: cause in Chinese (engine: "${a.cause.text}" → "${x.cause.text}")`);
      t.notOk(
        x.evidence.english,
        `${where}: evidence in Chinese (engine: "${a.evidence.text}" → "${x.evidence.text}")`,
      );
      t.match(x.cause.text, CJK, `${where}: the cause is Chinese text`);
      t.match(x.evidence.text, CJK, `${where}: the evidence is Chinese text`);
      t.notOk(x.failure.english || x.respond.english, `${where}: failure-table row in Chinese`);
    }
  }
});

const one = (kind: string, station?: string) => {
  const a = samples.find((x) => x.kind === kind && (station === undefined || x.station === station));
  if (!a) throw new Error(`no ${kind} sample`);
  return zh(a);
};

t.test('the issue’s headline: a dish trend reads in Chinese with its figures', async (t) => {
  t.equal(one('margin_trend').cause.text, '天线偏移或积雪压载');
  t.equal(
    one('margin_trend').evidence.text,
    '接收机 rx1 的余量在 2.9 天内下降 3.8 dB（7.9 → 4.0 dB），而 3840 MHz H 27500 ks/s 上其他 4 个站点保持稳定（中位变化 +0.0 dB） → 天线偏移或积雪',
  );
  // The issue's own example, with from/to as facts (the engine may carry them) instead of in the sentence.
  const x = zh({
    kind: 'margin_trend',
    cause: { row: 'dish-misaligned', failure: '', respond: '', text: 'dish alignment or snow load' },
    evidence: {
      text: 'margin fell 2.9 dB over 1 min …',
      facts: {
        receiver: 'rx1',
        changeDb: -2.9,
        spanMs: 60_000,
        peers: 2,
        peerMedianChangeDb: 0.1,
        carrier: '3840 MHz H 27500 ks/s',
        fromDb: 5.3,
        toDb: 2.5,
      },
    },
  });
  t.equal(
    x.evidence.text,
    '接收机 rx1 的余量在 60 秒内下降 2.9 dB（5.3 → 2.5 dB），而 3840 MHz H 27500 ks/s 上其他 2 个站点保持稳定（中位变化 +0.1 dB） → 天线偏移或积雪',
  );
});

t.test('station-side figures: power cut, lost settings, port, disk refusal, recordings', async (t) => {
  t.equal(
    one('power_cut').evidence.text,
    '站点代理程序非正常停止后重新启动（断电或崩溃）：最后活动 11/27 09:40:05，中断 40 分钟；当时有 1 个任务正在进行，遗留 1 个录像进程',
  );
  t.equal(one('station_offline').cause.text, '上行网络（宽带/3G/4G）中断，或站点断电');
  t.equal(one('clock_untrusted').cause.text, '没有 NTP 导致时钟漂移，或断电后实时时钟（RTC）不准');
  t.equal(one('clock_untrusted').evidence.text, '站点时钟比中心快 3.2 秒（往返 38 ms）；限值 2.0 秒');
  t.equal(
    one('receiver_settings_lost').evidence.text,
    '接收机 rx1 丢失了参数：频率 读回 3880（应为 3840），节目号 读回 113（应为 101）；正在重新下发 cctv1 的调谐参数',
  );
  t.match(
    one('serial_port_missing').evidence.text,
    /控制串口 \/dev\/serial\/by-id\/\S+（原为 \/dev\/ttyUSB0）已缺失 95 秒/,
  );
  t.equal(
    one('disk_full', 'st-refused').evidence.text,
    '录像被拒绝：需要 1.7 GiB 录像空间：配额 9.3 GiB 已用 9.1 GiB，剩余 191 MiB（保底 477 MiB）；清理后仍差 1.5 GiB',
  );
  t.equal(one('disk_low').evidence.text, '录像磁盘将满：剩余 5 %（4.7 GiB / 93.1 GiB）');
  t.equal(one('recording_failed').cause.text, '录像失败：磁盘已满（没有可用的录像）');
  t.equal(
    one('recording_degraded').evidence.text,
    'rec-training 的录像 42 完成但有错误，质量 91/100：缺失 12.0 秒，共 2 处（输入停顿、分段之间中断）；37 个损坏的包（连续计数错误）；质量 91，低于 95',
  );
  t.match(
    one('black_or_silent').evidence.text,
    /^节目 svc17（rx1）在最近 12\.0 秒内持续黑屏且无声，射频良好（已锁定，余量 6\.1 dB）/,
  );
  t.match(one('scrambled').evidence.text, /^rx1 报告节目 svc17（节目号 117）自 .+ 起加扰，无法解扰/);
  t.match(one('service_missing').evidence.text, /不在码流的 PAT 中/);
});

t.test('margin thresholds are said only when the alarm carries them', async (t) => {
  const a = samples.find((x) => x.kind === 'margin_low');
  t.ok(a);
  if (!a) return;
  t.notMatch(
    zh(a).evidence.text,
    /警告|严重/,
    'the engine’s facts carry none today: no hard-coded 3 dB / 1 dB',
  );
  const withLimits = {
    ...a,
    evidence: { ...a.evidence, facts: { ...a.evidence.facts, warningBelowDb: 4, alarmBelowDb: 1.5 } },
  };
  t.match(
    zh(withLimits).evidence.text,
    /；低于 4\.0 dB 警告，低于 1\.5 dB 严重$/,
    'the policy’s own figures',
  );
});
