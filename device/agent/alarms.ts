/**
 * The agent's station events and alarms (DESIGN.md §6): every event is appended to the outbox inside a
 * store transaction, then the sender is told (it sends in seq order). The station alarms' active set is
 * committed with each alarm event and restored at start (device/link/alarms.ts), so an alarm outlives the
 * agent; what the previous run left active is reconciled once every detector has had its hold.
 */
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import { StationAlarms } from '../link/alarms.js';
import type { Clock } from '../link/clock.js';
import type { StationStore } from '../store/db.js';
import type { EventBody } from '../store/outbox.js';

export interface StationEventsDeps {
  store: StationStore;
  /** Headend time (epoch ms) for the alarms' timestamps. */
  now: () => number;
  logger: Logger;
  /** Tells the outbox sender that an event was committed (it may not exist yet while the agent starts). */
  notify: () => void;
}

export interface StationEvents {
  /** Appends one event to the outbox (its own transaction) and wakes the sender. */
  emit(body: EventBody): void;
  readonly alarms: StationAlarms;
  /** How many alarms the previous run left active (restored into `alarms`). */
  readonly restoredCount: number;
}

/** Builds the event emitter and the station alarms, restoring the active set the last run committed. */
export function stationEvents(deps: StationEventsDeps): StationEvents {
  const { store, notify } = deps;
  const restored = store.alarmState.load();
  if (restored.damaged) deps.logger.warn('stored active alarms unreadable: starting with none');
  const alarms = new StationAlarms(
    (body, active) => {
      store.transaction((tx) => {
        store.outbox.appendEvent(tx, body);
        store.alarmState.save(tx, active);
      });
      notify();
    },
    deps.now,
    restored.alarms,
  );
  return {
    emit(body) {
      store.transaction((tx) => store.outbox.appendEvent(tx, body));
      notify();
    },
    alarms,
    restoredCount: restored.alarms.length,
  };
}

/**
 * Alarms the previous run left active are cleared unless a detector raises them again once it has had
 * its hold (the content check's period plus its hold is the longest). Returns the timer's cancel, or null
 * when nothing was restored.
 */
export function reconcileAfterRestart(
  events: StationEvents,
  deps: {
    clock: Clock;
    timing: Pick<TimingProfile, 'alarmRaiseHoldMs' | 'contentCheckPeriodMs' | 'receiverPollMs'>;
    logger: Logger;
  },
): (() => void) | null {
  if (events.restoredCount === 0) return null;
  const { timing } = deps;
  const afterMs =
    Math.max(2 * timing.alarmRaiseHoldMs, timing.contentCheckPeriodMs + timing.alarmRaiseHoldMs) +
    timing.receiverPollMs;
  return deps.clock.schedule(afterMs, () => {
    const cleared = events.alarms.reconcile();
    if (cleared.length > 0)
      deps.logger.info({ cleared }, 'alarms from before the restart cleared: not seen again');
  });
}
