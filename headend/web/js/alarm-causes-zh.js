// The alarm engine's probable-cause sentences (headend/alarms/*-rules.ts, engine-*.ts, fleet.ts) recognised and
// said in Chinese, and the agent's recording reasons (device/recorder/quality.ts, device/executor/
// occurrence-machine.ts MISSED_REASONS, ffmpeg-log.ts) said in Chinese part by part. A sentence the table does
// not know is left to the caller, which shows the engine's English marked as such.

import { FAILURE_ROWS } from './failure-table-i18n.js';

/** LNB supply states (telemetry `lnb`). */
export const LNB_ZH = { short: '短路', no_load: '无负载', off: '关闭', ok: '正常', unknown: '未知' };

/** Leading reason codes of a recording or a missed occurrence (the agent writes `code: detail`). */
const REASON_CODES = {
  no_lock: '接收机未锁定',
  receiver_unresponsive: '接收机无应答',
  receiver_missing: '接收机未安装',
  disk_full: '磁盘已满',
  read_only: '录像文件系统只读',
  clock_untrusted: '时钟不可信',
  maintenance_hold: '技术人员现场维护暂停',
  dropped: '被更高优先级的任务挤占',
  agent_down: '站点代理程序停止运行',
  not_started: '任务没有开始',
  no_data: '没有收到数据',
  service_not_found: '码流中找不到该节目',
  input_timeout: '输入超时',
  input_unreachable: '输入地址不可达',
  spawn_failed: '录像程序无法启动',
  bad_request: '录像请求无效',
  stopped: '录像被停止',
  error: '录像程序出错',
};

/** Why time is missing in a recording (device/recorder/quality.ts GapCause). */
const GAP_CAUSES = {
  late_start: '开始晚了',
  early_end: '提前结束',
  interruption: '分段之间中断',
  stall: '输入停顿',
  no_data: '没有数据',
};

const OUTCOMES = { planned: '按计划', shared: '共用', truncated: '被截短', dropped: '被取消' };

/** One part of a reason (`; `-separated) in Chinese, or null. */
function reasonPartZh(part) {
  let m = /^([a-z_]+): (.*)$/s.exec(part);
  if (m && REASON_CODES[m[1]]) {
    const code = REASON_CODES[m[1]];
    const detail = m[2] === 'no usable recording' ? '没有可用的录像' : m[2];
    return detail ? `${code}（${detail === '没有可用的录像' ? detail : `“${detail}”`}）` : code;
  }
  if (REASON_CODES[part]) return REASON_CODES[part];
  m = /^([\d.]+) s missing in (\d+) gaps? \((.+)\)$/.exec(part);
  if (m) {
    const causes = m[3]
      .split(', ')
      .map((c) => GAP_CAUSES[c] ?? c)
      .join('、');
    return `缺失 ${m[1]} 秒，共 ${m[2]} 处（${causes}）`;
  }
  m = /^(\d+) corrupt packets? \(continuity errors\)$/.exec(part);
  if (m) return `${m[1]} 个损坏的包（连续计数错误）`;
  m = /^(\d+) segment\(s\) failed verification$/.exec(part);
  if (m) return `${m[1]} 个分段未通过校验`;
  m = /^quality ([\d.]+) < ([\d.]+)$/.exec(part);
  if (m) return `质量 ${m[1]}，低于 ${m[2]}`;
  m = /^(planned|shared|truncated|dropped) \((with|by|padding cut by) "(.+)" at (\S+)\)$/.exec(part);
  if (m) {
    const how = m[2] === 'with' ? '与' : m[2] === 'by' ? '因' : '前后余量被';
    return `${OUTCOMES[m[1]]}（${how}“${m[3]}” ${m[4]}）`;
  }
  return null;
}

/**
 * A recording's reason in Chinese: every known part translated; an unknown part kept as the agent wrote it,
 * in quotes (it is data, like a file name). Null when no part is known.
 */
export function reasonZh(reason) {
  if (typeof reason !== 'string' || reason === '') return null;
  const parts = reason.split('; ');
  let known = 0;
  const out = parts.map((p) => {
    const zh = reasonPartZh(p);
    if (zh) known++;
    return zh ?? `“${p}”`;
  });
  return known > 0 ? out.join('；') : null;
}

const CREDENTIAL_CAUSES = {
  'wrong or rotated secret on the station': '站点上的密钥错误或已更换',
  'a revoked station still trying to connect': '已吊销的站点仍在尝试连接',
  'client id ≠ username: misconfigured or impersonating': '客户端编号与用户名不符：配置错误或冒充',
  'a station id the registry does not know': '站点登记中没有这个站点编号',
  'misconfigured or impersonating client': '配置错误或冒充的客户端',
};

/** [pattern, zh] pairs; the first match wins. */
export const CAUSES_ZH = [
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
  [/^dish alignment or snow load$/, () => '天线偏移或积雪压载'],
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
  [
    /^uplink \(broadband\/3G\/4G\) down, or the station lost power$/,
    () => '上行网络（宽带/3G/4G）中断，或站点断电',
  ],
  [
    /^no NTP and the clock drifted, or a bad RTC after a power cut$/,
    () => '没有 NTP 导致时钟漂移，或断电后实时时钟（RTC）不准',
  ],
  [
    /^a document from another headend, a restored backup, or tampering$/,
    () => '来自另一个中心的计划、恢复的备份，或被篡改',
  ],
  [/^the station is not applying the published schedule$/, () => '站点没有应用中心下发的计划'],
  [/^the station rejected the schedule \((.*)\)$/, (m) => `站点拒绝了下发的计划（${m[1]}）`],
  [
    /^the sun is behind the satellite as seen from the dish: expected, not a fault$/,
    () => '从天线看去太阳位于卫星背后：属预期现象，不是故障',
  ],
  [/^(.+)$/, (m) => CREDENTIAL_CAUSES[m[1]] ?? null],
  [
    /^(failed|degraded): (.*)$/s,
    (m, a) => {
      const what = m[1] === 'failed' ? '录像失败' : '录像有缺陷';
      // No reason: the engine wrote the row's failure in lower case; say the row's zh failure instead.
      const row = FAILURE_ROWS[a?.cause?.row];
      if (row && m[2] === row.en.failure.toLowerCase()) return `${what}：${row.zh.failure}`;
      const zh = reasonZh(m[2]);
      return zh ? `${what}：${zh}` : null;
    },
  ],
];

/** The alarm's cause sentence in Chinese, or null when the table does not know it. */
export function causeZh(a) {
  const text = a?.cause?.text ?? '';
  for (const [re, zh] of CAUSES_ZH) {
    const m = re.exec(text);
    if (!m) continue;
    const said = zh(m, a);
    if (said) return said;
  }
  return null;
}
