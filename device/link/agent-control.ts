/**
 * What the local control socket (device/control-socket.ts) can ask of a running agent: its status, and
 * receiver access through the agent's own link so the on-site CLI never opens the half-duplex port while
 * the agent holds it (DESIGN.md §6 "On-site CLI").
 */
import type { StationBirth } from '../../protocol/messages/state.js';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import { ControlError, type ControlHandlers } from '../control-socket.js';
import type { Executor } from '../executor/executor.js';
import type { ReceiverControl } from '../executor/receiver-control.js';
import { isReceiverError } from '../receiver/driver.js';

export interface AgentControlDeps {
  state: () => StationBirth;
  executor: Executor;
  receivers: ReadonlyMap<string, ReceiverControl>;
  tuningFor: (service: string) => ServiceTuning | undefined;
}

export function controlHandlers(deps: AgentControlDeps): ControlHandlers {
  return {
    status: () => ({
      state: deps.state(),
      running: deps.executor.active().map((r) => ({
        entryId: r.entryId,
        nominalStart: r.nominalStart,
        state: r.state,
        receiverId: r.occ?.receiverId ?? null,
        service: r.occ?.service ?? null,
      })),
    }),
    async receiver(receiverId, op) {
      const rc = receiverId ? deps.receivers.get(receiverId) : deps.receivers.values().next().value;
      if (!rc) throw new ControlError('BAD_REQUEST', `no receiver ${receiverId ?? ''} on this station`);
      try {
        switch (op.op) {
          case 'status':
            return await rc.status();
          case 'identify':
            return await rc.run((d) => d.identify());
          case 'tune': {
            const tuning = deps.tuningFor(op.service);
            if (!tuning)
              throw new ControlError('BAD_REQUEST', `service ${op.service} is not in the applied schedule`);
            rc.invalidate();
            return await rc.ensure({ sharingKey: `service:${op.service}`, tuning });
          }
          case 'select':
            await rc.run((d) => d.selectService(op.serviceId));
            return await rc.status();
          case 'lnb':
            await rc.run((d) => d.setLnbPower(op.on));
            return await rc.status();
          case 'reset':
            await rc.run((d) => d.reset());
            return await rc.status();
          case 'raw':
            return { reply: await rc.run((d) => d.raw(op.line)) };
        }
      } catch (err) {
        if (isReceiverError(err)) throw new ControlError('RECEIVER_ERROR', `${err.code}: ${err.message}`);
        throw err;
      }
    },
  };
}
