/**
 * Remote remedies offered next to the alarm they fit (issue 8 "Remote remedies where they exist: retune,
 * receiver reset, LNB power cycle, retention run"; DOMAIN.md §6 "Respond" column). Pure: an alarm in, the
 * RPC calls a technician may run for it out, each with the params it needs and why it fits. Where the
 * failure table says not to touch local equipment (black/silent with good RF: upstream) or only a site
 * visit helps (dish alignment), the list holds only read-only checks.
 */

import type { RpcParams } from '../../protocol/messages/rpc-methods.js';
import type { AlarmKind } from '../../protocol/registry.js';
import type { DiagnosticMethod } from './access.js';

/** One offered action. */
export interface Remedy {
  method: DiagnosticMethod;
  params: RpcParams<DiagnosticMethod>;
  /** Why it fits, in a few words (shown on the button's title). */
  why: string;
}

interface AlarmLike {
  kind: AlarmKind;
  subject: string;
  evidence: { facts: Record<string, unknown> };
  /** The failure-table row the engine named (only `recording_failed` depends on it). */
  cause?: { row: string };
}

/**
 * What the headend knows of the station's receivers: the driver family of each (station registry
 * `receivers[].family`, also in the station's state message). A receiver whose family is not known here
 * gets no remote reset.
 */
export interface RemedyContext {
  receiverFamily?: (receiverId: string) => string | null | undefined;
}

/**
 * Remote abilities per driver family, as the drivers declare them (device/receiver/driver.ts
 * `ReceiverCapabilities`): the RX8200 has no remote reset command (device/receiver/drivers/rx8200.ts
 * `reset: false`; its manual documents none) but can switch the LNB supply.
 */
export const RECEIVER_FAMILIES: Readonly<Record<string, { reset: boolean; lnbPower: boolean }>> = {
  rx8200: { reset: false, lnbPower: true },
};

const abilities = (ctx: RemedyContext, rx: string) => {
  const family = ctx.receiverFamily?.(rx);
  return (family ? RECEIVER_FAMILIES[family] : undefined) ?? { reset: false, lnbPower: false };
};

/** The receiver an alarm is about: its subject for receiver alarms, else the evidence's `receiverId`. */
function receiverOf(a: AlarmLike): string | null {
  const fact = a.evidence.facts.receiverId;
  if (typeof fact === 'string' && fact) return fact;
  return /^[A-Za-z0-9_-]{1,64}$/.test(a.subject) && !a.subject.includes(':') ? a.subject : null;
}

const probe = (receiverId: string | null): Remedy => ({
  method: 'stream.probe',
  params: { durationMs: 5000, ...(receiverId ? { receiverId } : {}) },
  why: "look at the receiver's output: services, bitrate, CC errors, scrambling",
});
const status = (receiverId: string | null): Remedy => ({
  method: 'receiver.status',
  params: receiverId ? { receiverId } : {},
  why: 'read lock, level, C/N, margin and LNB state now',
});

/** Remedies (and first checks) for one alarm, most fitting first. */
export function remediesFor(a: AlarmLike, ctx: RemedyContext = {}): Remedy[] {
  const rx = receiverOf(a);
  switch (a.kind) {
    case 'signal_lost':
    case 'receiver_settings_lost':
      return rx
        ? [
            {
              method: 'receiver.retune',
              params: { receiverId: rx },
              why: 're-apply the desired tuning and verify lock',
            },
            status(rx),
          ]
        : [status(rx)];
    case 'receiver_unresponsive':
    case 'stream_frozen': {
      if (!rx) return [probe(rx)];
      const can = abilities(ctx, rx);
      const retune: Remedy = {
        method: 'receiver.retune',
        params: { receiverId: rx },
        why: 're-apply the desired tuning',
      };
      if (can.reset)
        return [
          {
            method: 'receiver.reset',
            params: { receiverId: rx },
            why: 'soft-reset the receiver, then re-tune',
          },
          retune,
          probe(rx),
        ];
      // No remote reset (the RX8200): retune, then an LNB power cycle; past that only a power cycle of the
      // receiver on site helps (DOMAIN.md §6 "Receiver hang").
      return [
        { ...retune, why: 're-apply the desired tuning (no remote reset: if this fails, site visit)' },
        ...(can.lnbPower
          ? [
              {
                method: 'receiver.lnb',
                params: { receiverId: rx, power: 'cycle' },
                why: 'LNB power off/on once, then re-lock (no remote reset: if this fails, site visit)',
              } satisfies Remedy,
            ]
          : []),
        probe(rx),
      ];
    }
    case 'lnb_fault':
      return rx
        ? [
            {
              method: 'receiver.lnb',
              params: { receiverId: rx, power: 'cycle' },
              why: 'LNB power off/on once (DOMAIN.md §6)',
            },
            status(rx),
          ]
        : [status(rx)];
    case 'recording_failed':
      // Retention only helps when the recording failed for lack of space (cause row `disk-full`).
      if (a.cause?.row !== 'disk-full')
        return [
          probe(rx),
          {
            method: 'logs.tail',
            params: { lines: 100, module: 'device/recorder' },
            why: "the recorder's recent log",
          },
        ];
      return [
        {
          method: 'recordings.retention',
          params: { sweep: true },
          why: 'run retention now (oldest unprotected first)',
        },
        { method: 'disk.usage', params: {}, why: 'size, free space, quota, read-only' },
      ];
    case 'disk_low':
    case 'disk_full':
      return [
        {
          method: 'recordings.retention',
          params: { sweep: true },
          why: 'run retention now (oldest unprotected first)',
        },
        { method: 'disk.usage', params: {}, why: 'size, free space, quota, read-only' },
      ];
    case 'filesystem_read_only':
      return [{ method: 'disk.usage', params: {}, why: 'confirm the filesystem is read-only' }];
    case 'recorder_stalled':
    case 'scrambled':
    case 'service_missing':
    case 'recording_degraded':
      return [
        probe(rx),
        {
          method: 'logs.tail',
          params: { lines: 100, module: 'device/recorder' },
          why: "the recorder's recent log",
        },
      ];
    case 'margin_low':
    case 'margin_trend':
      // Fade, snow or alignment: nothing to reset (DOMAIN.md §6 "no reboot"); read the figures.
      return [status(rx)];
    case 'clock_untrusted':
    case 'schedule_lag':
    case 'schedule_unknown_version':
      return [{ method: 'logs.tail', params: { lines: 100 }, why: "the agent's recent log" }];
    default:
      return [];
  }
}
