/**
 * Inbound messages of the station, decoded at the edge with the protocol's schemas (DESIGN.md §4: every
 * payload validated on receipt; invalid ones are logged, counted and dropped — the link turns a throw here
 * into a counted `HANDLER_ERROR` drop, never a crash).
 */
import { Ack } from '../../protocol/messages/ack.js';
import { decodePayload } from '../../protocol/messages/decode.js';
import { HeadendState } from '../../protocol/messages/headend-state.js';
import { Lineup } from '../../protocol/messages/lineup.js';
import type { InboundKind } from './mqtt-link.js';

export interface InboundHandlers {
  /** Raw bytes: the schedule's hash is of the exact payload (DESIGN.md §4). */
  schedule(payload: Buffer): void;
  ack(ack: Ack): void;
  /** Raw bytes: the dispatcher reads the rid even from an invalid request to answer it. */
  rpc(payload: Buffer): void;
  headendState(state: HeadendState): void;
  lineup(lineup: Lineup): void;
}

export function routeInbound(kind: InboundKind, payload: Buffer, h: InboundHandlers): void {
  switch (kind) {
    case 'schedule':
      h.schedule(payload);
      break;
    case 'rpc-req':
      h.rpc(payload);
      break;
    case 'ack': {
      const a = decodePayload(Ack, payload);
      if (!a.ok) throw new Error(`ack: ${a.error.message}`);
      h.ack(a.value);
      break;
    }
    case 'lineup': {
      const l = decodePayload(Lineup, payload);
      if (!l.ok) throw new Error(`lineup: ${l.error.message}`);
      h.lineup(l.value);
      break;
    }
    case 'headend-state': {
      const s = decodePayload(HeadendState, payload);
      if (!s.ok) throw new Error(`headend state: ${s.error.message}`);
      h.headendState(s.value);
      break;
    }
    case 'guide':
      // Guide days are for the on-site tools; planning never needs them (DESIGN.md §5).
      break;
  }
}
