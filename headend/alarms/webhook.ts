/**
 * Alarm webhooks (issue 8 "Notifications: a webhook per rule (JSON)"). Each configured hook receives a JSON
 * POST for the transitions and kinds it selects — one hook per rule by listing one kind, or one hook for all.
 * Delivery never blocks ingest: `notify` only enqueues; a worker per hook posts in order with a timeout and
 * retries with exponential backoff (timing profile: webhookTimeoutMs, webhookRetryMinMs, webhookRetries).
 * Every delivery carries a `deliveryId` that stays the same across retries, so a receiver can drop
 * duplicates; with a `secret`, `X-Ruralsat-Signature: sha256=<HMAC of the body>` lets it verify the sender.
 * A full queue drops its oldest notification and counts it (the alarm itself is safe in the store).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ALARM_KINDS, AlarmKind, AlarmSeverity } from '../../protocol/registry.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Logger } from '../log.js';
import { type AlarmTransition, SEVERITY_LEVEL } from './types.js';

const TRANSITIONS = [
  'raised',
  'cleared',
  'severity',
  'acknowledged',
  'linked',
  'unlinked',
  'updated',
] as const;

/** One webhook (part of the headend config). */
export const WebhookConfigSchema = z
  .object({
    /** Receiver of the JSON POSTs (http or https). */
    url: z.url({ protocol: /^https?$/ }),
    /** Kinds this hook is for; empty = every kind. One kind = "a webhook per rule". */
    kinds: z.array(AlarmKind).default([]),
    /** Lowest severity sent. */
    minSeverity: AlarmSeverity.default('info'),
    /** Transitions sent. */
    events: z.array(z.enum(TRANSITIONS)).min(1).default(['raised', 'severity', 'acknowledged', 'cleared']),
    /** Shared secret for the HMAC-SHA256 signature header (at least 16 characters). */
    secret: z.string().min(16).optional(),
    /** Extra request headers (e.g. an Authorization token of the receiving system). */
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;
export type WebhookConfigInput = z.input<typeof WebhookConfigSchema>;

/** The JSON body of one notification (`version` changes only incompatibly). */
export interface WebhookPayload {
  version: 1;
  deliveryId: string;
  type: AlarmTransition['type'];
  at: string;
  actor: string | null;
  previousSeverity: string | null;
  /** One line for chat rooms and pagers. */
  text: string;
  alarm: Record<string, unknown>;
}

/** Dependencies of the notifier. */
export interface WebhookDeps {
  hooks: readonly WebhookConfigInput[];
  timing: Pick<TimingProfile, 'webhookTimeoutMs' | 'webhookRetryMinMs' | 'webhookRetries'>;
  /** HTTP client (default: the global fetch). */
  fetch?: typeof fetch;
  logger?: Pick<Logger, 'warn' | 'info' | 'debug'>;
  /** Queue bound per hook (default 1000). */
  maxQueue?: number;
}

/** Delivery counters, per hook url. */
export interface WebhookStats {
  url: string;
  delivered: number;
  failed: number;
  retried: number;
  dropped: number;
  queued: number;
}

/** The notifier. */
export interface WebhookNotifier {
  /** Enqueues `tr` for every hook that selects it; returns at once. */
  notify(tr: AlarmTransition): void;
  /** Resolves when every queue is empty and nothing is in flight (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops: aborts deliveries in flight and forgets queued ones. */
  close(): void;
  stats(): WebhookStats[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The body sent for one transition. */
export function webhookPayload(tr: AlarmTransition, deliveryId: string): WebhookPayload {
  const a = tr.alarm;
  const where = a.station ?? (a.carrier ? `carrier ${a.carrier}` : 'fleet');
  const verb = tr.type === 'raised' ? '' : ` ${tr.type.toUpperCase()}${tr.actor ? ` by ${tr.actor}` : ''}:`;
  return {
    version: 1,
    deliveryId,
    type: tr.type,
    at: new Date(tr.at).toISOString(),
    actor: tr.actor ?? null,
    previousSeverity: tr.previousSeverity ?? null,
    text: `[${a.severity.toUpperCase()}]${verb} ${where} ${a.kind}${a.subject ? ` (${a.subject})` : ''}: ${a.evidence.text} — probable cause: ${a.cause.text}`,
    alarm: {
      id: a.id,
      scope: a.scope,
      station: a.station,
      carrier: a.carrier,
      subject: a.subject,
      kind: a.kind,
      summary: ALARM_KINDS[a.kind].summary,
      severity: a.severity,
      cause: a.cause,
      evidence: a.evidence,
      raisedAt: iso(a.raisedAt),
      ackedBy: a.ackedBy,
      ackedAt: iso(a.ackedAt),
      clearedAt: iso(a.clearedAt),
      linkedTo: a.linkedTo,
    },
  };
}

const RETRYABLE_4XX = new Set([408, 425, 429]);

/** Builds the notifier; an invalid hook config throws a `ZodError` listing every field. */
export function createWebhookNotifier(deps: WebhookDeps): WebhookNotifier {
  const hooks = deps.hooks.map((h) => WebhookConfigSchema.parse(h));
  const doFetch = deps.fetch ?? fetch;
  const maxQueue = deps.maxQueue ?? 1000;
  const t = deps.timing;
  let closed = false;
  const abort = new AbortController();
  const idleWaiters: (() => void)[] = [];

  const workers = hooks.map((hook) => ({
    hook,
    queue: [] as { body: string; id: string }[],
    running: false,
    stats: { url: hook.url, delivered: 0, failed: 0, retried: 0, dropped: 0, queued: 0 },
  }));

  const selects = (h: WebhookConfig, tr: AlarmTransition) =>
    h.events.includes(tr.type) &&
    (h.kinds.length === 0 || h.kinds.includes(tr.alarm.kind)) &&
    SEVERITY_LEVEL[tr.alarm.severity] >= SEVERITY_LEVEL[h.minSeverity];

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });

  function checkIdle(): void {
    if (workers.every((w) => !w.running && w.queue.length === 0)) for (const r of idleWaiters.splice(0)) r();
  }

  /** One POST; resolves to 'ok', 'retry' (with an optional server-requested delay) or 'fail'. */
  async function post(
    w: (typeof workers)[number],
    body: string,
    id: string,
  ): Promise<{ r: 'ok' | 'retry' | 'fail'; after?: number; why: string }> {
    const headers: Record<string, string> = {
      ...w.hook.headers,
      'content-type': 'application/json',
      'user-agent': 'ruralsat-headend',
      'x-ruralsat-delivery': id,
    };
    if (w.hook.secret)
      headers['x-ruralsat-signature'] =
        `sha256=${createHmac('sha256', w.hook.secret).update(body).digest('hex')}`;
    try {
      const res = await doFetch(w.hook.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(t.webhookTimeoutMs)]),
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined); // drain so the connection is reused
      if (res.ok) return { r: 'ok', why: `HTTP ${res.status}` };
      if (res.status >= 500 || RETRYABLE_4XX.has(res.status)) {
        const ra = Number(res.headers.get('retry-after'));
        return {
          r: 'retry',
          ...(Number.isFinite(ra) && ra > 0 ? { after: ra * 1000 } : {}),
          why: `HTTP ${res.status}`,
        };
      }
      return { r: 'fail', why: `HTTP ${res.status}` };
    } catch (err) {
      const e = err as Error;
      return {
        r: 'retry',
        why: e.name === 'TimeoutError' ? `timeout after ${t.webhookTimeoutMs} ms` : e.message,
      };
    }
  }

  async function run(w: (typeof workers)[number]): Promise<void> {
    w.running = true;
    try {
      for (let item = w.queue.shift(); item && !closed; item = w.queue.shift()) {
        w.stats.queued = w.queue.length;
        let done = false;
        for (let attempt = 0; attempt <= t.webhookRetries && !closed; attempt++) {
          const res = await post(w, item.body, item.id);
          if (res.r === 'ok') {
            w.stats.delivered += 1;
            done = true;
            break;
          }
          if (res.r === 'fail' || attempt === t.webhookRetries) {
            deps.logger?.warn(
              { url: w.hook.url, deliveryId: item.id, why: res.why, attempts: attempt + 1 },
              'alarm webhook given up',
            );
            break;
          }
          w.stats.retried += 1;
          const backoff = Math.min(t.webhookRetryMinMs * 2 ** attempt, 60 * t.webhookRetryMinMs);
          const delay = Math.min(
            res.after ?? backoff * (0.8 + 0.4 * Math.random()),
            60 * t.webhookRetryMinMs,
          );
          deps.logger?.debug(
            { url: w.hook.url, deliveryId: item.id, why: res.why, delay },
            'alarm webhook retry',
          );
          await sleep(delay);
        }
        if (!done && !closed) w.stats.failed += 1;
      }
    } finally {
      w.running = false;
      w.stats.queued = w.queue.length;
      checkIdle();
    }
  }

  return {
    notify(tr) {
      if (closed) return;
      for (const w of workers) {
        if (!selects(w.hook, tr)) continue;
        const id = randomUUID();
        w.queue.push({ body: JSON.stringify(webhookPayload(tr, id)), id });
        if (w.queue.length > maxQueue) {
          w.queue.shift();
          w.stats.dropped += 1;
        }
        w.stats.queued = w.queue.length;
        if (!w.running) void run(w);
      }
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
    close() {
      closed = true;
      abort.abort();
      for (const w of workers) w.queue.length = 0;
      checkIdle();
    },
    stats: () => workers.map((w) => ({ ...w.stats })),
  };
}
