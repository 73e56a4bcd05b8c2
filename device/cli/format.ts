/**
 * What the technician reads (pure): a status block, the one-line watch reading, identity, errors.
 * Margin is shown with its policy level (DOMAIN.md §2: healthy ≥ 3 dB, warning < 3, alarm < 1, est.).
 */
import { classifyMargin } from '../../protocol/link-budget.js';
import type { ReceiverError, ReceiverIdentity, ReceiverStatus } from '../receiver/driver.js';
import type { AgentSocketError, AgentStatus, HoldInfo } from './control-client.js';

const dash = '—';

function db(v: number | null, signed = false): string {
  if (v === null) return dash;
  const s = v.toFixed(1);
  return `${signed && v >= 0 ? '+' : ''}${s} dB`;
}

function ber(v: number | null): string {
  return v === null ? dash : v.toExponential(1);
}

function tuned(s: ReceiverStatus): string {
  const t = s.tuned;
  if (!t) return dash;
  const parts = [
    `${t.frequencyMHz} MHz ${t.polarisation}`,
    `${t.symbolRateKsps} ksym/s`,
    [t.system, t.modulation, t.fec].filter((x) => x !== null).join(' '),
    `LO ${t.lnbLoMHz}`,
  ];
  if (t.input !== null) parts.push(`input ${t.input}`);
  return parts.join('  ');
}

function marginText(s: ReceiverStatus): string {
  if (s.marginDb === null) return dash;
  return `${db(s.marginDb, true)} (${classifyMargin(s.marginDb)})`;
}

/** The `status` command's block. */
export function formatStatus(s: ReceiverStatus, via: string): string {
  const rows: [string, string][] = [
    ['via', via],
    ['lock', s.locked ? 'LOCKED' : 'NO LOCK'],
    ['level', s.levelRaw === null ? dash : `${s.levelRaw}/255`],
    ['C/N', db(s.cnDb)],
    ['margin', marginText(s)],
    ['BER', ber(s.ber)],
    ['LNB', s.lnb],
    ['alarms', s.alarms.length ? s.alarms.join(', ') : 'none'],
    ['tuned', tuned(s)],
    ['service', s.serviceId === null ? 'none' : String(s.serviceId)],
  ];
  return rows.map(([k, v]) => `${k.padEnd(8)}${v}`).join('\n');
}

/** One `watch` reading: fixed-width so successive lines (or the rewritten line) line up. */
export function formatWatchLine(s: ReceiverStatus, at: Date): string {
  const time = at.toISOString().slice(11, 19);
  const lock = s.locked ? 'LOCKED ' : 'NO LOCK';
  const level = s.levelRaw === null ? dash : String(s.levelRaw).padStart(3);
  const margin = s.marginDb === null ? dash : `${db(s.marginDb, true)} ${classifyMargin(s.marginDb)}`;
  return `${time}Z  ${lock}  level ${level}  C/N ${db(s.cnDb).padStart(7)}  margin ${margin.padEnd(16)}  BER ${ber(s.ber).padEnd(7)}  LNB ${s.lnb}`;
}

export function formatIdentity(id: ReceiverIdentity, via: string): string {
  return [
    ['via', via],
    ['family', id.family],
    ['model', id.model],
    ['address', String(id.address).padStart(3, '0')],
    ['firmware', id.firmware ?? 'not reported'],
    ['serial', id.serial ?? 'not reported'],
  ]
    .map(([k, v]) => `${(k ?? '').padEnd(9)}${v}`)
    .join('\n');
}

const clock = (iso: string) => `${iso.slice(11, 19)}Z`;

function holdText(h: HoldInfo | undefined): string {
  if (!h) return 'none';
  return `${h.holder} until ${clock(h.until)}${h.reason ? ` (${h.reason})` : ''}`;
}

function runningText(a: AgentStatus): string {
  if (a.running.length === 0) return 'nothing';
  return a.running
    .map(
      (r) =>
        `${r.entryId} (${r.state}${r.service ? `, ${r.service}` : ''}${r.receiverId ? ` on ${r.receiverId}` : ''})`,
    )
    .join(', ');
}

/** What the agent is doing, under the `status` block when the CLI goes through it. */
export function formatAgent(a: AgentStatus): string {
  return [
    ['hold', holdText(a.state.maintenance)],
    ['running', runningText(a)],
  ]
    .map(([k, v]) => `${(k ?? '').padEnd(8)}${v}`)
    .join('\n');
}

/** The `hold` command's answer: until when, whether the agent shortened it, what keeps running. */
export function formatHold(h: HoldInfo, askedMs: number, nowMs: number, a: AgentStatus): string {
  const grantedMs = Date.parse(h.until) - nowMs;
  const length = (ms: number) =>
    ms < 120_000 ? `${Math.max(0, Math.round(ms / 1000))} s` : `${Math.round(ms / 60_000)} min`;
  const capped = grantedMs < askedMs - 2000 ? ` (the agent's maximum; ${length(askedMs)} asked)` : '';
  return [
    `maintenance hold: ${holdText(h)}, ${length(grantedMs)}${capped}`,
    'the agent tunes and starts nothing new until then; what runs now goes on',
    `running  ${runningText(a)}`,
    'end it with: ruralsat-rx release',
  ].join('\n');
}

/** A receiver or agent error for a human: the code, the message, and what to try. */
export function formatError(err: ReceiverError | AgentSocketError): string {
  if (err.name === 'AgentSocketError') {
    const e = err as AgentSocketError;
    return `error ${e.code}: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`;
  }
  return formatReceiverError(err as ReceiverError);
}

function formatReceiverError(err: ReceiverError): string {
  const hint: Partial<Record<ReceiverError['code'], string>> = {
    TIMEOUT:
      'check the cable, the baud rate (9600 8N1) and the --address; a bad checksum or a wrong address gets no reply at all',
    BUSY: 'another program holds the port; when the agent runs, drop --direct to go through its control socket',
    PORT_NOT_FOUND: 'list the adapters with: ls -l /dev/serial/by-id/',
    NO_LOCK: 'check the dish, the LNB and the cable; compare the level with a working station',
    MISMATCH: 'the receiver accepted the command but did not act on it; try again, then power-cycle it',
    UNSUPPORTED: 'this receiver family cannot do that remotely',
  };
  const h = hint[err.code];
  return `error ${err.code}: ${err.message}${h ? `\n  hint: ${h}` : ''}`;
}
