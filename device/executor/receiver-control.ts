/**
 * The executor's hold on one receiver: what it should be tuned to, whether it is, and the last status.
 *
 * - Requests run one at a time (the link is half-duplex anyway, DOMAIN.md §3).
 * - `ensure(target)` tunes the whole transponder and selects the service (decoder-output receivers), each
 *   verified by read-back in the driver (ACK is not success), then waits for lock. The same target again
 *   is a no-op while the receiver reports lock.
 * - The receiver may forget its settings after a power loss (DOMAIN.md §6): when the control link comes
 *   back (`linkUp`), or a status read shows it tuned elsewhere, it is read back, then re-applied. A
 *   read-back that differs from what was last verified here, with nothing here having changed the
 *   receiver since, is reported through `onSettings` (device/receiver/settings-check.ts) until the
 *   re-apply is verified: the fact with its fix in the headend's history.
 * - Status is polled every `receiverPollMs` while a target is held (receivers send nothing unsolicited,
 *   DOMAIN.md §3) and every reading (or silence) feeds the recovery ladder (device/receiver/recovery.ts):
 *   re-apply → reset → escalate with backoff and a daily cap; escalation raises `receiver_unresponsive`
 *   (or `lnb_fault`) through `onAlarm`, recovery clears it.
 * - A missing serial port path raises `serial_port_missing` (device/receiver/port-presence.ts); the
 *   ladder stays out of it: the transport reopens by itself.
 */
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Clock } from '../link/clock.js';
import type { ReceiverDriver, ReceiverStatus } from '../receiver/driver.js';
import { isReceiverError, ReceiverError } from '../receiver/driver.js';
import { type PortEvents, PortWatch } from '../receiver/port-presence.js';
import {
  classifyStatus,
  type RecoveryProblem,
  RecoveryRunner,
  recoveryPolicy,
} from '../receiver/recovery.js';
import { type SettingsLoss, SettingsWatch } from '../receiver/settings-check.js';
import { settingsTarget, type TuneTarget, tuneAndVerify } from './receiver-tune.js';

export type { TuneTarget } from './receiver-tune.js';

type Evidence = Record<string, number | string | boolean | null>;

export interface ReceiverControlOptions {
  id: string;
  driver: ReceiverDriver;
  clock: Clock;
  logger: Logger;
  timing: Pick<
    TimingProfile,
    'receiverPollMs' | 'receiverLockTimeoutMs' | 'recoveryBackoffMs' | 'recoveryDailyCap'
  >;
  /** Lock lost / regained and link changes, for state and alarms. */
  onChange?: (rc: ReceiverControl) => void;
  /** The ladder escalated (`raised`) or the receiver is healthy again (`cleared`). */
  onAlarm?: (what: 'raised' | 'cleared', reason: string, rc: ReceiverControl) => void;
  /**
   * A technician holds the station (maintenance hold, DESIGN.md §6): the receiver is theirs, so polls only
   * read it and neither the ladder nor a link-up re-applies the desired tuning until the hold ends.
   */
  held?: () => boolean;
  /**
   * The receiver changed its tuning by itself (`lost`: desired vs read-back in the evidence), or the
   * re-apply that followed is verified (`restored`). DOMAIN.md §6 "Receiver forgets settings".
   */
  onSettings?: (what: 'lost' | 'restored', message: string, evidence: Evidence, rc: ReceiverControl) => void;
  /** Watch a serial control port for a missing path (DOMAIN.md §6 "USB-serial renumbered"). */
  port?: {
    transport: PortEvents;
    /** The configured path (prefer `/dev/serial/by-id/…`). */
    path: string;
    /** Missing for longer than this raises the alarm (timing profile `alarmRaiseHoldMs`). */
    holdMs: number;
    onAlarm: (what: 'raised' | 'cleared', message: string, evidence: Evidence, rc: ReceiverControl) => void;
  };
}

export class ReceiverControl {
  readonly id: string;
  private desired: TuneTarget | null = null;
  /** The target the receiver was last verified on (tuned, selected, locked). */
  private applied: TuneTarget | null = null;
  /**
   * The target this agent last applied and verified by read-back, kept while the receiver is only
   * polled (unlike `applied`, it survives a lock loss or a hang) and forgotten whenever something here
   * changes the receiver: the baseline against which forgotten settings are recognised.
   */
  private readonly settings: SettingsWatch;
  private readonly portWatch: PortWatch | null;
  private chain: Promise<unknown> = Promise.resolve();
  private cancelPoll: (() => void) | null = null;
  private closed = false;
  private readonly ladder: RecoveryRunner;
  lastStatus: ReceiverStatus | null = null;
  lastError: ReceiverError | null = null;
  linkUp = true;
  /** The ladder escalated and has not cleared (reported as an alarm). */
  escalated: string | null = null;

  constructor(private readonly opts: ReceiverControlOptions) {
    this.id = opts.id;
    this.settings = new SettingsWatch({
      receiverId: opts.id,
      logger: opts.logger,
      report: (what, message, evidence) => opts.onSettings?.(what, message, evidence, this),
    });
    this.ladder = new RecoveryRunner({
      driver: opts.driver,
      timers: opts.clock,
      logger: opts.logger,
      policy: recoveryPolicy(opts.timing, opts.driver.capabilities.reset),
      onEscalate: (ladderReason) => {
        // With the control link down the cause is the link (a device server, a cable), and says so.
        const reason =
          !this.linkUp && this.lastError
            ? `${ladderReason} (control link down: ${this.lastError.message})`
            : ladderReason;
        this.escalated = reason;
        opts.onAlarm?.('raised', reason, this);
      },
      onClear: (reason) => {
        this.escalated = null;
        opts.onAlarm?.('cleared', reason, this);
      },
      // A reset or LNB cycle is this agent changing the receiver: what reads back afterwards is ours.
      onDisruptive: () => this.settings.forget(),
      beforeReapply: () => this.readBackIfVerified(),
    });
    const port = opts.port;
    this.portWatch = port
      ? new PortWatch({
          transport: port.transport,
          path: port.path,
          holdMs: port.holdMs,
          timers: opts.clock,
          logger: opts.logger,
          onRaise: (message, evidence) => {
            // The ladder may have escalated on the timeouts just before the path vanished: that outage is
            // the missing port, not a hung receiver (one alarm, naming the right cause).
            if (this.escalated !== null && this.ladderProblem === 'unresponsive') {
              this.escalated = null;
              opts.onAlarm?.('cleared', `superseded: ${message}`, this);
            }
            port.onAlarm('raised', message, { ...evidence, receiverId: this.id }, this);
          },
          onClear: (message, evidence) => port.onAlarm('cleared', message, evidence, this),
        })
      : null;
    opts.driver.on('linkDown', (err) => {
      this.linkUp = false;
      this.applied = null;
      this.lastError = err;
      opts.onChange?.(this);
    });
    opts.driver.on('linkUp', () => {
      this.linkUp = true;
      opts.onChange?.(this);
      // DOMAIN.md §6: a receiver that lost power may have forgotten its settings: read back first (that is
      // the evidence), then re-apply the whole desired tuning, idempotently, on EVERY reconnect — even when
      // a poll queued meanwhile already read it back as desired (the read-back does not cover everything a
      // tune sets).
      if (!this.desired || this.opts.held?.()) return;
      void this.serial(() => this.readBack()).finally(() => {
        const d = this.desired;
        if (d && !this.opts.held?.()) void this.tune(d, true).catch(() => undefined);
      });
    });
    opts.driver.on('lockLost', (s) => {
      this.lastStatus = s;
      opts.onChange?.(this);
    });
    opts.driver.on('lockRegained', (s) => {
      this.lastStatus = s;
      opts.onChange?.(this);
    });
  }

  get driver(): ReceiverDriver {
    return this.opts.driver;
  }

  /** The key the receiver is verified on, or null. */
  get currentKey(): string | null {
    return this.applied?.sharingKey ?? null;
  }

  /** The problem the recovery ladder is working on (null = healthy), e.g. to name an escalation's alarm. */
  get ladderProblem(): RecoveryProblem | null {
    return this.ladder.ladder.problem;
  }

  /** The receiver forgot its settings and the re-apply is not verified yet. */
  get settingsLost(): SettingsLoss | null {
    return this.settings.lost;
  }

  /** The serial control port's path is missing right now. */
  get portMissing(): boolean {
    return this.portWatch?.missing ?? false;
  }

  get locked(): boolean {
    return this.lastStatus?.locked === true;
  }

  /** The service the receiver is set to deliver (for state and telemetry). */
  get service(): string | null {
    return this.desired?.tuning.key ?? null;
  }

  /**
   * Tunes to `target` and waits for lock (throws `ReceiverError`: NO_LOCK, TIMEOUT, MISMATCH, …). A no-op
   * when already verified on the same key and the last status shows lock.
   */
  ensure(target: TuneTarget): Promise<ReceiverStatus> {
    return this.tune(target, false);
  }

  /** `ensure`, or with `reapply` the whole tuning again even when verified and locked (a reconnect). */
  private tune(target: TuneTarget, reapply: boolean): Promise<ReceiverStatus> {
    this.desired = target;
    this.ladder.setDesired({ transponder: target.tuning.transponder, serviceId: target.tuning.serviceId });
    return this.serial(async () => {
      if (this.closed) throw new ReceiverError('PORT_CLOSED', 'receiver control closed');
      if (this.desired?.sharingKey !== target.sharingKey) {
        throw new ReceiverError('BUSY', `superseded by ${this.desired?.sharingKey ?? 'nothing'}`);
      }
      if (!reapply && this.applied?.sharingKey === target.sharingKey && this.lastStatus?.locked)
        return this.lastStatus;
      this.applied = null;
      // Tuning elsewhere changes the receiver: the old baseline no longer says what it should read back.
      if (this.settings.verifiedKey !== target.sharingKey) this.settings.forget();
      // Re-applying the same target blindly would hide forgotten settings: read back first (a reconnect's
      // re-apply has just read back).
      else if (!reapply) await this.readBackIfVerified();
      try {
        const status = await tuneAndVerify(this.opts.driver, target, this.opts.timing.receiverLockTimeoutMs);
        this.lastStatus = status;
        this.lastError = null;
        this.applied = target;
        this.settings.verifiedOn(settingsTarget(target), 'tuned and locked');
        this.healthy('tuned and locked again');
        this.opts.logger.info({ receiverId: this.id, service: target.tuning.key }, 'tuned and locked');
        this.startPolling();
        this.opts.onChange?.(this);
        return status;
      } catch (err) {
        this.lastError = isReceiverError(err) ? err : new ReceiverError('PROTOCOL', (err as Error).message);
        if (isReceiverError(err, 'NO_LOCK') && err.detail.status) this.lastStatus = err.detail.status;
        this.opts.onChange?.(this);
        // A receiver that does not answer climbs the ladder (the next ensure retries the tune itself); a
        // missing port is not the receiver's fault and has its own alarm.
        if (isReceiverError(err, 'TIMEOUT', 'PORT_CLOSED', 'CHECKSUM', 'PROTOCOL') && !this.portMissing) {
          await this.ladder.observe({ problem: 'unresponsive' });
        }
        this.startPolling();
        throw this.lastError;
      }
    });
  }

  /** Forgets the desired target (nothing holds the receiver). */
  releaseTarget(sharingKey: string): void {
    if (this.desired?.sharingKey === sharingKey) {
      this.desired = null;
      this.ladder.setDesired(null);
      this.stopPolling();
      this.settings.released();
    }
  }

  /** Reads status now (serialised with tuning). */
  status(): Promise<ReceiverStatus> {
    return this.serial(async () => {
      const s = await this.opts.driver.status();
      this.lastStatus = s;
      return s;
    });
  }

  /**
   * Runs one driver operation in the request queue (control socket, RPC). It may change the receiver (a
   * reset, LNB power, a raw command): the verified baseline is re-established by the next healthy poll.
   */
  run<T>(fn: (d: ReceiverDriver) => Promise<T>): Promise<T> {
    return this.serial(() => {
      this.settings.forget();
      return fn(this.opts.driver);
    });
  }

  /** Forces the next `ensure` to tune again (an operator asked for a retune, or a maintenance hold ended). */
  invalidate(): void {
    this.applied = null;
    this.settings.forget();
  }

  /**
   * The recorder saw the stream stall: "restart recorder, then check receiver" (DOMAIN.md §6). A frozen
   * stream while the receiver claims lock climbs the ladder like a hang does.
   */
  streamStalled(): Promise<void> {
    return this.serial(async () => {
      await this.ladder.check({ streamFrozen: true });
    }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    this.portWatch?.close();
    await this.chain.catch(() => undefined);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private startPolling(): void {
    if (this.cancelPoll || this.closed) return;
    this.cancelPoll = this.opts.clock.schedule(this.opts.timing.receiverPollMs, () => {
      this.cancelPoll = null;
      if (!this.desired || this.closed) return;
      void this.serial(() => this.pollOnce()).finally(() => this.startPolling());
    });
  }

  /** One status read fed to the ladder; a healthy reading also confirms the target as applied. */
  private async pollOnce(): Promise<void> {
    const d = this.desired;
    if (!d) return;
    const desired = { transponder: d.tuning.transponder, serviceId: d.tuning.serviceId };
    let problem: ReturnType<typeof classifyStatus> | 'unresponsive';
    try {
      const s = await this.opts.driver.status();
      this.lastStatus = s;
      problem = classifyStatus(s, desired);
      if (problem === 'mismatch') this.checkSettings(s);
    } catch (err) {
      this.lastError = isReceiverError(err) ? err : this.lastError;
      problem = 'unresponsive';
    }
    if (problem === null) {
      this.applied = d;
      this.settings.verifiedOn(settingsTarget(d), 'read back as desired');
      this.healthy('status healthy again');
    } else {
      this.applied = null;
      this.opts.onChange?.(this);
    }
    // Under a maintenance hold the technician may switch the LNB off or lose lock aligning the dish; a
    // missing port has its own alarm and the transport reopens it by itself.
    if (this.opts.held?.() || (problem === 'unresponsive' && this.portMissing)) return;
    await this.ladder.observe({ problem });
  }

  /**
   * The receiver answers, is tuned as desired and locked: an escalated alarm clears. (The ladder's own
   * `clear` only fires when the same problem went away; a receiver that comes back with another symptom on
   * the way, e.g. settings lost after its hang, is healthy all the same.)
   */
  private healthy(reason: string): void {
    if (this.escalated === null) return;
    this.escalated = null;
    this.opts.onAlarm?.('cleared', reason, this);
  }

  /**
   * Before a re-apply of the verified target: read back once, unless a loss is already reported (a dead
   * receiver costs one more request timeout per re-apply, which the ladder's backoff dwarfs).
   */
  private async readBackIfVerified(): Promise<void> {
    if (this.settings.wantsReadBack(this.desired?.sharingKey ?? null) && !this.portMissing)
      await this.readBack();
  }

  /** Reads the status once and checks it against the verified baseline (after a link outage). */
  private async readBack(): Promise<void> {
    try {
      const s = await this.opts.driver.status();
      this.lastStatus = s;
      this.checkSettings(s);
    } catch {
      // The ensure that follows reports what is wrong.
    }
  }

  private checkSettings(s: ReceiverStatus): void {
    this.settings.check(s, this.desired?.sharingKey ?? null, this.opts.held?.() ?? false);
  }

  private stopPolling(): void {
    this.cancelPoll?.();
    this.cancelPoll = null;
  }
}
