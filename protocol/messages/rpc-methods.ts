/**
 * Params and result of every diagnostics RPC method (DESIGN.md §6), keyed by the method names of the
 * registry (`RPC_METHODS`, which also says which methods have side effects).
 */
import { z } from 'zod';
import { Plan } from '../planner/types.js';
import { ExecutionState, LnbState, RecordingOutcome, type RpcMethod } from '../registry.js';
import { Id, ServiceKey, UtcTimestamp } from './common.js';
import { ReceiverSignal } from './telemetry.js';

const bytes = z.number().int().nonnegative();
const receiverSelector = z.strictObject({ receiverId: Id.optional() });
const oneReceiver = z.strictObject({ receiverId: Id });

/** `receiver.status`: live status read from the receiver now (not the last telemetry). */
export const ReceiverStatus = ReceiverSignal.extend({
  /** Receiver alarms by name (e.g. the RX8200 alarm bitmap decoded). */
  alarms: z.array(z.string().min(1).max(64)).max(64),
});

/** `receiver.info`: what the receiver is and how it is reached. */
export const ReceiverInfo = z.strictObject({
  id: Id,
  family: z.string().regex(/^[a-z0-9-]{1,32}$/),
  model: z.string().max(100).nullable(),
  firmware: z.string().max(100).nullable(),
  serial: z.string().max(100).nullable(),
  transport: z.enum(['serial', 'tcp']),
  /** Serial path (`/dev/serial/by-id/…`) or `host:port`. */
  endpoint: z.string().min(1).max(255),
  /** Remote-control address (RX8200: 000–999, DOMAIN.md §3). */
  address: z.number().int().min(0).max(999).nullable(),
  outputs: z.enum(['service', 'transponder']),
});

/** Execution state of an occurrence the executor has already started or finished. */
const ExecutionRecord = z.strictObject({
  entryId: Id,
  nominalStart: UtcTimestamp,
  state: ExecutionState,
  reason: z.string().max(500).nullable(),
});

const LogEntry = z.strictObject({
  at: UtcTimestamp,
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
  module: z.string().max(100).optional(),
  msg: z.string().max(2000),
});

const RecordingSummary = z.strictObject({
  recordingId: Id,
  entryId: Id,
  nominalStart: UtcTimestamp,
  title: z.string().min(1).max(200),
  service: ServiceKey,
  start: UtcTimestamp,
  end: UtcTimestamp,
  bytes,
  durationMs: z.number().int().nonnegative(),
  quality: z.number().min(0).max(100),
  outcome: RecordingOutcome,
  protected: z.boolean(),
  clockTrusted: z.boolean(),
  files: z.array(z.string().min(1).max(255)).max(1000),
});

/** Retention (DESIGN.md §6, Recorder): oldest unprotected first, keep-N per entry, never a running one. */
export const RetentionPolicy = z.strictObject({
  /** Delete unprotected recordings older than this many days; `null` = no age limit. */
  maxAgeDays: z.number().int().positive().nullable(),
  /** Recordings may use at most this much; `null` = no quota. */
  quotaBytes: bytes.nullable(),
  /** Keep at least this much free on the filesystem; below it new recordings are refused. */
  minFreeBytes: bytes,
  /** Default keep-N per entry when the entry gives none; `null` = unlimited. */
  keepPerEntry: z.number().int().positive().nullable(),
});

/** One method's schemas. */
export interface RpcMethodSchemas {
  params: z.ZodType;
  result: z.ZodType;
}

/** Params and result of every method in the registry. */
export const RPC_SCHEMAS = {
  'receiver.status': {
    params: receiverSelector,
    result: z.strictObject({ receivers: z.array(ReceiverStatus).max(8) }),
  },
  'receiver.info': {
    params: receiverSelector,
    result: z.strictObject({ receivers: z.array(ReceiverInfo).max(8) }),
  },
  'receiver.retune': {
    /** Without `service`, re-apply the desired tuning (DOMAIN.md §6: receivers forget settings). */
    params: z.strictObject({ receiverId: Id, service: ServiceKey.optional() }),
    result: z.strictObject({
      receiverId: Id,
      service: ServiceKey.nullable(),
      /** Read back after the tune (ACK is not success, DOMAIN.md §3). */
      verified: z.boolean(),
      locked: z.boolean(),
      marginDb: z.number().nullable(),
    }),
  },
  'receiver.reset': {
    params: oneReceiver,
    result: z.strictObject({
      receiverId: Id,
      lockedAfter: z.boolean(),
      tookMs: z.number().int().nonnegative(),
    }),
  },
  'receiver.lnb': {
    /** `cycle` = off, wait, on: the one power cycle DOMAIN.md §6 allows for an LNB fault. */
    params: z.strictObject({ receiverId: Id, power: z.enum(['on', 'off', 'cycle']) }),
    result: z.strictObject({ receiverId: Id, power: z.enum(['on', 'off']), lnb: LnbState }),
  },
  'stream.probe': {
    params: z.strictObject({ receiverId: Id.optional(), durationMs: z.number().int().min(1000).max(30_000) }),
    /**
     * The optional fields are the ETSI TR 101 290 priority-1 indicators (DOMAIN.md §4) an agent that reads
     * the raw transport stream can report; an agent that only runs ffprobe omits them.
     */
    result: z.strictObject({
      url: z.string().min(1).max(500),
      bitrateBps: z.number().nonnegative(),
      ccErrors: z.number().int().nonnegative(),
      /** Length of the capture, ms. */
      capturedMs: z.number().int().nonnegative().optional(),
      /** TS packets read, and bytes skipped to regain sync (0x47 every 188 bytes). */
      packets: z.number().int().nonnegative().optional(),
      syncLossBytes: z.number().int().nonnegative().optional(),
      /** Packets the demodulator flagged uncorrectable (transport_error_indicator). */
      transportErrors: z.number().int().nonnegative().optional(),
      /** A valid PAT (PID 0) was seen. */
      patPresent: z.boolean().optional(),
      /** PIDs a PMT references that carried no packet. */
      missingPids: z.array(z.number().int().min(0).max(8191)).max(64).optional(),
      services: z
        .array(
          z.strictObject({
            serviceId: z.number().int().min(1).max(65535),
            name: z.string().max(120).nullable(),
            /** SDT service provider. */
            provider: z.string().max(120).nullable().optional(),
            scrambled: z.boolean(),
            /** A valid PMT for this service was seen. */
            pmtPresent: z.boolean().optional(),
            streams: z
              .array(
                z.strictObject({
                  pid: z.number().int().min(0).max(8191),
                  type: z.enum(['video', 'audio', 'subtitle', 'data']),
                  codec: z.string().max(32).nullable(),
                  /** Continuity-counter errors on this PID. */
                  ccErrors: z.number().int().nonnegative().optional(),
                  /** Share of this PID's packets with scrambling bits set, 0–1. */
                  scrambledRatio: z.number().min(0).max(1).optional(),
                }),
              )
              .max(64),
          }),
        )
        .max(256),
    }),
  },
  'plan.explain': {
    params: z
      .strictObject({ from: UtcTimestamp, to: UtcTimestamp, entryId: Id.optional() })
      .refine((p) => Date.parse(p.to) > Date.parse(p.from), {
        path: ['to'],
        message: 'to must be after from',
      }),
    result: z.strictObject({
      /** The station's own plan of its applied schedule (protocol/planner); `null` when none is applied. */
      plan: Plan.nullable(),
      /** What the executor has done so far with the occurrences of the window. */
      execution: z.array(ExecutionRecord).max(2000),
    }),
  },
  'logs.tail': {
    params: z.strictObject({
      lines: z.number().int().min(1).max(1000),
      minLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional(),
      module: z.string().min(1).max(100).optional(),
    }),
    result: z.strictObject({ entries: z.array(LogEntry).max(1000), truncated: z.boolean() }),
  },
  'disk.usage': {
    params: z.strictObject({}),
    result: z.strictObject({
      path: z.string().min(1).max(255),
      totalBytes: bytes,
      freeBytes: bytes,
      recordingsBytes: bytes,
      quotaBytes: bytes.nullable(),
      readOnly: z.boolean(),
    }),
  },
  'recordings.list': {
    params: z.strictObject({
      from: UtcTimestamp.optional(),
      to: UtcTimestamp.optional(),
      entryId: Id.optional(),
      limit: z.number().int().min(1).max(500),
      /** Opaque cursor from the previous page. */
      cursor: z.string().min(1).max(200).optional(),
    }),
    result: z.strictObject({
      recordings: z.array(RecordingSummary).max(500),
      nextCursor: z.string().min(1).max(200).nullable(),
    }),
  },
  'recordings.protect': {
    params: z.strictObject({ recordingId: Id, protect: z.boolean() }),
    result: z.strictObject({ recordingId: Id, protected: z.boolean() }),
  },
  'recordings.delete': {
    params: z.strictObject({ recordingId: Id }),
    result: z.strictObject({ recordingId: Id, freedBytes: bytes }),
  },
  'recordings.retention': {
    /** Without `policy`, read it; with `sweep`, apply it now. */
    params: z.strictObject({ policy: RetentionPolicy.partial().optional(), sweep: z.boolean().optional() }),
    result: z.strictObject({
      policy: RetentionPolicy,
      swept: z.strictObject({ deleted: z.number().int().nonnegative(), freedBytes: bytes }).optional(),
    }),
  },
  'clock.exchange': {
    /**
     * NTP-style (DESIGN.md §6, Clock): `t1` = headend send time (headend clock, ms since epoch); the headend
     * computes offset and RTT from the reply and hands its filtered estimate back in the next exchange.
     */
    params: z.strictObject({
      t1: z.number().int().nonnegative(),
      estimate: z
        .strictObject({
          offsetMs: z.number(),
          rttMs: z.number().nonnegative(),
          samples: z.number().int().positive(),
        })
        .optional(),
    }),
    /** `t2` = station receive time, `t3` = station send time (station clock, ms since epoch). */
    result: z.strictObject({
      t1: z.number().int().nonnegative(),
      t2: z.number().int().nonnegative(),
      t3: z.number().int().nonnegative(),
    }),
  },
} as const satisfies Record<RpcMethod, RpcMethodSchemas>;

export type RpcParams<M extends RpcMethod> = z.infer<(typeof RPC_SCHEMAS)[M]['params']>;
export type RpcResult<M extends RpcMethod> = z.infer<(typeof RPC_SCHEMAS)[M]['result']>;
