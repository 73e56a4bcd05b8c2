/**
 * The station ACL as data (DESIGN.md §4, "ACL"), the checks an embedded broker runs with it, and its
 * rendering as a Mosquitto `acl_file`. A station may read only `lineup`, `guide/#`, `headend/state` and its
 * own `schedule`, `ack`, `rpc/req`; it may write only its own `state`, `events`, `telemetry`, `rpc/res`;
 * it may set retain only on `state`; its client id must equal its username (Mosquitto was seen accepting
 * station A's secret under B's client id).
 */
import { STATION_ID_PATTERN } from './messages/common.js';
import {
  DEFAULT_TOPIC_ROOT,
  filterCoveredBy,
  filterProblem,
  rootProblem,
  type TopicKind,
  topicMatchesFilter,
  topicNameProblem,
} from './topics.js';

/** One rule of the station ACL. */
export interface AclRule {
  /** The topic kind the rule grants (a row of TOPIC_TABLE). */
  kind: TopicKind;
  /** MQTT filter below the topic root; `%u` is the station's username (= station id = client id). */
  pattern: string;
  /** `read` = subscribe and receive; `write` = publish. */
  access: 'read' | 'write';
  /** Whether a publish with the retain flag is allowed (write rules only). */
  retain: boolean;
}

/** Everything a station may do; anything not listed is refused. */
export const STATION_ACL: readonly AclRule[] = [
  { kind: 'lineup', pattern: 'lineup', access: 'read', retain: false },
  { kind: 'guide', pattern: 'guide/#', access: 'read', retain: false },
  { kind: 'headend-state', pattern: 'headend/state', access: 'read', retain: false },
  { kind: 'schedule', pattern: 'st/%u/schedule', access: 'read', retain: false },
  { kind: 'ack', pattern: 'st/%u/ack', access: 'read', retain: false },
  { kind: 'rpc-req', pattern: 'st/%u/rpc/req', access: 'read', retain: false },
  // The retained state doubles as the Will (DESIGN.md §4, Presence): the only retained station topic.
  { kind: 'state', pattern: 'st/%u/state', access: 'write', retain: true },
  { kind: 'events', pattern: 'st/%u/events', access: 'write', retain: false },
  { kind: 'telemetry', pattern: 'st/%u/telemetry', access: 'write', retain: false },
  { kind: 'rpc-res', pattern: 'st/%u/rpc/res', access: 'write', retain: false },
];

/** Codes of an ACL refusal. */
export type AclDenialCode =
  | 'BAD_ROOT'
  | 'BAD_USERNAME'
  | 'CLIENT_ID_MISMATCH'
  | 'INVALID_FILTER'
  | 'INVALID_TOPIC'
  | 'NOT_READABLE'
  | 'NOT_WRITABLE'
  | 'RETAIN_NOT_ALLOWED';

/** The result of an ACL check. */
export type AclDecision = { ok: true } | { ok: false; code: AclDenialCode; reason: string };

/**
 * Identifies the headend's own MQTT user, which gets full access below the root. Omit it and every
 * client is checked as a station.
 */
export interface HeadendIdentity {
  /** The headend's MQTT username (must not be a provisioned station id). */
  headendUsername?: string | undefined;
}

const ALLOW: AclDecision = { ok: true };
const deny = (code: AclDenialCode, reason: string): AclDecision => ({ ok: false, code, reason });

function expand(rule: AclRule, root: string, username: string): string {
  return `${root}/${rule.pattern.replaceAll('%u', username)}`;
}

function checkUser(username: string, root: string): AclDecision | null {
  const rootErr = rootProblem(root);
  if (rootErr) return deny('BAD_ROOT', rootErr);
  // The username is spliced into a topic: it must be one safe level, never a wildcard (DESIGN.md §4 id rule).
  if (!STATION_ID_PATTERN.test(username)) {
    return deny(
      'BAD_USERNAME',
      `username is not a station id (${STATION_ID_PATTERN}): ${JSON.stringify(username)}`,
    );
  }
  return null;
}

/** CONNECT check: the client id must equal the username, which must be a station id (or the headend's user). */
export function authorizeConnect(
  args: { clientId: string | undefined; username: string | undefined } & HeadendIdentity,
): AclDecision {
  const { clientId, username, headendUsername } = args;
  if (username === undefined || username.length === 0) return deny('BAD_USERNAME', 'no username given');
  if (clientId !== username) {
    return deny(
      'CLIENT_ID_MISMATCH',
      `client id ${JSON.stringify(clientId ?? '')} must equal username ${JSON.stringify(username)}`,
    );
  }
  if (headendUsername !== undefined && username === headendUsername) return ALLOW;
  if (!STATION_ID_PATTERN.test(username)) {
    return deny(
      'BAD_USERNAME',
      `username is not a station id (${STATION_ID_PATTERN}): ${JSON.stringify(username)}`,
    );
  }
  return ALLOW;
}

/**
 * SUBSCRIBE check. A filter is allowed only when EVERY topic it can match is readable by this station, so
 * `ruralsat/v1/st/+/schedule`, `ruralsat/v1/#`, `#` and `$SYS/#` are refused while `ruralsat/v1/guide/#`
 * and the station's own `…/st/{id}/schedule` are allowed.
 */
export function authorizeSubscribe(
  args: { username: string; filter: string; root?: string } & HeadendIdentity,
): AclDecision {
  const { username, filter, root = DEFAULT_TOPIC_ROOT, headendUsername } = args;
  const fp = filterProblem(filter);
  if (fp) return deny('INVALID_FILTER', `${fp}: ${JSON.stringify(filter)}`);
  if (headendUsername !== undefined && username === headendUsername) {
    return headendAccess(filter, root, 'subscribe to');
  }
  const bad = checkUser(username, root);
  if (bad) return bad;
  for (const rule of STATION_ACL) {
    if (rule.access === 'read' && filterCoveredBy(filter, expand(rule, root, username))) return ALLOW;
  }
  return deny('NOT_READABLE', `station ${username} may not subscribe to ${filter}`);
}

/** PUBLISH check: the topic must be one of the station's own write topics; retain only where the rule allows. */
export function authorizePublish(
  args: { username: string; topic: string; retain: boolean; root?: string } & HeadendIdentity,
): AclDecision {
  const { username, topic, retain, root = DEFAULT_TOPIC_ROOT, headendUsername } = args;
  const tp = topicNameProblem(topic);
  if (tp) return deny('INVALID_TOPIC', `${tp}: ${JSON.stringify(topic)}`);
  if (headendUsername !== undefined && username === headendUsername) {
    return headendAccess(topic, root, 'publish to');
  }
  const bad = checkUser(username, root);
  if (bad) return bad;
  const rule = STATION_ACL.find(
    (r) => r.access === 'write' && topicMatchesFilter(topic, expand(r, root, username)),
  );
  if (!rule) return deny('NOT_WRITABLE', `station ${username} may not publish to ${topic}`);
  if (retain && !rule.retain) {
    return deny('RETAIN_NOT_ALLOWED', `station ${username} may not retain on ${topic} (only on its state)`);
  }
  return ALLOW;
}

/** The headend may use anything below the root (and nothing outside it, e.g. `$SYS`). */
function headendAccess(filterOrTopic: string, root: string, verb: string): AclDecision {
  const rootErr = rootProblem(root);
  if (rootErr) return deny('BAD_ROOT', rootErr);
  if (filterCoveredBy(filterOrTopic, `${root}/#`)) return ALLOW;
  const code = verb === 'publish to' ? 'NOT_WRITABLE' : 'NOT_READABLE';
  return deny(code, `the headend may only ${verb} topics below ${root}/: ${filterOrTopic}`);
}

/**
 * Renders the station ACL as Mosquitto `acl_file` lines. Station rules become `pattern` lines with `%u`
 * (Mosquitto substitutes the username, and refuses the substitution for usernames containing `+`, `#` or
 * `/`); the headend's user gets `readwrite` on the whole root. Pair with `use_username_as_clientid true`
 * in mosquitto.conf so client id = username holds there too.
 *
 * Mosquitto cannot restrict the retain flag per topic: a station could leave a retained message on its own
 * events/telemetry/rpc/res topics there. The headend ignores the retain flag on those topics (events are
 * deduplicated by (storeId, seq) anyway); the embedded broker enforces the rule.
 */
export function renderMosquittoAcl(root: string = DEFAULT_TOPIC_ROOT, headendUsername = 'headend'): string {
  const rootErr = rootProblem(root);
  if (rootErr) throw new TypeError(`renderMosquittoAcl: ${rootErr}`);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(headendUsername)) {
    throw new TypeError(`renderMosquittoAcl: unusable headend username ${JSON.stringify(headendUsername)}`);
  }
  const lines = [
    '# ruralsat MQTT ACL (contract v1), generated from protocol/acl.ts: do not edit by hand.',
    `# Topic root: ${root}. %u = the station id, which is also its username and client id.`,
    '# Stations: read the line-up, guide, headend state and their own schedule/ack/rpc requests;',
    '# write only their own state, events, telemetry and rpc responses.',
    '',
  ];
  for (const rule of STATION_ACL) {
    lines.push(`pattern ${rule.access} ${expand(rule, root, '%u')}`);
  }
  lines.push('', `# The headend itself: everything below the root.`, `user ${headendUsername}`);
  lines.push(`topic readwrite ${root}/#`, '');
  return lines.join('\n');
}
