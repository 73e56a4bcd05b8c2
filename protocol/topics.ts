/**
 * MQTT topic names of the v1 contract (DESIGN.md §4): builders, a parser that returns the station id and
 * kind or a typed error, and the table that describes every topic (MQTT filter matching is in mqtt-filter.ts,
 * re-exported here).
 * The table is the single source the ACL (acl.ts), the message map (messages/index.ts) and PROTOCOL.md's
 * drift test read.
 */
import { STATION_ID_PATTERN } from './messages/common.js';
import { topicNameProblem } from './mqtt-filter.js';

export { filterCoveredBy, filterProblem, topicMatchesFilter, topicNameProblem } from './mqtt-filter.js';

/** Default topic root. A breaking protocol change gets a new root (`ruralsat/v2`), see PROTOCOL.md. */
export const DEFAULT_TOPIC_ROOT = 'ruralsat/v1';

/** Every kind of topic in the contract. */
export const TOPIC_KINDS = [
  'lineup',
  'guide',
  'headend-state',
  'schedule',
  'ack',
  'rpc-req',
  'state',
  'events',
  'telemetry',
  'rpc-res',
] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** Names of the message schemas carried by topics (keys of `MESSAGE_SCHEMAS` in messages/index.ts). */
export type TopicMessage =
  | 'lineup'
  | 'guide-day'
  | 'headend-state'
  | 'schedule'
  | 'ack'
  | 'rpc-request'
  | 'station-state'
  | 'event'
  | 'telemetry'
  | 'rpc-response';

/** Who publishes a topic and who receives it. */
export type TopicDirection = 'headend→all' | 'headend→station' | 'station→headend';

/** One row of the topic table. */
export interface TopicSpec {
  kind: TopicKind;
  /** Topic below the root; `{id}`, `{service}`, `{date}` are the variable levels. */
  pattern: string;
  direction: TopicDirection;
  /** Published with the retain flag (a retained document is the truth, DESIGN.md §4). */
  retained: boolean;
  /** MQTT QoS the publisher uses. */
  qos: 0 | 1;
  /** Schema of the payload. */
  message: TopicMessage;
  /** One line for PROTOCOL.md and error messages. */
  summary: string;
}

/** The topic table of contract v1 (DESIGN.md §4). */
export const TOPIC_TABLE: readonly TopicSpec[] = [
  {
    kind: 'lineup',
    pattern: 'lineup',
    direction: 'headend→all',
    retained: true,
    qos: 1,
    message: 'lineup',
    summary: 'the channel line-up: every service with its transponder and DVB service id',
  },
  {
    kind: 'guide',
    pattern: 'guide/{service}/{date}',
    direction: 'headend→all',
    retained: true,
    qos: 1,
    message: 'guide-day',
    summary: 'programmes of one service for one local day',
  },
  {
    kind: 'headend-state',
    pattern: 'headend/state',
    direction: 'headend→all',
    retained: true,
    qos: 1,
    message: 'headend-state',
    summary: 'headend presence (also its Will)',
  },
  {
    kind: 'schedule',
    pattern: 'st/{id}/schedule',
    direction: 'headend→station',
    retained: true,
    qos: 1,
    message: 'schedule',
    summary: "the station's whole desired schedule document",
  },
  {
    kind: 'ack',
    pattern: 'st/{id}/ack',
    direction: 'headend→station',
    retained: true,
    qos: 1,
    message: 'ack',
    summary: 'the highest event the headend has committed for the station store',
  },
  {
    kind: 'rpc-req',
    pattern: 'st/{id}/rpc/req',
    direction: 'headend→station',
    retained: false,
    qos: 1,
    message: 'rpc-request',
    summary: 'diagnostic / control request',
  },
  {
    kind: 'state',
    pattern: 'st/{id}/state',
    direction: 'station→headend',
    retained: true,
    qos: 1,
    message: 'station-state',
    summary: 'station presence and reported state (also its Will)',
  },
  {
    kind: 'events',
    pattern: 'st/{id}/events',
    direction: 'station→headend',
    retained: false,
    qos: 1,
    message: 'event',
    summary: 'exactly-once events: occurrence lifecycle, manifests, alarms, summaries',
  },
  {
    kind: 'telemetry',
    pattern: 'st/{id}/telemetry',
    direction: 'station→headend',
    retained: false,
    qos: 0,
    message: 'telemetry',
    summary: 'live signal, recorder, disk and host figures',
  },
  {
    kind: 'rpc-res',
    pattern: 'st/{id}/rpc/res',
    direction: 'station→headend',
    retained: false,
    qos: 1,
    message: 'rpc-response',
    summary: 'answer to an RPC request',
  },
];

/** The table row of a kind. */
export function topicSpec(kind: TopicKind): TopicSpec {
  const spec = TOPIC_TABLE.find((s) => s.kind === kind);
  if (!spec) throw new TopicError('UNKNOWN_TOPIC', `no topic of kind ${kind}`);
  return spec;
}

/** Codes of `TopicError`. */
export type TopicErrorCode =
  | 'BAD_ROOT'
  | 'INVALID_TOPIC'
  | 'OUTSIDE_ROOT'
  | 'UNKNOWN_TOPIC'
  | 'BAD_STATION_ID'
  | 'BAD_SERVICE'
  | 'BAD_DATE';

/** A topic that cannot be built or parsed. Thrown by builders (a programming error), returned by `parseTopic`. */
export class TopicError extends Error {
  override readonly name = 'TopicError';
  constructor(
    readonly code: TopicErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Same rule as `ServiceKey` in messages/common.ts: no `/`, `+`, `#`, so it is one safe topic level. */
const SERVICE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** A local calendar day, YYYY-MM-DD. */
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `date` is a real calendar day written YYYY-MM-DD. */
export function isLocalDate(date: string): boolean {
  const m = DATE_PATTERN.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/**
 * Checks a topic root: one or more non-empty levels, no wildcards, no leading `$` (reserved for broker
 * topics, MQTT 3.1.1 §4.7.2), no leading or trailing `/`. Returns an error message or null.
 */
export function rootProblem(root: string): string | null {
  if (root.length === 0) return 'topic root is empty';
  if (root.startsWith('$')) return 'topic root may not start with $ (reserved for broker topics)';
  if (/[+#]/.test(root) || root.includes('\u0000')) return 'topic root may not contain +, # or NUL';
  if (root.split('/').some((l) => l.length === 0)) return 'topic root has an empty level';
  return null;
}

function checkRoot(root: string): void {
  const problem = rootProblem(root);
  if (problem) throw new TopicError('BAD_ROOT', `${problem}: ${JSON.stringify(root)}`);
}

function checkStation(id: string): string {
  if (!STATION_ID_PATTERN.test(id)) {
    throw new TopicError(
      'BAD_STATION_ID',
      `station id must match ${STATION_ID_PATTERN}: ${JSON.stringify(id)}`,
    );
  }
  return id;
}

/** Topic builders for one root. Builders throw `TopicError` on an invalid id, service or date. */
export interface Topics {
  readonly root: string;
  lineup(): string;
  guide(service: string, date: string): string;
  headendState(): string;
  schedule(stationId: string): string;
  ack(stationId: string): string;
  rpcReq(stationId: string): string;
  state(stationId: string): string;
  events(stationId: string): string;
  telemetry(stationId: string): string;
  rpcRes(stationId: string): string;
  /** Filter for every guide day of every service (stations may subscribe to it). */
  guideAll(): string;
  /** Filters over all stations, for the headend. */
  allStates(): string;
  allEvents(): string;
  allTelemetry(): string;
  allRpcRes(): string;
  /** Everything the headend subscribes to. */
  headendSubscriptions(): string[];
  /** Everything a station subscribes to (exactly what the ACL lets it read). */
  stationSubscriptions(stationId: string): string[];
}

/** Topic builders for `root` (default `ruralsat/v1`). Throws `TopicError('BAD_ROOT')` on an invalid root. */
export function topics(root: string = DEFAULT_TOPIC_ROOT): Topics {
  checkRoot(root);
  const st = (id: string, leaf: string) => `${root}/st/${checkStation(id)}/${leaf}`;
  const t: Topics = {
    root,
    lineup: () => `${root}/lineup`,
    guide: (service, date) => {
      if (!SERVICE_PATTERN.test(service)) {
        throw new TopicError('BAD_SERVICE', `not a service key: ${JSON.stringify(service)}`);
      }
      if (!isLocalDate(date))
        throw new TopicError('BAD_DATE', `not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
      return `${root}/guide/${service}/${date}`;
    },
    headendState: () => `${root}/headend/state`,
    schedule: (id) => st(id, 'schedule'),
    ack: (id) => st(id, 'ack'),
    rpcReq: (id) => st(id, 'rpc/req'),
    state: (id) => st(id, 'state'),
    events: (id) => st(id, 'events'),
    telemetry: (id) => st(id, 'telemetry'),
    rpcRes: (id) => st(id, 'rpc/res'),
    guideAll: () => `${root}/guide/#`,
    allStates: () => `${root}/st/+/state`,
    allEvents: () => `${root}/st/+/events`,
    allTelemetry: () => `${root}/st/+/telemetry`,
    allRpcRes: () => `${root}/st/+/rpc/res`,
    headendSubscriptions: () => [t.allStates(), t.allEvents(), t.allTelemetry(), t.allRpcRes()],
    stationSubscriptions: (id) => [
      t.lineup(),
      t.guideAll(),
      t.headendState(),
      t.schedule(id),
      t.ack(id),
      t.rpcReq(id),
    ],
  };
  return t;
}

/** A parsed topic. */
export type ParsedTopic =
  | { kind: 'lineup' | 'headend-state' }
  | { kind: 'guide'; service: string; date: string }
  | {
      kind: 'schedule' | 'ack' | 'rpc-req' | 'state' | 'events' | 'telemetry' | 'rpc-res';
      stationId: string;
    };

export type ParseTopicResult = ({ ok: true } & ParsedTopic) | { ok: false; error: TopicError };

const STATION_LEAVES: Record<string, ParsedTopic['kind']> = {
  schedule: 'schedule',
  ack: 'ack',
  'rpc/req': 'rpc-req',
  state: 'state',
  events: 'events',
  telemetry: 'telemetry',
  'rpc/res': 'rpc-res',
};

/**
 * Parses a topic NAME (not a filter) under `root` into its kind and variables. Never throws: a topic with
 * wildcards, outside the root, of an unknown shape or with an invalid id/service/date gives a typed error.
 */
export function parseTopic(topic: string, root: string = DEFAULT_TOPIC_ROOT): ParseTopicResult {
  const fail = (code: TopicErrorCode, message: string): ParseTopicResult => ({
    ok: false,
    error: new TopicError(code, message),
  });
  const rootErr = rootProblem(root);
  if (rootErr) return fail('BAD_ROOT', rootErr);
  const nameErr = topicNameProblem(topic);
  if (nameErr) return fail('INVALID_TOPIC', nameErr);
  if (!topic.startsWith(`${root}/`)) return fail('OUTSIDE_ROOT', `topic is not under ${root}/: ${topic}`);
  const rest = topic.slice(root.length + 1);
  const levels = rest.split('/');
  if (rest === 'lineup') return { ok: true, kind: 'lineup' };
  if (rest === 'headend/state') return { ok: true, kind: 'headend-state' };
  if (levels[0] === 'guide' && levels.length === 3) {
    const service = levels[1] ?? '';
    const date = levels[2] ?? '';
    if (!SERVICE_PATTERN.test(service)) return fail('BAD_SERVICE', `not a service key: ${service}`);
    if (!isLocalDate(date)) return fail('BAD_DATE', `not a YYYY-MM-DD date: ${date}`);
    return { ok: true, kind: 'guide', service, date };
  }
  if (levels[0] === 'st' && levels.length >= 3) {
    const kind = STATION_LEAVES[levels.slice(2).join('/')];
    if (kind) {
      const stationId = levels[1] ?? '';
      if (!STATION_ID_PATTERN.test(stationId)) {
        return fail('BAD_STATION_ID', `station id must match ${STATION_ID_PATTERN}: ${stationId}`);
      }
      return { ok: true, kind, stationId } as ParseTopicResult;
    }
  }
  return fail('UNKNOWN_TOPIC', `no such topic in contract v1: ${topic}`);
}
