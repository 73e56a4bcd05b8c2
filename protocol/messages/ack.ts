/**
 * The headend's acknowledgement (`ruralsat/v1/st/{id}/ack`, retained, DESIGN.md §4): the highest event
 * `seq` of the station's store `storeId` that the headend has COMMITTED. The station keeps every outbox
 * row until an ack covers it; a broker's PUBACK proves nothing. `seq: 0` means nothing committed yet.
 */
import { z } from 'zod';
import { StoreId } from './common.js';

export const Ack = z.strictObject({
  storeId: StoreId,
  seq: z.number().int().nonnegative(),
});
export type Ack = z.infer<typeof Ack>;

/** True when the ack covers event `(storeId, seq)`: same store and a seq at least as high. */
export function ackCovers(ack: Ack, event: { storeId: string; seq: number }): boolean {
  return ack.storeId === event.storeId && ack.seq >= event.seq;
}
