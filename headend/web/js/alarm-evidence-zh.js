// An alarm's evidence in Chinese, rewritten from its facts (issue 8: "each alarm names … the evidence"). The
// facts are the figures the engine and the agent put beside their English sentence:
// headend/alarms/telemetry-rules.ts, station-rules.ts, engine-telemetry.ts (trend), engine-core.ts (sun),
// fleet.ts; the agent's device/detect/**, device/receiver/port-presence.ts, settings-check.ts,
// device/executor/recovery.ts (power cut), device/recorder/disk.ts. A renderer returns null when the facts
// lack what its sentence needs; the caller then shows the English sentence, marked as English.

import { LNB_ZH, reasonZh } from './alarm-causes-zh.js';
import { alarmLabel } from './i18n.js';

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v) => (typeof v === 'string' && v !== '' ? v : null);
const db1 = (v) => `${v.toFixed(1)} dB`;
const signed = (v) => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(1)} dB`;

/** A time from a fact, in the UI's zone; null when it is not a time. */
function when(v, tz) {
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
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

/** A duration for people, in Chinese: "45 秒", "12 分钟", "3.5 小时", "3.0 天". */
export function durationZh(ms) {
  const s = Math.max(0, ms) / 1000;
  if (s < 120) return `${Math.round(s)} 秒`;
  if (s < 120 * 60) return `${Math.round(s / 60)} 分钟`;
  if (s < 36 * 3600) return `${(s / 3600).toFixed(1)} 小时`;
  return `${(s / 86400).toFixed(1)} 天`;
}

/** Bytes in the unit that keeps a digit before the point (as the engine's texts: "1.4 GiB", "600 MiB"). */
function size(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.max(0, bytes);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** The receiver an alarm is about: its facts, else the alarm's subject (a station alarm's receiver). */
const receiverOf = (f, a) => str(f.receiver) ?? str(f.receiverId) ?? str(a?.subject);

/** "节目 svc17（节目号 101）" */
function serviceText(f) {
  const svc = str(f.service);
  if (!svc) return null;
  return `${svc}${num(f.serviceId) !== null ? `（节目号 ${f.serviceId}）` : ''}`;
}

/** Headend disk figures (telemetry-rules.ts diskRules: freeBytes, capacityBytes, freeRatio). */
function diskFigures(f) {
  const free = num(f.freeBytes);
  const cap = num(f.capacityBytes);
  const ratio = num(f.freeRatio);
  if (free === null || cap === null || ratio === null) return null;
  return `剩余 ${Math.round(ratio * 100)} %（${size(free)} / ${size(cap)}）`;
}

/** The agent's refusal (device/recorder/disk.ts `refuse`): only a sentence, so its figures are read back. */
const REFUSAL =
  /^no space for (\d+) bytes: used (\d+) of quota (\S+), free (\d+) \(floor (\d+)\); (\d+) bytes short after retention$/;

function refusalZh(text) {
  const m = REFUSAL.exec(text ?? '');
  if (!m) return null;
  const quota = /^\d+$/.test(m[3]) ? size(Number(m[3])) : '无';
  return (
    `需要 ${size(Number(m[1]))} 录像空间：配额 ${quota} 已用 ${size(Number(m[2]))}，` +
    `剩余 ${size(Number(m[4]))}（保底 ${size(Number(m[5]))}）；清理后仍差 ${size(Number(m[6]))}`
  );
}

/** Settings the receiver reads back (device/receiver/settings-check.ts pairs). */
const SETTING_ZH = {
  frequencyMHz: '频率',
  lnbLoMHz: '本振',
  polarisation: '极化',
  symbolRateKsps: '符号率',
  system: '制式',
  lnbPower: '高频头供电',
  serviceId: '节目号',
};

/** Evidence in Chinese from its facts, per kind (`f` facts, `tz` the UI zone, `a` the whole alarm). */
export const EVIDENCE_ZH = {
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
    const on = str(f.carrier) ? `，载波 ${f.carrier}` : '';
    // The thresholds are the engine's policy (configurable): said only when the alarm carries them.
    const warn = num(f.warningBelowDb);
    const crit = num(f.alarmBelowDb);
    const limits = warn !== null && crit !== null ? `；低于 ${db1(warn)} 警告，低于 ${db1(crit)} 严重` : '';
    return `接收机 ${rx} 余量 ${db1(m)}${detail}${on}${limits}`;
  },
  margin_trend: (f, _tz, a) => {
    const rx = str(f.receiver);
    const change = num(f.changeDb);
    const span = num(f.spanMs);
    const peers = num(f.peers);
    if (!rx || change === null || span === null || peers === null) return null;
    // From/to: facts when the engine carries them, else the figures of its own sentence "(5.3 → 2.5 dB)".
    let from = num(f.fromDb);
    let to = num(f.toDb);
    if (from === null || to === null) {
      const m = /\((-?[\d.]+) → (-?[\d.]+) dB\)/.exec(a?.evidence?.text ?? '');
      from = m ? Number(m[1]) : null;
      to = m ? Number(m[2]) : null;
    }
    const range = from !== null && to !== null ? `（${from.toFixed(1)} → ${to.toFixed(1)} dB）` : '';
    const med = num(f.peerMedianChangeDb);
    const on = str(f.carrier) ? ` ${f.carrier} 上` : '同载波';
    return (
      `接收机 ${rx} 的余量在 ${durationZh(span)}内下降 ${Math.abs(change).toFixed(1)} dB${range}，` +
      `而${on}其他 ${peers} 个站点保持稳定${med !== null ? `（中位变化 ${signed(med)}）` : ''}` +
      ' → 天线偏移或积雪'
    );
  },
  lnb_fault: (f, _tz, a) => {
    const rx = receiverOf(f, a);
    const lnb = str(f.lnb);
    if (rx && lnb) return `接收机 ${rx} 的高频头供电报告${LNB_ZH[lnb] ?? lnb}`;
    return rx && f.rung === 'escalated' ? `接收机 ${rx} 的高频头故障：断电重启后仍未恢复，需现场检修` : null;
  },
  receiver_unresponsive: (f, _tz, a) => {
    const rx = receiverOf(f, a);
    if (!rx) return null;
    if (f.link === 'down' && f.portMissing === true) return `接收机 ${rx} 的控制串口缺失（见串口缺失告警）`;
    if (f.link === 'down') return `接收机 ${rx} 的控制口没有应答`;
    if (f.rung === 'escalated' && f.problem === 'unresponsive')
      return `接收机 ${rx} 无应答：重新下发参数无效，且此接收机不能远程复位`;
    if (f.rung === 'escalated' && f.problem === 'no-lock')
      return `接收机 ${rx} 失锁：重新下发参数无效，且此接收机不能远程复位`;
    return null;
  },
  stream_frozen: (f, _tz, a) => {
    const rx = receiverOf(f, a);
    if (!rx) return null;
    if (f.rung === 'escalated') return `接收机 ${rx} 报告锁定但输出冻结：自动恢复无效`;
    const m = num(f.marginDb);
    const entry = str(f.entryId) ? ` ${f.entryId} 的` : '';
    return `接收机 ${rx} 报告锁定${m !== null ? `（余量 ${db1(m)}）` : ''}，但${entry}录像收到 0 bit/s`;
  },
  recorder_stalled: (f) => {
    const b = num(f.bytes);
    const r = num(f.bitrateBps);
    if (b === null || r === null) return null;
    const entry = str(f.entryId) ? `${f.entryId} 的` : '';
    return `${entry}录像文件停在 ${b} 字节，而输入仍有 ${Math.round(r / 1000)} kbit/s`;
  },
  fleet_signal_lost: (f) => {
    const lost = num(f.lostStations);
    const total = num(f.carrierStations);
    if (lost === null || total === null) return null;
    const spread =
      num(f.spreadMs) !== null && f.spreadMs > 0 ? `（${durationZh(f.spreadMs)}内先后发生）` : '';
    return `${str(f.carrier) ?? '同一载波'} 上 ${total} 个站点中有 ${lost} 个同时失锁${spread}`;
  },
  scrambled: (f, tz, a) => {
    const svc = serviceText(f);
    if (!svc) return null;
    const rx = receiverOf(f, a) ?? '接收机';
    const t = when(f.since, tz);
    // Two detectors (device/detect/alarm-slots.ts): the receiver's CA status, or no decodable picture.
    if (num(f.frames) !== null || num(f.mediaMs) !== null)
      return `${rx} 锁定时节目 ${svc}${t ? `${svc.endsWith('）') ? '' : ' '}自 ${t} 起` : ''}没有可解码的画面：节目加扰（或无法解码）`;
    return `${rx} 报告节目 ${svc}${t ? `${svc.endsWith('）') ? '' : ' '}自 ${t} 起` : ''}加扰，无法解扰（CA 状态）`;
  },
  service_missing: (f, tz, a) => {
    const svc = serviceText(f);
    if (!svc) return null;
    const rx = receiverOf(f, a);
    const t = when(f.since, tz);
    return `${rx ? `${rx} 报告` : ''}节目 ${svc}${t ? `${svc.endsWith('）') ? '' : ' '}自 ${t} 起` : ''}不在码流的 PAT 中：节目已迁移或停播`;
  },
  black_or_silent: (f, tz, a) => {
    const svc = str(f.service);
    const rx = receiverOf(f, a);
    if (!svc || !rx || typeof f.black !== 'boolean' || typeof f.silent !== 'boolean') return null;
    const what = f.black && f.silent ? '黑屏且无声' : f.black ? '黑屏' : '无声';
    const media = num(f.mediaMs);
    const t = when(f.since, tz);
    const m = num(f.marginDb);
    return (
      `节目 ${svc}（${rx}）${media !== null ? `在最近 ${(media / 1000).toFixed(1)} 秒内` : ''}持续${what}` +
      `，射频良好（已锁定${m !== null ? `，余量 ${db1(m)}` : ''}）${t ? `；自 ${t} 起` : ''}`
    );
  },
  power_cut: (f, tz) => {
    if (!('gapMs' in f) || !str(f.lastSeenAt)) return null;
    const last = when(f.lastSeenAt, tz) ?? f.lastSeenAt;
    const gap = num(f.gapMs);
    const n = num(f.occurrencesInProgress) ?? 0;
    const rec = num(f.recordersLeftRunning) ?? 0;
    return (
      `站点代理程序非正常停止后重新启动（断电或崩溃）：最后活动 ${last}，` +
      `${gap === null ? '中断时长未知（时钟早于最后活动时间）' : `中断 ${durationZh(gap)}`}` +
      `；${n > 0 ? `当时有 ${n} 个任务正在进行` : '当时没有在录像'}` +
      `${rec > 0 ? `，遗留 ${rec} 个录像进程` : ''}`
    );
  },
  receiver_settings_lost: (f, _tz, a) => {
    const rx = receiverOf(f, a);
    const differs = typeof f.differs === 'string' ? f.differs.split(',').filter(Boolean) : null;
    if (!rx || !differs) return null;
    const parts = differs.map(
      (n) => `${SETTING_ZH[n] ?? n} 读回 ${String(f[`readBack.${n}`])}（应为 ${String(f[`desired.${n}`])}）`,
    );
    const svc = str(f.service) ? ` ${f.service} 的` : '';
    return `接收机 ${rx} 丢失了参数：${parts.join('，') || '读回与应有的不同'}；正在重新下发${svc}调谐参数`;
  },
  serial_port_missing: (f, tz, a) => {
    const path = str(f.path);
    const ms = num(f.missingMs);
    if (!path || ms === null) return null;
    const rx = receiverOf(f, a);
    const t = when(f.missingSince, tz);
    const was = str(f.lastDevice) ? `（原为 ${f.lastDevice}）` : '';
    return (
      `${rx ? `接收机 ${rx} 的` : ''}控制串口 ${path}${was}已缺失 ${durationZh(ms)}${t ? `（自 ${t} 起）` : ''}` +
      '：USB 串口适配器被拔出或重新编号'
    );
  },
  disk_low: (f) => {
    const d = diskFigures(f);
    return d ? `录像磁盘将满：${d}` : null;
  },
  disk_full: (f, _tz, a) => {
    const d = diskFigures(f);
    if (d) return `录像磁盘已满：${d}`;
    const r = refusalZh(a?.evidence?.text);
    return r ? `录像被拒绝：${r}` : null;
  },
  filesystem_read_only: (f, _tz, a) => {
    const path =
      str(f.path) ??
      str(f.root) ??
      /^recordings filesystem (.+) is read-only/.exec(a?.evidence?.text ?? '')?.[1];
    return path ? `录像文件系统 ${path} 只读（EROFS）：无法写入新录像` : null;
  },
  recording_failed: (f) => recordingZh(f, '失败'),
  recording_degraded: (f) => recordingZh(f, '完成但有错误'),
  clock_untrusted: (f) => {
    const off = num(f.offsetMs);
    const lim = num(f.limitMs);
    const untrusted = f.trusted === false ? '；站点报告其时钟不可信' : '';
    if (off === null)
      return lim !== null || untrusted ? `时钟偏差未知：与中心的时间交换尚未成功${untrusted}` : null;
    if (lim === null) return null;
    const rtt = num(f.rttMs);
    const s = (ms) => `${(Math.abs(ms) / 1000).toFixed(1)} 秒`;
    return (
      `站点时钟比中心${off >= 0 ? '快' : '慢'} ${s(off)}${rtt !== null ? `（往返 ${Math.round(rtt)} ms）` : ''}` +
      `；限值 ${s(lim)}${untrusted}`
    );
  },
  schedule_lag: (f) => {
    if (str(f.rejectedCode))
      return `站点拒绝了计划：${f.rejectedCode}${str(f.reason) ? ` — “${f.reason}”` : ''}`;
    return str(f.desired) ? `站点运行计划 ${str(f.applied) ?? '（无）'}，中心已下发 ${f.desired}` : null;
  },
  schedule_unknown_version: (f) =>
    str(f.applied)
      ? `站点报告计划 ${f.applied}${str(f.appliedHash) ? `（sha256 ${f.appliedHash.slice(0, 12)}…）` : ''}，本中心从未下发过该版本`
      : null,
  credentials_rejected: (f) =>
    str(f.username) && num(f.rejections) !== null
      ? `“${f.username}” 的连接被拒绝 ${f.rejections} 次${str(f.lastReason) ? `（最近一次：${f.lastReason}）` : ''}`
      : null,
  sun_outage: (f, tz) => {
    const from = when(f.windowStart, tz);
    const to = when(f.windowEnd, tz);
    if (!from || !to) return null;
    const peak = when(f.peak, tz);
    const suppressed = str(f.suppressed)
      ? f.suppressed
          .split(', ')
          .map((s) => {
            const m = /^(\w+)(?: on (.+))?$/.exec(s);
            return m ? `${alarmLabel(m[1])}${m[2] ? `（${m[2]}）` : ''}` : s;
          })
          .join('、')
      : null;
    return `预报日凌 ${from} – ${to}${peak ? `（峰值 ${peak}）` : ''}${suppressed ? `；暂不告警：${suppressed}` : ''}`;
  },
  event_conflict: (f) =>
    num(f.seq) !== null && str(f.storeId)
      ? `站点重发了存储 ${f.storeId} 的事件 ${f.seq}${str(f.type) ? `（${f.type}）` : ''}，但内容不同`
      : null,
  outbox_quarantined: (f, _tz, a) => {
    if (num(f.seq) === null) return null;
    const why = /quarantined: (.+)$/s.exec(a?.evidence?.text ?? '')?.[1];
    return `事件 ${f.seq} 多次被拒后已隔离${why ? `：“${why}”` : ''}`;
  },
};

/** A recording alarm's evidence (station-rules.ts recordingReports facts). */
function recordingZh(f, what) {
  const id = str(f.recordingId);
  const entry = str(f.entryId);
  if (!id || !entry) return null;
  const q = num(f.quality);
  const why = reasonZh(f.reason);
  return (
    `${entry} 的录像 ${id} ${what}${q !== null ? `，质量 ${Math.round(q)}/100` : ''}` +
    `${why ? `：${why}` : str(f.reason) ? `：“${f.reason}”` : ''}`
  );
}
