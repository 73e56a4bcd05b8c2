/** Hard limits both sides enforce on receipt (DESIGN.md §4). */

/** Default cap on an MQTT payload; oversized payloads are logged, counted and dropped. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** The planning horizon the agent expands recurring entries over (DESIGN.md §5). */
export const PLAN_HORIZON_DAYS = 14;
