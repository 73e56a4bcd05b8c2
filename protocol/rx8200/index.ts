/**
 * RX8200 remote-control codec (Ericsson "Alteia" protocol, DOMAIN.md §3): framing and checksum
 * (frame.ts), incremental parser (parser.ts), request/reply grammar (messages.ts), value formats
 * (fields.ts), typed command builders (commands.ts), typed reply decoders and the simulator's reply
 * builders (replies.ts), alarm bitmap (alarms.ts). Pure: no I/O, no timers.
 *
 * Driver side:    encodeRequest({ address, ...qualityRequest() }) → port;
 *                 port → parser.push(chunk) → decodeReply(frame) → parseQuality(reply).
 * Simulator side: port → parser.push(chunk) → decodeRequest(frame) → … → encodeReply(qualityReply(…)).
 */
export * from './alarms.js';
export * from './commands.js';
export * from './fields.js';
export * from './frame.js';
export * from './messages.js';
export * from './parser.js';
export * from './replies.js';
