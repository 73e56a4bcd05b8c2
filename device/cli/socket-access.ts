/**
 * The on-site CLI through the running agent's local control socket (DESIGN.md §6 "On-site CLI";
 * device/control-socket.ts is the other end). The agent owns the half-duplex port; the CLI asks it.
 *
 * - Every request is one JSON line on a fresh connection: the maintenance hold outlives connections, so
 *   nothing has to stay open and an agent restart between two readings costs nothing.
 * - A command that changes the receiver takes the time-limited maintenance hold first (the executor then
 *   tunes and starts nothing new, and the headend sees the hold in the station's state), renews it while
 *   the session lasts (`watch`), and releases it at the end — also on Ctrl-C. A hold the technician took
 *   beforehand with `ruralsat-rx hold` is used as it is and left in place.
 * - Status and identify need no hold (the socket allows them); `--hold` takes one anyway, e.g. while
 *   aligning the dish with `watch`.
 * - The receiver is not changed under a recording the agent is making unless `--force`.
 */
import { MaintenanceHold } from '../../protocol/messages/state.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { ReceiverOp } from '../control-socket.js';
import type { ReceiverStatus } from '../receiver/driver.js';
import type { Timers } from '../receiver/timers.js';
import type { AccessIntent, CliReceiver, ReceiverAccess } from './access.js';
import {
  AGENT_ANSWER_TIMEOUT_MS,
  AgentSocketError,
  AgentStatus,
  controlRequest,
  type HoldInfo,
  Identity,
  parsed,
  RawReply,
  Released,
  Status,
} from './control-client.js';

export interface AgentSocketOptions {
  path: string;
  /** `--receiver`; the agent's first receiver when undefined. */
  receiverId: string | undefined;
  /** Who holds: `--holder` or user@hostname. */
  holder: string;
  /** How long a hold lasts; renewed before it runs out while the session is open. */
  holdMs: number;
  /** `--reason`; else the command (`ruralsat-rx tune`). */
  reason: string | undefined;
  /** `--hold`: hold for read-only commands too. */
  holdAlways: boolean;
  /** `--force`: change the receiver under a running recording. */
  force: boolean;
  timing: Pick<TimingProfile, 'receiverLockTimeoutMs' | 'receiverRequestTimeoutMs' | 'receiverRetries'>;
}

export interface AgentSocketDeps {
  timers: Timers;
  /** One line for the technician on stderr (hold taken, renewed late, released). */
  notice: (line: string) => void;
}

const clockOf = (iso: string) => `${iso.slice(11, 19)}Z`;

/** The receiver through the agent (see the file header). */
export class AgentSocketAccess implements ReceiverAccess {
  readonly description: string;
  readonly tuneNeedsLineup = false;

  constructor(
    private readonly opts: AgentSocketOptions,
    private readonly deps: AgentSocketDeps,
  ) {
    this.description = `agent ${opts.path}${opts.receiverId ? ` (receiver ${opts.receiverId})` : ''}`;
  }

  private request(body: object, timeoutMs = AGENT_ANSWER_TIMEOUT_MS): Promise<unknown> {
    return controlRequest(this.opts.path, body, timeoutMs);
  }

  /** What the agent is doing: its hold and its running occurrences. */
  async agentStatus(): Promise<AgentStatus> {
    return parsed(AgentStatus, await this.request({ cmd: 'status' }), 'status');
  }

  /** Takes or renews the hold for `ms` (the agent caps it at its maximum). */
  async hold(ms: number, reason: string | undefined): Promise<HoldInfo> {
    const body = { cmd: 'hold', holder: this.opts.holder, durationMs: Math.round(ms) };
    return parsed(MaintenanceHold, await this.request(reason ? { ...body, reason } : body), 'hold');
  }

  /** Ends the hold: ours, or whoever's with `anyone` (`release --force`). */
  async release(anyone: boolean): Promise<boolean> {
    const body = anyone ? { cmd: 'release' } : { cmd: 'release', holder: this.opts.holder };
    return parsed(Released, await this.request(body), 'release').released;
  }

  async open(intent: AccessIntent): Promise<CliReceiver & { agentStatus(): Promise<AgentStatus> }> {
    const session = new HoldSession(this, this.opts, this.deps, intent.command);
    if (intent.changes || this.opts.holdAlways) {
      await session.take();
      if (intent.changes && !this.opts.force) {
        // After the hold: from now on nothing new starts, so what runs now is all there is to protect.
        let busy: AgentStatus['running'];
        try {
          busy = (await this.agentStatus()).running.filter(
            (r) => !this.opts.receiverId || r.receiverId === null || r.receiverId === this.opts.receiverId,
          );
        } catch (err) {
          await session.end();
          throw err;
        }
        if (busy.length > 0) {
          await session.end();
          const what = busy.map((r) => `${r.entryId} (${r.state}${r.service ? `, ${r.service}` : ''})`);
          throw new AgentSocketError(
            'RECORDING_RUNNING',
            `the agent is using the receiver now: ${what.join(', ')}; changing it would break that`,
            'wait until it ends (ruralsat-rx status shows it), or add --force',
          );
        }
      }
    }
    const receiverTimeout =
      this.opts.timing.receiverLockTimeoutMs +
      // A tune is a dozen requests, each with its retries, queued behind the agent's own polling.
      30 * this.opts.timing.receiverRequestTimeoutMs * (this.opts.timing.receiverRetries + 1);
    const op = async (request: ReceiverOp): Promise<unknown> => {
      const body = { cmd: 'receiver', request };
      return this.request(
        this.opts.receiverId ? { ...body, receiverId: this.opts.receiverId } : body,
        Math.max(10_000, receiverTimeout),
      );
    };
    return {
      agentStatus: () => this.agentStatus(),
      status: async () => parsed(Status, await op({ op: 'status' }), 'status') as ReceiverStatus,
      identify: async () => parsed(Identity, await op({ op: 'identify' }), 'identity'),
      tuneService: async (key) =>
        parsed(Status, await op({ op: 'tune', service: key }), 'status') as ReceiverStatus,
      selectService: async (serviceId) => {
        await op({ op: 'select', serviceId });
      },
      setLnbPower: async (on) => {
        await op({ op: 'lnb', on });
      },
      reset: async () => {
        await op({ op: 'reset' });
      },
      raw: async (line) => parsed(RawReply, await op({ op: 'raw', line }), 'raw reply').reply,
      close: () => session.end(),
    };
  }
}

/** The hold one CLI session takes: renewed before it runs out, released at the end. */
class HoldSession {
  /** We took the hold (not a hold of ours from before), so we release it. */
  private owned = false;
  private cancelRenew: (() => void) | null = null;
  /** A renewal in flight: the release waits for it, or the renewal could land after it and hold again. */
  private renewing: Promise<void> | null = null;
  private ended = false;

  constructor(
    private readonly access: AgentSocketAccess,
    private readonly opts: AgentSocketOptions,
    private readonly deps: AgentSocketDeps,
    private readonly command: string,
  ) {}

  async take(): Promise<void> {
    const before = (await this.access.agentStatus()).state.maintenance;
    if (before && before.holder === this.opts.holder) {
      // The technician's own hold (`ruralsat-rx hold`): keep it as it is — renewing would shorten it.
      this.deps.notice(`using your maintenance hold (until ${clockOf(before.until)})`);
      return;
    }
    const info = await this.access.hold(this.opts.holdMs, this.reason());
    this.owned = true;
    this.deps.notice(
      `maintenance hold taken by ${info.holder} until ${clockOf(info.until)}: the agent starts nothing new until it is released`,
    );
    this.scheduleRenew(info);
  }

  private reason(): string {
    return this.opts.reason ?? `ruralsat-rx ${this.command}`;
  }

  /** Renews when a third of the hold is left (the agent may have capped the length we asked for). */
  private scheduleRenew(info: HoldInfo): void {
    const left = Date.parse(info.until) - this.deps.timers.now();
    this.cancelRenew = this.deps.timers.schedule(Math.max(200, (left * 2) / 3), () => {
      this.cancelRenew = null;
      if (this.ended) return;
      this.renewing = this.access.hold(this.opts.holdMs, this.reason()).then(
        (next) => {
          this.renewing = null;
          if (!this.ended) this.scheduleRenew(next);
        },
        (err: unknown) => {
          this.renewing = null;
          this.deps.notice(`could not renew the maintenance hold: ${(err as Error).message}`);
        },
      );
    });
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.cancelRenew?.();
    this.cancelRenew = null;
    if (!this.owned) return;
    await this.renewing;
    try {
      await this.access.release(false);
      this.deps.notice('maintenance hold released: the agent checks the receiver and resumes its schedule');
    } catch (err) {
      this.deps.notice(
        `could not release the maintenance hold (${(err as Error).message}); it ends by itself at its time limit`,
      );
    }
  }
}
