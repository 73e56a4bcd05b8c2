/**
 * Every message schema of contract v1, and the map from a topic's message name (TOPIC_TABLE in
 * topics.ts) to its schema, so brokers, tests and PROTOCOL.md's drift test look schemas up in one place.
 */
import { z } from 'zod';
import type { TopicKind, TopicMessage } from '../topics.js';
import { topicSpec } from '../topics.js';
import { Ack } from './ack.js';
import { StationEvent } from './events.js';
import { GuideDay } from './guide.js';
import { HeadendState } from './headend-state.js';
import { Lineup } from './lineup.js';
import { RpcRequest, RpcResponse } from './rpc.js';
import { ScheduleDocument } from './schedule.js';
import { StationState } from './state.js';
import { Telemetry } from './telemetry.js';

export * from './ack.js';
export * from './common.js';
export * from './decode.js';
export * from './events.js';
export * from './guide.js';
export * from './headend-state.js';
export * from './lineup.js';
export * from './rpc.js';
export * from './rpc-methods.js';
export * from './schedule.js';
export * from './state.js';
export * from './telemetry.js';
export * from './tuning.js';

/** The schema of each topic's payload. */
export const MESSAGE_SCHEMAS = {
  lineup: Lineup,
  'guide-day': GuideDay,
  'headend-state': HeadendState,
  schedule: ScheduleDocument,
  ack: Ack,
  'rpc-request': RpcRequest,
  'station-state': StationState,
  event: StationEvent,
  telemetry: Telemetry,
  'rpc-response': RpcResponse,
} as const satisfies Record<TopicMessage, z.ZodType>;

/** The schema of the payload on topics of `kind`. */
export function schemaForTopic<K extends TopicKind>(kind: K): z.ZodType {
  return MESSAGE_SCHEMAS[topicSpec(kind).message];
}

/**
 * JSON Schema (draft 2020-12) of a message, generated from the same zod schema, for third-party agents
 * and dashboards. Cross-field rules (refinements) are not expressible there; the zod schema stays the
 * authority.
 */
export function messageJsonSchema(message: TopicMessage): Record<string, unknown> {
  return z.toJSONSchema(MESSAGE_SCHEMAS[message], { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}
