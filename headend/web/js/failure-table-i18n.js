// The failure table (DOMAIN.md §6, as data in protocol/failures.ts) and every alarm kind's summary
// (protocol/registry.ts) in Chinese and English, for the technician's alarm texts (cause-i18n.js). The English
// is verbatim: tests/unit/ui-cause-i18n.test.ts compares it with the protocol's, so a new row or kind without
// a translation fails there.

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
    zh: { failure: '冰雪衰落', respond: '迟滞判断；在录像上标注；不重启设备' },
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
