/**
 * The agent's diagnostics RPC methods (DESIGN.md §6 "Diagnostics RPC"): the dispatcher (rpc.ts) validates,
 * judges expiry and journals side-effecting rids; these functions do the work. Methods not here are
 * answered `REFUSED` (logs.tail, stream.probe, recordings.retention come with the diagnostics work).
 */
import { rm } from 'node:fs/promises';
import type { RpcResult } from '../../protocol/messages/rpc-methods.js';
import { boundReceiverAlarms, type ReceiverSignal } from '../../protocol/messages/telemetry.js';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import type { LnbState } from '../../protocol/registry.js';
import type { AgentConfig } from '../config.js';
import type { Executor } from '../executor/executor.js';
import type { ReceiverControl } from '../executor/receiver-control.js';
import type { ReceiverStatus as DriverStatus } from '../receiver/driver.js';
import { isReceiverError } from '../receiver/driver.js';
import type { DiskGuard } from '../recorder/disk.js';
import { directoryBytes, insideRoot } from '../recorder/retention.js';
import type { StationStore } from '../store/db.js';
import type { ClockSync } from './clock.js';
import { RpcFailure, type RpcHandlers } from './rpc.js';

/** Driver LNB names → protocol names. */
function lnbOf(s: DriverStatus['lnb'] | undefined): LnbState {
  if (s === 'no-load') return 'no_load';
  return s ?? 'unknown';
}

const round = (x: number | null, digits = 1) =>
  x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits;
const clamp = (x: number | null, lo: number, hi: number) =>
  x === null ? null : Math.min(hi, Math.max(lo, x));

/** A receiver's signal as telemetry and the state report it (from a status reading). */
export function signalOf(rc: ReceiverControl, s: DriverStatus | null = rc.lastStatus): ReceiverSignal {
  return {
    id: rc.id,
    link: rc.linkUp ? 'up' : 'down',
    locked: s?.locked ?? false,
    service: rc.service,
    level: s?.levelRaw !== null && s?.levelRaw !== undefined ? { value: s.levelRaw, unit: 'raw' } : null,
    cnDb: clamp(round(s?.cnDb ?? null), -30, 60),
    marginDb: clamp(round(s?.marginDb ?? null), -60, 60),
    ber: clamp(s?.ber ?? null, 0, 1),
    lnb: lnbOf(s?.lnb),
    // The receiver's own alarms ride along so the headend sees a scrambled or missing service in the
    // same message as the starved recorder (DOMAIN.md §6); omitted before the first status reading.
    ...(s ? { alarms: boundReceiverAlarms(s.alarms) } : {}),
    // A missing USB-serial port is not a hung receiver: the headend names the right cause at once.
    ...(rc.portMissing ? { portMissing: true } : {}),
  };
}

export interface RpcHandlerDeps {
  store: StationStore;
  executor: Executor;
  receivers: ReadonlyMap<string, ReceiverControl>;
  clockSync: ClockSync;
  /** Headend time (corrected). */
  now: () => number;
  /** The station's local clock, uncorrected. */
  localNow: () => number;
  log: { warn(o: object, m: string): void };
  disk: DiskGuard;
  recordingsRoot: string;
  receiverInfo: (rc: ReceiverControl) => {
    transport: 'serial' | 'tcp';
    endpoint: string;
    address: number | null;
  };
  tuningOf: (service: string) => ServiceTuning | undefined;
}

function pick(deps: RpcHandlerDeps, receiverId: string | undefined): ReceiverControl[] {
  if (receiverId === undefined) return [...deps.receivers.values()];
  const rc = deps.receivers.get(receiverId);
  if (!rc) throw new RpcFailure('NOT_FOUND', `no receiver ${receiverId} on this station`);
  return [rc];
}

async function receiverCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isReceiverError(err))
      throw new RpcFailure('RECEIVER_ERROR', `${err.code}: ${err.message}`, { code: err.code });
    throw err;
  }
}

export function rpcHandlers(deps: RpcHandlerDeps): RpcHandlers {
  const one = (id: string) => pick(deps, id)[0] as ReceiverControl;
  return {
    'clock.exchange': (params, ctx) => {
      if (params.estimate) {
        const r = deps.clockSync.addEstimate(params.estimate);
        if (!r.ok) deps.log.warn({ estimate: params.estimate, reason: r.reason }, 'clock estimate refused');
      }
      // T2 and T3 are the station's own, uncorrected clock: the exchange measures exactly that clock.
      return { t1: params.t1, t2: Math.round(ctx.receivedAt), t3: Math.round(deps.localNow()) };
    },
    'plan.explain': (p) => deps.executor.explain(Date.parse(p.from), Date.parse(p.to), p.entryId),
    'receiver.status': async (p) => {
      const receivers: RpcResult<'receiver.status'>['receivers'] = [];
      for (const rc of pick(deps, p.receiverId)) {
        const s = await receiverCall(() => rc.status());
        receivers.push({ ...signalOf(rc, s), alarms: s.alarms.slice(0, 64).map((a) => a.slice(0, 64)) });
      }
      return { receivers };
    },
    'receiver.info': async (p) => {
      const receivers: RpcResult<'receiver.info'>['receivers'] = [];
      for (const rc of pick(deps, p.receiverId)) {
        const id = await receiverCall(() => rc.run((d) => d.identify()));
        receivers.push({
          id: rc.id,
          family: id.family,
          model: id.model.slice(0, 100),
          firmware: id.firmware,
          serial: id.serial,
          ...deps.receiverInfo(rc),
          outputs: rc.driver.capabilities.output,
        });
      }
      return { receivers };
    },
    'receiver.reset': async (p) => {
      const rc = one(p.receiverId);
      const t0 = deps.now();
      await receiverCall(() => rc.run((d) => d.reset()));
      const s = await receiverCall(() => rc.status());
      return { receiverId: rc.id, lockedAfter: s.locked, tookMs: Math.max(0, Math.round(deps.now() - t0)) };
    },
    'receiver.lnb': async (p) => {
      const rc = one(p.receiverId);
      await receiverCall(() =>
        rc.run(async (d) => {
          if (p.power === 'cycle') {
            await d.setLnbPower(false);
            await new Promise((r) => setTimeout(r, 2000));
            await d.setLnbPower(true);
          } else {
            await d.setLnbPower(p.power === 'on');
          }
        }),
      );
      const s = await receiverCall(() => rc.status());
      return { receiverId: rc.id, power: p.power === 'off' ? 'off' : 'on', lnb: lnbOf(s.lnb) };
    },
    'receiver.retune': async (p) => {
      const rc = one(p.receiverId);
      const service = p.service ?? rc.service;
      if (!service) throw new RpcFailure('REFUSED', 'the receiver holds no tuning; name a service');
      const tuning = deps.tuningOf(service);
      if (!tuning)
        throw new RpcFailure('NOT_FOUND', `service ${service} is not in the applied schedule's tuning`);
      rc.invalidate();
      const s = await receiverCall(() => rc.ensure({ sharingKey: `service:${service}`, tuning }));
      return { receiverId: rc.id, service, verified: true, locked: s.locked, marginDb: round(s.marginDb) };
    },
    'disk.usage': async () => {
      const u = await deps.disk.usage();
      return {
        path: deps.recordingsRoot.slice(0, 255),
        totalBytes: u.totalBytes,
        freeBytes: u.freeBytes,
        recordingsBytes: u.usedBytes,
        quotaBytes: u.quotaBytes > 0 ? u.quotaBytes : null,
        readOnly: u.readOnly,
      };
    },
    'recordings.list': (p) => {
      const from = p.from ? Date.parse(p.from) : Number.NEGATIVE_INFINITY;
      const to = p.to ? Date.parse(p.to) : Number.POSITIVE_INFINITY;
      const after = p.cursor ? Number(p.cursor) : Number.POSITIVE_INFINITY;
      const rows = deps.store.recordings
        .list({ state: 'finished', ...(p.entryId ? { entryId: p.entryId } : {}) })
        .filter((r) => r.id < after && Date.parse(r.plannedStart) < to && Date.parse(r.plannedEnd) > from);
      const page = rows.slice(0, p.limit);
      const recordings = page.map((r) => ({
        recordingId: String(r.id),
        entryId: r.entryId,
        nominalStart: r.nominalStart,
        title: (r.title || r.entryId).slice(0, 200),
        service: r.service,
        start: r.plannedStart,
        end: r.plannedEnd,
        bytes: r.bytes,
        durationMs: r.durationMs,
        quality: r.quality ?? 0,
        outcome: r.outcome ?? 'failed',
        protected: r.protected,
        clockTrusted: r.clockTrusted,
        files: deps.store.recordings
          .segments(r.id)
          .slice(0, 1000)
          .map((s) => s.file.slice(0, 255)),
      }));
      const lastRow = page[page.length - 1];
      return { recordings, nextCursor: rows.length > page.length && lastRow ? String(lastRow.id) : null };
    },
    'recordings.protect': (p) => {
      const id = recordingIdOf(p.recordingId);
      if (!deps.store.recordings.get(id)) throw new RpcFailure('NOT_FOUND', `no recording ${p.recordingId}`);
      const r = deps.store.recordings.setProtected(id, p.protect);
      return { recordingId: p.recordingId, protected: r.protected };
    },
    'recordings.delete': async (p) => {
      const id = recordingIdOf(p.recordingId);
      const rec = deps.store.recordings.get(id);
      if (!rec) throw new RpcFailure('NOT_FOUND', `no recording ${p.recordingId}`);
      if (rec.state === 'running')
        throw new RpcFailure('REFUSED', 'the recording is running; it cannot be deleted');
      const abs = insideRoot(deps.recordingsRoot, rec.dir);
      if (!abs) throw new RpcFailure('INTERNAL', `recording dir ${rec.dir} is outside the recordings root`);
      const freedBytes = await directoryBytes(abs);
      await rm(abs, { recursive: true, force: true });
      deps.store.recordings.remove(id);
      return { recordingId: p.recordingId, freedBytes };
    },
  };
}

function recordingIdOf(id: string): number {
  if (!/^\d{1,15}$/.test(id)) throw new RpcFailure('NOT_FOUND', `no recording ${id}`);
  return Number(id);
}

/** How the receiver is reached, for `receiver.info`. */
export function receiverEndpoint(r: AgentConfig['receiver']): {
  transport: 'serial' | 'tcp';
  endpoint: string;
  address: number | null;
} {
  return r.transport.type === 'serial'
    ? { transport: 'serial', endpoint: r.transport.path, address: r.address }
    : { transport: 'tcp', endpoint: `${r.transport.host}:${r.transport.port}`, address: r.address };
}
