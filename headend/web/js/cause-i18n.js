// An alarm's probable cause and evidence in the technician's language (issue 8). The engine speaks English:
// its cause carries a failure-table row (protocol/failures.ts, DOMAIN.md §6) with that row's failure and
// response verbatim, and a short cause text; the evidence carries a sentence and the figures behind it.
// Here: the failure and the response from a zh/en table keyed by row (every row; a unit test reads the ids
// from protocol/failures.ts), the engine's usual cause sentences recognised and said in Chinese, and the
// evidence rewritten from its facts (margins, durations, peers) where the facts allow. Anything else is shown
// as the engine wrote it, marked as English, never dropped.

import { alarmLabel, locale } from './i18n.js';

/** Failure-table rows: the failure and what the system does about it, zh and en (en = DOMAIN.md verbatim). */
export const FAILURE_ROWS = {
  'power-cut': {
    zh: { failure: '断电', respond: '核对计划；仍在时段内的任务以新分段续录；报告中断时长' },
    en: {
      failure: 'Power cut',
      respond: 'reconcile schedule; resume an in-window job as a new segment; report the gap',
    },
  },
  'receiver-forgets-settings': {
    zh: { failure: '接收机断电后丢失参数', respond: '每次启动和重连时重新下发完整的调谐参数（幂等）' },
    en: {
      failure: 'Receiver forgets settings after power loss',
      respond: 're-apply full desired tuning (idempotent) on every start and reconnect',
    },
  },
  'receiver-hangs': {
    zh: {
      failure: '接收机死机（串口无响应，或“锁定”但码流冻结）',
      respond: '先经串口软复位，再升级处理（继电器/人工），退避重试，每日限次',
    },
    en: {
      failure: 'Receiver hangs (serial dead, or TS frozen while "locked")',
      respond: 'soft reset over serial, then escalate (relay/operator), backoff, cap per day',
    },
  },
  'lnb-cable-fault': {
    zh: { failure: '高频头或电缆故障', respond: '高频头断电重启一次；发出需现场检修告警；不反复重启' },
    en: {
      failure: 'LNB or cable fault',
      respond: 'LNB power off/on once; raise site-visit alarm; no reboot loops',
    },
  },
  'dish-misaligned': {
    zh: { failure: '天线偏移（大风、积雪压载）', respond: '趋势告警；与全网其他站点比较' },
    en: { failure: 'Dish misaligned (wind, snow load)', respond: 'trend alarm; compare with the fleet' },
  },
  'snow-ice-fade': {
    zh: { failure: '雨雪结冰衰落', respond: '迟滞判断；在录像上标注；不重启设备' },
    en: { failure: 'Snow/ice fade', respond: 'hysteresis; annotate recordings; no reboot' },
  },
  'sun-outage': {
    zh: { failure: '日凌', respond: '预报窗口内不告警；提示窗口内的任务' },
    en: { failure: 'Sun outage', respond: 'suppress alarms in the window; warn about jobs inside it' },
  },
  'carrier-change': {
    zh: {
      failure: '卫星/载波变更或卫星异常',
      respond: '中心下发新的调谐参数；区分全网事件与本站故障',
    },
    en: {
      failure: 'Satellite/carrier change or satellite anomaly',
      respond: 'headend pushes new tuning; tell fleet-wide events from local ones',
    },
  },
  'service-reshuffle': {
    zh: { failure: '节目/PID 调整', respond: '按节目号（service id）选择节目' },
    en: { failure: 'Service/PID reshuffle', respond: 'select by service id' },
  },
  'scrambled-service': {
    zh: { failure: '节目加扰', respond: '告警；不悄悄录下无法观看的内容' },
    en: { failure: 'Scrambled service', respond: "alarm; don't record garbage silently" },
  },
  'stream-stall': {
    zh: { failure: '码流停滞（网络或 ffmpeg 卡住）', respond: '重启录像程序，再检查接收机' },
    en: {
      failure: 'Stream stall (network, ffmpeg stuck)',
      respond: 'restart recorder, then check receiver',
    },
  },
  'black-silent': {
    zh: { failure: '信号良好但黑屏或无声', respond: '按上游问题上报，不动本站设备' },
    en: {
      failure: 'Black/silent programme with good RF',
      respond: "report as upstream, don't touch local equipment",
    },
  },
  'disk-full': {
    zh: { failure: '磁盘已满或文件系统只读', respond: '执行保留策略；拒绝并说明原因；告警' },
    en: {
      failure: 'Disk full / read-only filesystem',
      respond: 'retention policy; refuse with a reason; alarm',
    },
  },
  'clock-drift': {
    zh: { failure: '无 NTP 时钟漂移', respond: '告警；把录像标记为时间不确定' },
    en: { failure: 'Clock drift without NTP', respond: 'alarm; mark recordings clock-uncertain' },
  },
  'flaky-uplink': {
    zh: { failure: '上行网络不稳定', respond: '继续执行本地计划；存储后转发' },
    en: { failure: 'Flaky uplink', respond: 'keep executing the local schedule; store and forward' },
  },
  'usb-serial-renumbered': {
    zh: { failure: 'USB 串口重新编号', respond: '使用 by-id 路径；退避后重新打开' },
    en: { failure: 'USB-serial renumbered', respond: 'by-id paths; reopen with backoff' },
  },
  'schedule-not-applied': {
    zh: { failure: '站点未应用下发的计划', respond: '显示下发与应用的版本及相差时长；告警' },
    en: {
      failure: 'Station does not apply the desired schedule',
      respond: 'show desired vs applied and how long they differ; alarm',
    },
  },
  'schedule-unknown-version': {
    zh: { failure: '站点报告了中心从未下发的计划版本', respond: '告警；重新发布应有的计划' },
    en: {
      failure: 'Station reports a schedule version the headend never issued',
      respond: 'alarm; republish the desired document',
    },
  },
  'event-conflict': {
    zh: { failure: '同一事件编号的内容不同', respond: '保留第一次收到的；告警' },
    en: { failure: 'Same event key with a different payload', respond: 'keep the first, alarm' },
  },
  'outbox-quarantined': {
    zh: { failure: '一条待发消息反复被拒', respond: '隔离该消息并上报；不无限重试' },
    en: {
      failure: 'An outbox row keeps being refused',
      respond: 'quarantine the row and report it; do not retry forever',
    },
  },
  'credentials-rejected': {
    zh: { failure: 'MQTT 凭据被拒绝', respond: '计数并告警（配置错误或冒充的站点）' },
    en: {
      failure: 'Rejected MQTT credentials',
      respond: 'count and alarm (a misconfigured or impersonating station)',
    },
  },
};

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v) => (typeof v === 'string' && v !== '' ? v : null);
const db1 = (v) => `${v.toFixed(1)} dB`;
const LNB_ZH = { short: '短路', no_load: '无负载', off: '关闭' };

/** The engine's usual cause sentences (headend/alarms/*.ts), recognised and said in Chinese. */
const CAUSES_ZH = [
  [
    /^snow\/ice on the dish or feed, dish alignment, or the carrier itself$/,
    () => '天线或馈源积雪结冰、天线偏移，或载波本身',
  ],
  [/^local fade: snow or ice on the dish or feed$/, () => '本站信号衰落：天线或馈源积雪结冰'],
  [
    /^regional: (\d+) of (\d+) other stations on (.+) are low too/,
    (m) => `区域性：${m[3]} 上其他 ${m[2]} 个站点中有 ${m[1]} 个余量同样偏低（天气或上行）`,
  ],
  [
    /^slow decline \((\S+ dB) over the trend window\)/,
    (m) => `缓慢下降（趋势窗口内 ${m[1]}）：天线偏移或积雪压载`,
  ],
  [
    /^LNB or cable fault \(LNB supply (.+)\)$/,
    (m) => `高频头或电缆故障（供电${LNB_ZH[m[1].replace(' ', '_')] ?? m[1]}）`,
  ],
  [/^lock lost on every carrier at this station/, () => '本站所有载波均失锁：高频头、电缆或天线'],
  [/^short circuit on the LNB cable or LNB$/, () => '高频头或其电缆短路'],
  [/^LNB disconnected or dead \(no load\)$/, () => '高频头断开或损坏（无负载）'],
  [/^receiver hung or its serial link is dead$/, () => '接收机死机或串口链路中断'],
  [/^receiver output frozen while it reports lock$/, () => '接收机报告锁定，但输出码流冻结'],
  [/^recorder \(ffmpeg\) stuck or disk writes blocked$/, () => '录像程序（ffmpeg）卡住或磁盘写入受阻'],
  [
    /^recordings filling the disk faster than retention frees it$/,
    () => '录像占满磁盘的速度快于保留策略的清理',
  ],
  [/^no room for new recordings/, () => '没有空间录制新节目：请立即清理或删除录像'],
  [/^upstream or satellite: carrier change or satellite anomaly$/, () => '上游或卫星：载波变更或卫星异常'],
  [
    /^upstream: (\d+) other stations? on (\S+) sees? the same/,
    (m) => `上游问题：${m[2]} 上另有 ${m[1]} 个站点出现同样情况`,
  ],
  [
    /^only this station on (\S+) so far/,
    (m) => `目前只有本站在 ${m[1]} 上出现：可能是上游问题，请检查解码输出`,
  ],
];

/** Each kind's registry summary (protocol/failures.ts ALARM_KINDS, en verbatim — a unit test compares) and zh. */
export const KIND_SUMMARIES = {
  power_cut: ['restarted after a gap', '中断一段时间后重新启动'],
  receiver_settings_lost: [
    'receiver settings differed from desired; re-applied',
    '接收机参数与应有的不同，已重新下发',
  ],
  receiver_unresponsive: ['receiver does not answer on its control port', '接收机控制口无应答'],
  stream_frozen: ['no stream data while the receiver reports lock', '接收机报告锁定，但没有码流数据'],
  lnb_fault: ['LNB supply short or no load: site visit', '高频头供电短路或无负载：需现场检修'],
  margin_trend: [
    'margin declining at this station while peers are stable',
    '本站余量持续下降，而同载波其他站点稳定',
  ],
  margin_low: ['link margin below the alarm threshold', '链路余量低于告警门限'],
  signal_lost: ['receiver lost lock on the carrier', '接收机对载波失锁'],
  sun_outage: [
    'inside a predicted sun-outage window (other signal alarms suppressed)',
    '处于预报的日凌窗口内（其他信号告警暂不发出）',
  ],
  fleet_signal_lost: ['lock lost at many stations on the same carrier at once', '同一载波上多个站点同时失锁'],
  service_missing: ['the service id is not in the stream (PAT) any more', '码流（PAT）中已没有该节目号'],
  scrambled: ['the service is scrambled', '节目被加扰'],
  recorder_stalled: ['recording file not growing', '录像文件不再增长'],
  recording_failed: [
    'a recording failed (the reason names the cause: disk, lock, scrambled, service, stall)',
    '录像失败（原因见说明：磁盘、失锁、加扰、节目缺失、停滞）',
  ],
  recording_degraded: [
    'a recording completed with errors or below quality 95',
    '录像完成但有错误，或质量低于 95',
  ],
  black_or_silent: ['black picture or silence with good RF', '信号良好但黑屏或无声'],
  disk_low: ['recordings disk nearly full', '录像磁盘将满'],
  disk_full: ['no space for a recording: refused or stopped', '没有空间录像：已拒绝或停止'],
  filesystem_read_only: ['recordings filesystem is read-only (EROFS)', '录像文件系统只读（EROFS）'],
  clock_untrusted: [
    'clock offset unknown or too large; recordings marked clock-uncertain',
    '时钟偏差未知或过大；录像标记为时间不确定',
  ],
  station_offline: ['station disconnected for longer than the grace period', '站点断开时间超过宽限期'],
  serial_port_missing: ['receiver control port missing', '接收机控制串口缺失'],
  schedule_lag: ['applied schedule differs from desired', '站点应用的计划与下发的不同'],
  schedule_unknown_version: [
    'station reports a schedule version never issued',
    '站点报告了从未下发的计划版本',
  ],
  event_conflict: ['an event was re-sent with a different payload', '同一事件重发时内容不同'],
  outbox_quarantined: ['an event was quarantined after repeated refusals', '一条事件多次被拒后被隔离'],
  credentials_rejected: ['MQTT credentials rejected for this station id', '该站点编号的 MQTT 凭据被拒绝'],
};

/** A time from a fact, in the UI's zone. */
function when(v, tz) {
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) return null;
  return new Intl.DateTimeFormat('zh-CN', {
    timeZone: tz,
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(ms));
}

/** Evidence in Chinese from its facts, per kind; `null` when the facts do not carry what the sentence needs. */
const EVIDENCE_ZH = {
  station_offline: (f, tz) => {
    const t = when(f.disconnectedSince ?? f.since, tz);
    return t ? `自 ${t} 断开连接；站点继续按本地计划执行` : null;
  },
  signal_lost: (f) => {
    const rx = str(f.receiver);
    if (!rx) return null;
    const on = str(f.carrier) ? ` 在 ${f.carrier}` : '';
    const svc = str(f.service) ? `（节目 ${f.service}）` : '';
    const lvl = num(f.level) !== null ? `；电平 ${f.level} ${f.levelUnit ?? ''}`.trimEnd() : '';
    return `接收机 ${rx}${on}${svc}失锁${lvl}`;
  },
  margin_low: (f) => {
    const rx = str(f.receiver);
    const m = num(f.marginDb);
    if (!rx || m === null) return null;
    const cn = num(f.cnDb);
    const req = num(f.requiredCnDb);
    const detail = cn !== null ? `（C/N ${db1(cn)}${req !== null ? `，需要 ${db1(req)}` : ''}）` : '';
    return `接收机 ${rx} 余量 ${db1(m)}${detail}；低于 3 dB 警告，低于 1 dB 严重`;
  },
  lnb_fault: (f) => {
    const rx = str(f.receiver);
    const lnb = str(f.lnb);
    return rx && lnb ? `接收机 ${rx} 的高频头供电报告${LNB_ZH[lnb] ?? lnb}` : null;
  },
  receiver_unresponsive: (f) => {
    const rx = str(f.receiver) ?? str(f.receiverId);
    if (!rx) return null;
    if (f.link === 'down') return `接收机 ${rx} 的控制口没有应答`;
    if (f.problem === 'unresponsive' && f.rung === 'escalated')
      return `接收机 ${rx} 无应答：重新下发参数无效，且此接收机不能远程复位`;
    if (f.problem === 'no-lock' && f.rung === 'escalated')
      return `接收机 ${rx} 失锁：重新下发参数无效，且此接收机不能远程复位`;
    return null;
  },
  stream_frozen: (f) => {
    const rx = str(f.receiver);
    if (!rx) return null;
    const m = num(f.marginDb);
    return `接收机 ${rx} 报告锁定${m !== null ? `（余量 ${db1(m)}）` : ''}，但录像收到 0 bit/s`;
  },
  recorder_stalled: (f) => {
    const b = num(f.bytes);
    const r = num(f.bitrateBps);
    return b !== null && r !== null
      ? `录像文件停在 ${b} 字节，而输入仍有 ${Math.round(r / 1000)} kbit/s`
      : null;
  },
  fleet_signal_lost: (f) => {
    const lost = num(f.lostStations);
    const total = num(f.carrierStations);
    return lost !== null && total !== null
      ? `${str(f.carrier) ?? '同一载波'} 上 ${total} 个站点中有 ${lost} 个同时失锁`
      : null;
  },
  scrambled: (f, tz) => {
    const svc = str(f.service);
    if (!svc) return null;
    const sid = num(f.serviceId) !== null ? `（节目号 ${f.serviceId}）` : '';
    const t = when(f.since, tz);
    return `${str(f.receiver) ?? '接收机'} 报告节目 ${svc}${sid}${t ? ` 自 ${t} 起` : ''}加扰，无法解扰`;
  },
  service_missing: (f, tz) => {
    const svc = str(f.service);
    if (!svc) return null;
    const sid = num(f.serviceId) !== null ? `（节目号 ${f.serviceId}）` : '';
    const t = when(f.since, tz);
    return `节目 ${svc}${sid}${t ? ` 自 ${t} 起` : ''}不在码流的 PAT 中`;
  },
  clock_untrusted: (f) => {
    const off = num(f.offsetMs);
    const lim = num(f.limitMs);
    if (off === null || lim === null) return null;
    const rtt = num(f.rttMs);
    return `时钟偏差 ${off} ms${rtt !== null ? `（往返 ${rtt} ms）` : ''}，限值 ${lim} ms`;
  },
  schedule_lag: (f) =>
    str(f.desired) ? `站点运行计划 ${str(f.applied) ?? '（无）'}，中心已下发 ${f.desired}` : null,
  schedule_unknown_version: (f) =>
    str(f.applied) ? `站点报告计划 ${f.applied}，本中心从未下发过该版本` : null,
  credentials_rejected: (f) =>
    str(f.username) && num(f.rejections) !== null ? `“${f.username}” 的连接被拒绝 ${f.rejections} 次` : null,
};

/**
 * The cause, failure, response and evidence of an alarm in the UI's locale. Each text comes with
 * `english: true` when it could only be shown as the engine wrote it (the UI marks it).
 */
export function alarmTexts(a, tz, loc = locale()) {
  const row = FAILURE_ROWS[a.cause?.row];
  const facts = a.evidence?.facts ?? {};
  if (loc === 'en') {
    return {
      failure: { text: row?.en.failure ?? a.cause.failure, english: false },
      respond: { text: row?.en.respond ?? a.cause.respond, english: false },
      cause: { text: a.cause.text, english: false },
      evidence: { text: a.evidence.text, english: false },
    };
  }
  const causeText = a.cause.text ?? '';
  let cause = null;
  for (const [re, zh] of CAUSES_ZH) {
    const m = re.exec(causeText);
    if (m) {
      cause = zh(m);
      break;
    }
  }
  const summary = KIND_SUMMARIES[a.kind];
  if (!cause && summary && causeText === summary[0]) cause = summary[1];
  let evidence = null;
  try {
    evidence = EVIDENCE_ZH[a.kind]?.(facts, tz) ?? null;
  } catch {
    evidence = null; // odd facts: the English sentence is shown instead
  }
  // A station-raised alarm's cause is its own message (= the evidence): say it once, from the kind.
  if (!cause && causeText === a.evidence?.text && summary) cause = summary[1];
  return {
    failure: row ? { text: row.zh.failure, english: false } : { text: a.cause.failure, english: true },
    respond: row ? { text: row.zh.respond, english: false } : { text: a.cause.respond, english: true },
    cause: cause ? { text: cause, english: false } : { text: causeText, english: true },
    evidence: evidence ? { text: evidence, english: false } : { text: a.evidence.text, english: true },
  };
}

/** One line for a fleet banner or a tooltip: "多站同时失锁 — 上游或卫星：… · 37 个站点…". */
export function alarmLine(a, tz, loc = locale()) {
  const x = alarmTexts(a, tz, loc);
  return `${alarmLabel(a.kind)} — ${x.cause.text} · ${x.evidence.text}`;
}
