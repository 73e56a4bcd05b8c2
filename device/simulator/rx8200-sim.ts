/**
 * A virtual Ericsson RX8200 (DESIGN.md §6, Simulator): it speaks the remote-control protocol through the
 * same codec the driver uses (protocol/rx8200), behaves the way DOMAIN.md §3 says the real one does —
 * silence on a bad checksum or another address, NAK on out-of-range values, ACK on commands it does not
 * implement, one request at a time at 9600 baud, a lock delay after a tune — models the RF input
 * (signal-model.ts), plays scripted faults (faults.ts), and when locked to a selected service emits a REAL
 * MPEG-TS stream on its output URL through the shared stream hub (stream-source.ts). A real receiver
 * replaces it without code changes.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { type ModCod, requiredCnDb } from '../../protocol/link-budget.js';
import {
  intermediateFrequencyMHz,
  type ServiceTuning,
  transponderKey,
} from '../../protocol/messages/tuning.js';
import {
  decodeRequest,
  encodeReply,
  type Rx8200AlarmName,
  type Rx8200Frame,
  Rx8200Parser,
  type Rx8200Reply,
  type Rx8200Request,
} from '../../protocol/rx8200/index.js';
import type { Cancel, Timers } from '../receiver/timers.js';
import type { SimLine } from './endpoints.js';
import { type ActiveFaults, blackCovers, type FaultKind, FaultSchedule } from './faults.js';
import { parseUdpUrl, type UdpTarget } from './relay.js';
import { SignalModel, type SignalModelOptions, type SignalReading, seededRandom } from './signal-model.js';
import { answerStatus, applySet, FACTORY_SETTINGS, type SimSettings } from './sim-commands.js';
import type { SourceService, StreamHub, StreamSubscription } from './stream-source.js';
import { TsFaultFilter, type TsFaultMode } from './ts-faults.js';

export interface SimulatorOptions {
  /** Bus address 0–999 (factory default 2, DOMAIN.md §3). */
  address: number;
  /** Where the TS output goes (`udp://127.0.0.1:5000`); null = no stream output. */
  output: string | null;
  /** Services the sky carries (which service is on which carrier), sample data (DOMAIN.md §2). */
  lineup: readonly ServiceTuning[];
  /** Lock delay after a tune (timing profile simulatorLockDelayMs); each tune takes 0.5–1.5× this. */
  lockDelayMs: number;
  /** Line speed for reply pacing (9600, DOMAIN.md §3); 0 answers without pacing. */
  baudRate: number;
  /** How often the RF input is re-sampled to follow fades and noise. */
  tickMs?: number;
  /** Required C/N (Es/N0, dB) of a carrier's modulation/FEC, the lock threshold (default link-budget.ts). */
  requiredCnDb?: (carrier: ModCod) => number;
  signal?: SignalModelOptions;
  /** Seed of the noise generator (reproducible runs). */
  seed?: number;
}

export interface SimulatorDeps {
  timers: Timers;
  logger: Logger;
  /** The shared stream hub; null when this simulator emits no stream. */
  hub: StreamHub | null;
}

/** What the simulator is doing, for its own status output and for tests. */
export interface SimulatorSnapshot {
  powered: boolean;
  settings: SimSettings;
  serviceId: number | null;
  locked: boolean;
  reading: SignalReading;
  /** The line-up service being streamed, or null. */
  streaming: string | null;
  faults: ActiveFaults;
}

export interface SimulatorEvents {
  lock: [locked: boolean];
  /** A stream subscription started (service key) or stopped (null). */
  stream: [key: string | null];
  reboot: [];
}

/** Carriers match at the tuner's resolution: IF within ±2 MHz (the search range), symbol rate within 1 %. */
function sameCarrier(s: SimSettings, t: ServiceTuning['transponder']): boolean {
  const pol = t.polarisation === 'H' || t.polarisation === 'L' ? 'H' : 'V';
  return (
    Math.abs(intermediateFrequencyMHz(s) - intermediateFrequencyMHz(t)) <= 2 &&
    s.polarisation === pol &&
    Math.abs(s.symbolRateKsps - t.symbolRateKsps) <= t.symbolRateKsps * 0.01 &&
    s.input === t.input
  );
}

export class Rx8200Simulator extends EventEmitter<SimulatorEvents> {
  readonly faults: FaultSchedule;
  private readonly model: SignalModel;
  private readonly log: Logger;
  private readonly output: UdpTarget | null;
  private readonly lines: SimLine[] = [];
  private readonly random: () => number;
  private settings: SimSettings = { ...FACTORY_SETTINGS };
  private serviceId: number | null = null;
  private acquiringUntil = 0;
  private locked = false;
  private reading: SignalReading = { cnDb: null, levelRaw: 0, locked: false, ber: null };
  private busyUntil = 0;
  private subscription: { key: string; sub: Promise<StreamSubscription | null> } | null = null;
  /** What the scrambled / service-missing faults do to this receiver's output now (read per datagram). */
  private tsMode: TsFaultMode = { scrambled: false, serviceMissing: false };
  private readonly cancels = new Set<Cancel>();
  private cancelTick: Cancel | null = null;
  private closed = false;

  constructor(
    private readonly options: SimulatorOptions,
    private readonly deps: SimulatorDeps,
  ) {
    super();
    this.log = deps.logger;
    this.output = options.output ? parseUdpUrl(options.output) : null;
    this.random = seededRandom(options.seed ?? 1);
    this.model = new SignalModel({ random: this.random, ...options.signal });
    this.faults = new FaultSchedule(deps.timers);
    this.faults.on('change', (_active, ended) => this.onFaultsChanged(ended));
    this.tick();
  }

  /** Serve the protocol on a line (a pty end or a TCP listener); several lines may share one receiver. */
  attach(line: SimLine): void {
    const parser = new Rx8200Parser({
      onError: (e) => this.log.debug({ code: e.code }, 'request dropped (silence, as the IRD does)'),
    });
    line.onData((chunk) => {
      for (const frame of parser.push(chunk)) this.onFrame(line, frame);
    });
    this.lines.push(line);
  }

  snapshot(): SimulatorSnapshot {
    return {
      powered: !this.faults.active.powerCut,
      settings: { ...this.settings },
      serviceId: this.serviceId,
      locked: this.locked,
      reading: { ...this.reading },
      streaming: this.subscription?.key ?? null,
      faults: this.faults.active,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelTick?.();
    for (const c of this.cancels) c();
    this.faults.dispose();
    await this.stopStream();
    await Promise.all(this.lines.map((l) => l.close()));
  }

  private onFrame(line: SimLine, frame: Rx8200Frame): void {
    const active = this.faults.active;
    // Manual §3.1 rule 1: a frame for another address gets no reply at all; nor does a dead or hung IRD.
    if (frame.address !== this.options.address || active.powerCut || active.hang) return;
    let reply: Rx8200Reply;
    try {
      reply = this.handle(decodeRequest(frame));
    } catch {
      reply = { kind: 'nak', address: this.options.address, code: 'NAK', rejection: null };
    }
    this.send(line, frame.raw.length + 1, reply, active);
  }

  private handle(req: Rx8200Request): Rx8200Reply {
    const address = this.options.address;
    const status = answerStatus(req, address, () => this.statusView());
    if (status) return status;
    if (this.faults.active.deaf) return { kind: 'ack', address };
    const result = applySet(req, this.settings, this.serviceId);
    if (result.kind === 'nak') return { kind: 'nak', address, code: result.code, rejection: null };
    if (result.kind === 'unsupported') return { kind: 'ack', address }; // DOMAIN.md §3: ACKs unsupported commands
    const retune = result.retune;
    this.settings = result.settings;
    this.serviceId = result.serviceId;
    if (retune) this.startAcquisition();
    this.evaluate();
    return { kind: 'ack', address };
  }

  /** Current state as the status answers need it (a fresh RF sample, as a real meter reads live). */
  private statusView() {
    this.evaluate();
    const service = this.currentService();
    const alarms: Rx8200AlarmName[] = [];
    const active = this.faults.active;
    if (!this.locked) alarms.push('frontEndUnlocked', 'transportUnlocked');
    if (active.lnbShort && this.settings.lnbPower) alarms.push('lnbShort');
    if (this.reading.levelRaw < 30) alarms.push('signalLevelLow');
    if (this.reading.ber !== null && this.reading.ber > 1e-4) alarms.push('berThreshold');
    const missing = this.serviceId !== null && (!service || active.serviceMissing);
    if (this.locked && missing) alarms.push('serviceMissing');
    // The CA status: the IRD cannot descramble the selected service (DOMAIN.md §6 "Scrambled service").
    if (this.locked && service && !missing && active.scrambled) alarms.push('scrambled');
    return {
      settings: this.settings,
      serviceId: this.serviceId,
      serviceName: service?.name ?? '',
      serviceRunning: this.locked && service !== null && !missing,
      locked: this.locked,
      reading: this.reading,
      alarms,
    };
  }

  private send(line: SimLine, requestBytes: number, reply: Rx8200Reply, active: ActiveFaults): void {
    let bytes: Buffer = encodeReply(reply);
    if (active.corrupt) {
      // Flip the checksum: the driver's parser must drop the reply (a noisy RS-232 run).
      const text = bytes.toString('latin1');
      const bad = ((Number.parseInt(text.slice(-3, -1), 16) + 1) & 0xff).toString(16).toUpperCase();
      bytes = Buffer.from(`${text.slice(0, -3)}${bad.padStart(2, '0')}\r`, 'latin1');
    }
    if (active.garbageBytes > 0) {
      const noise = Buffer.alloc(active.garbageBytes);
      for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(this.random() * 256);
      bytes = Buffer.concat([noise, bytes]);
    }
    // 9600 baud 8N1 = 10 bits a byte: the request had to arrive and the reply go out (DOMAIN.md §3).
    const now = this.deps.timers.now();
    const lineMs =
      this.options.baudRate > 0 ? ((requestBytes + bytes.length) * 10_000) / this.options.baudRate : 0;
    const at = Math.max(now, this.busyUntil) + lineMs + 2;
    this.busyUntil = at;
    this.later(at - now, () => line.write(bytes));
  }

  private later(ms: number, fn: () => void): void {
    const cancel = this.deps.timers.schedule(ms, () => {
      this.cancels.delete(cancel);
      if (!this.closed) fn();
    });
    this.cancels.add(cancel);
  }

  private startAcquisition(): void {
    const delay = this.options.lockDelayMs * (0.5 + this.random());
    this.acquiringUntil = this.deps.timers.now() + delay;
    this.locked = false;
    this.later(delay + 1, () => this.evaluate());
  }

  private tick(): void {
    if (this.closed) return;
    this.evaluate();
    this.cancelTick = this.deps.timers.schedule(this.options.tickMs ?? 500, () => this.tick());
  }

  /** The line-up carrier the receiver is tuned to, or null. */
  private carrier(): ServiceTuning[] {
    return this.options.lineup.filter((s) => sameCarrier(this.settings, s.transponder));
  }

  private currentService(): ServiceTuning | null {
    if (this.serviceId === null) return null;
    return this.carrier().find((s) => s.serviceId === this.serviceId) ?? null;
  }

  /** Re-sample the RF input, update lock, and start/stop/pause the stream to match. */
  private evaluate(): void {
    const active = this.faults.active;
    const now = this.deps.timers.now();
    const onCarrier = this.carrier()[0];
    const t = onCarrier?.transponder;
    const demodOk =
      t !== undefined &&
      this.settings.system === t.system &&
      (this.settings.modulation === 'AUTO' || this.settings.modulation === t.modulation) &&
      (this.settings.fec === 'AUTO' || this.settings.fec === t.fec);
    const ref = t
      ? {
          key: demodOk ? transponderKey(t) : null,
          requiredCnDb: (this.options.requiredCnDb ?? requiredCnDb)(t),
        }
      : null;
    this.reading = active.powerCut
      ? { cnDb: null, levelRaw: 0, locked: false, ber: null }
      : this.model.sample(
          ref,
          {
            lnbPowerOn: this.settings.lnbPower,
            lnbShort: active.lnbShort,
            fadeDb: active.fadeDb,
            sunOutage: active.sunOutage,
          },
          this.locked,
          now < this.acquiringUntil,
        );
    if (this.reading.locked !== this.locked) {
      this.locked = this.reading.locked;
      this.log.info({ locked: this.locked, cnDb: this.reading.cnDb }, this.locked ? 'locked' : 'lock lost');
      this.emit('lock', this.locked);
    }
    this.reconcileStream(active);
  }

  private reconcileStream(active: ActiveFaults): void {
    const service = this.locked && !active.powerCut ? this.currentService() : null;
    const want = service && this.output && this.deps.hub ? service : null;
    // A black feed is another source of the same service (same id and PIDs), shared through the hub.
    const black = want !== null && blackCovers(active, want.key);
    const key = want ? (black ? `${want.key}#black` : want.key) : null;
    if (this.subscription && this.subscription.key !== key) void this.stopStream();
    this.tsMode = { scrambled: active.scrambled, serviceMissing: active.serviceMissing };
    if (want && key && !this.subscription && this.output && this.deps.hub) {
      const hub = this.deps.hub;
      const target = this.output;
      const source: SourceService = {
        key,
        name: want.name,
        serviceId: want.serviceId,
        variant: black ? 'black' : 'normal',
      };
      const sub = hub.subscribe(source, target).then(
        (s) => {
          s.setTransform(this.transformFor(want.serviceId));
          return s;
        },
        (err: unknown) => {
          this.log.error({ err: String(err) }, 'cannot start the stream');
          return null;
        },
      );
      this.subscription = { key, sub };
      this.emit('stream', key);
    }
    const current = this.subscription;
    if (current) void current.sub.then((s) => s?.setPaused(active.freeze));
  }

  /**
   * This output's scrambled / service-missing rewrite. The filter reads every datagram to learn the
   * service's PIDs while the stream is clear; it copies and rewrites only while a fault is on.
   */
  private transformFor(serviceId: number): (datagram: Buffer) => Buffer | null {
    // Its own noise, so scrambling does not shift the signal model's seeded sequence.
    const filter = new TsFaultFilter(serviceId, seededRandom(serviceId));
    const clear: TsFaultMode = { scrambled: false, serviceMissing: false };
    return (datagram) => {
      const mode = this.tsMode;
      if (!mode.scrambled && !mode.serviceMissing) return filter.apply(datagram, clear);
      return filter.apply(Buffer.from(datagram), mode);
    };
  }

  private async stopStream(): Promise<void> {
    const current = this.subscription;
    if (!current) return;
    this.subscription = null;
    this.emit('stream', null);
    (await current.sub)?.close();
  }

  private onFaultsChanged(ended: FaultKind[]): void {
    if (ended.includes('power-cut')) {
      // DOMAIN.md §6: the receiver forgets its settings after a power loss.
      this.settings = { ...FACTORY_SETTINGS };
      this.serviceId = null;
      this.busyUntil = 0;
      this.startAcquisition();
      this.log.warn('power restored: settings lost (factory defaults)');
      this.emit('reboot');
    }
    this.evaluate();
  }
}
