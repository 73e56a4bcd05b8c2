/**
 * The ready-to-install agent config file the headend hands out with a new (or rotated) credential. It is
 * the only place the secret is ever written; the headend keeps only the hash. Its shape is the agent's own
 * config (device/config.ts `AgentConfigSchema`, which the headend may not import — DESIGN.md §2); the
 * contract test tests/contract/provisioned-agent-config.test.ts parses this output with the agent's schema
 * so the two cannot drift. Fields the agent defaults (disk quota, timing, log level) are left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { StationId, TimeZone } from '../../protocol/messages/common.js';
import type { Station, StationReceiver } from '../store/stations.js';

/** The agent config file, as written by `provision` and `rotate`. */
export const AgentConfigFile = z
  .object({
    /** The station id: MQTT username and client id (DESIGN.md §4). */
    stationId: StationId,
    broker: z
      .object({
        /** `mqtt://` on loopback or `mqtts://` (DESIGN.md §4: TLS off loopback). */
        url: z.url({ protocol: /^mqtts?$/ }),
        /** MQTT username (= stationId). */
        username: StationId,
        /** The station secret, shown once; the headend keeps only its `$7$` hash. */
        password: z.string().min(22),
      })
      .strict(),
    /** MQTT topic root (`ruralsat/v1`). */
    topicRoot: z.string().min(1),
    /** The receiver the agent drives (DOMAIN.md §3). */
    receiver: z
      .object({
        id: z.string().min(1),
        family: z.literal('rx8200'),
        /** Serial: a `/dev/serial/by-id/…` path (adapters renumber, DOMAIN.md §6); tcp: a ser2net-style server. */
        transport: z.discriminatedUnion('type', [
          z.object({ type: z.literal('serial'), path: z.string().min(1) }).strict(),
          z
            .object({
              type: z.literal('tcp'),
              host: z.string().min(1),
              port: z.number().int().min(1).max(65535),
            })
            .strict(),
        ]),
        /** RX8200 bus address 000–999 (DOMAIN.md §3). */
        address: z.number().int().min(0).max(999),
      })
      .strict(),
    /** The receiver's MPEG-TS output the recorder reads (DOMAIN.md §4). */
    streamUrl: z.string().min(1),
    /** Where the agent writes recordings. */
    recordingsDir: z.string().min(1),
    /** Where the agent keeps its database. */
    dataDir: z.string().min(1),
    /** The station's local time zone (DOMAIN.md §1: Asia/Shanghai). */
    timeZone: TimeZone,
  })
  .strict();
export type AgentConfigFile = z.infer<typeof AgentConfigFile>;

/** Headend-wide values for fields the registry does not hold per station (headend config `agentDefaults`). */
export interface AgentDefaults {
  recordingsDir: string;
  dataDir: string;
  streamUrl: string;
  receiverTransport: 'serial' | 'tcp';
  receiverAddress: string;
}

/** Inputs of `renderAgentConfig`. */
export interface AgentConfigInputs {
  station: Station;
  secret: string;
  brokerUrl: string;
  topicRoot: string;
  timeZone: string;
  defaults: AgentDefaults;
}

/** `host:port` → parts (the registry validates tcp addresses in this form). */
function hostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (!m) throw new TypeError(`receiver address ${JSON.stringify(address)} is not host:port`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

function transportOf(transport: 'serial' | 'tcp', address: string): AgentConfigFile['receiver']['transport'] {
  return transport === 'tcp' ? { type: 'tcp', ...hostPort(address) } : { type: 'serial', path: address };
}

/** Builds the agent config of a station (its first registered receiver, else the configured default). */
export function renderAgentConfig(i: AgentConfigInputs): AgentConfigFile {
  const rx: StationReceiver | undefined = i.station.receivers[0];
  return AgentConfigFile.parse({
    stationId: i.station.id,
    broker: { url: i.brokerUrl, username: i.station.id, password: i.secret },
    topicRoot: i.topicRoot,
    receiver: rx
      ? {
          id: rx.id,
          family: rx.family,
          transport: transportOf(rx.transport, rx.address),
          address: rx.busAddress,
        }
      : {
          id: 'rx1',
          family: 'rx8200',
          transport: transportOf(i.defaults.receiverTransport, i.defaults.receiverAddress),
          address: 2,
        },
    streamUrl: rx?.streamUrl ?? i.defaults.streamUrl,
    recordingsDir: i.defaults.recordingsDir,
    dataDir: i.defaults.dataDir,
    timeZone: i.timeZone,
  });
}

/** Writes the file readable by its owner only (it holds the secret); refuses to overwrite. */
export function writeAgentConfig(file: string, cfg: AgentConfigFile): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
}
