/**
 * Alarm webhooks against a real local HTTP server (issue 8: "a webhook per rule (JSON)"): the JSON body,
 * the signature, per-rule selection, order, retries with backoff on 5xx and timeouts (short timing
 * profile), no retry on a 4xx, and that notifying never waits for the network.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { carrierLookupFromLineup } from '../../headend/alarms/carriers.js';
import { createAlarmService } from '../../headend/alarms/service.js';
import type { AlarmTransition } from '../../headend/alarms/types.js';
import { createWebhookNotifier, type WebhookPayload } from '../../headend/alarms/webhook.js';
import { openStore } from '../../headend/store/index.js';
import { shortTiming } from '../../protocol/timing.js';
import { LINEUP, T0, telemetry } from '../helpers/alarm-rig.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: WebhookPayload;
}

/** A receiver whose answer per request is decided by `respond` (status, or 'hang'). */
async function receiver(t: Test, respond: (n: number, r: Received) => number | 'hang' = () => 204) {
  const got: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      raw += c;
    });
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) as WebhookPayload };
      got.push(r);
      const what = respond(got.length, r);
      if (what === 'hang') hanging.push(res);
      else res.writeHead(what).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const h of hanging) h.destroy();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = (path = '/hook') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return { got, url };
}

const alarm = (
  kind: AlarmTransition['alarm']['kind'],
  type: AlarmTransition['type'] = 'raised',
): AlarmTransition => ({
  type,
  at: T0,
  alarm: {
    id: `id-${kind}`,
    scope: 'station',
    station: 'st-001',
    carrier: '3840H27500',
    subject: 'rx1',
    kind,
    severity: 'critical',
    cause: {
      row: 'lnb-cable-fault',
      failure: 'LNB or cable fault',
      respond: 'LNB power off/on once',
      text: 'short circuit',
    },
    evidence: { text: 'LNB supply of rx1 reports short', facts: { lnb: 'short' } },
    raisedAt: T0,
    ackedBy: null,
    ackedAt: null,
    clearedAt: type === 'cleared' ? T0 + 1000 : null,
    linkedTo: null,
  },
});

t.test('a raised alarm reaches the receiver as signed JSON', async (t) => {
  const rx = await receiver(t);
  const secret = 'a-shared-secret-of-32-characters';
  const n = createWebhookNotifier({
    hooks: [{ url: rx.url(), secret, headers: { authorization: 'Bearer xyz' } }],
    timing: shortTiming,
  });
  t.teardown(() => n.close());
  n.notify(alarm('lnb_fault'));
  await n.idle();
  t.equal(rx.got.length, 1);
  const r = rx.got[0] as Received;
  t.equal(r.headers['content-type'], 'application/json');
  t.equal(r.headers.authorization, 'Bearer xyz');
  t.equal(r.headers['x-ruralsat-delivery'], r.body.deliveryId);
  const sig = `sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`;
  t.equal(r.headers['x-ruralsat-signature'], sig, 'HMAC of the exact body');
  t.match(r.body, {
    version: 1,
    type: 'raised',
    at: '2026-11-27T02:00:00.000Z',
    text: '[CRITICAL] st-001 lnb_fault (rx1): LNB supply of rx1 reports short — probable cause: short circuit',
    alarm: {
      id: 'id-lnb_fault',
      station: 'st-001',
      kind: 'lnb_fault',
      summary: 'LNB supply short or no load: site visit',
      severity: 'critical',
      cause: { row: 'lnb-cable-fault', text: 'short circuit' },
      evidence: { facts: { lnb: 'short' } },
      raisedAt: '2026-11-27T02:00:00.000Z',
      clearedAt: null,
    },
  });
});

t.test('one webhook per rule: each hook gets only its kinds and severities, in order', async (t) => {
  const rx = await receiver(t);
  const n = createWebhookNotifier({
    hooks: [
      { url: rx.url('/lnb'), kinds: ['lnb_fault'] },
      { url: rx.url('/critical'), minSeverity: 'critical', events: ['raised', 'cleared'] },
    ],
    timing: shortTiming,
  });
  t.teardown(() => n.close());
  n.notify(alarm('lnb_fault'));
  n.notify(alarm('disk_full'));
  n.notify({ ...alarm('disk_low'), alarm: { ...alarm('disk_low').alarm, severity: 'warning' } });
  n.notify(alarm('lnb_fault', 'acknowledged'));
  n.notify(alarm('lnb_fault', 'cleared'));
  await n.idle();
  const seen = (path: string) =>
    rx.got.filter((r) => r.path === path).map((r) => `${r.body.type}:${r.body.alarm.kind}`);
  t.same(seen('/lnb'), ['raised:lnb_fault', 'acknowledged:lnb_fault', 'cleared:lnb_fault']);
  t.same(seen('/critical'), ['raised:lnb_fault', 'raised:disk_full', 'cleared:lnb_fault']);
});

t.test('5xx and timeouts are retried with the same delivery id; a 4xx is not', async (t) => {
  let flakyCalls = 0;
  const rx = await receiver(t, (_n, r) => {
    if (r.path !== '/flaky') return 404;
    flakyCalls += 1;
    return flakyCalls === 1 ? 503 : flakyCalls === 2 ? 'hang' : 200;
  });
  const n = createWebhookNotifier({
    hooks: [{ url: rx.url('/flaky') }, { url: rx.url('/gone') }],
    timing: shortTiming,
  });
  t.teardown(() => n.close());
  n.notify(alarm('lnb_fault'));
  await n.idle();
  const flaky = rx.got.filter((r) => r.path === '/flaky');
  t.equal(flaky.length, 3, '503, then a timeout, then delivered');
  t.equal(new Set(flaky.map((r) => r.body.deliveryId)).size, 1, 'same delivery id every attempt');
  t.equal(rx.got.filter((r) => r.path === '/gone').length, 1, '404 is not retried');
  const [flakyStats, goneStats] = n.stats();
  t.match(flakyStats, { delivered: 1, retried: 2, failed: 0 });
  t.match(goneStats, { delivered: 0, failed: 1 });
});

t.test('a receiver that never answers: given up after the retries, counted', async (t) => {
  const rx = await receiver(t, () => 500);
  const n = createWebhookNotifier({ hooks: [{ url: rx.url() }], timing: shortTiming });
  t.teardown(() => n.close());
  n.notify(alarm('lnb_fault'));
  await n.idle();
  t.equal(rx.got.length, 1 + shortTiming.webhookRetries, 'first attempt plus the retries');
  t.match(n.stats()[0], { delivered: 0, failed: 1, retried: shortTiming.webhookRetries });
});

t.test('notifying never waits for the network', async (t) => {
  const rx = await receiver(t, () => 'hang');
  const n = createWebhookNotifier({
    hooks: [{ url: rx.url() }],
    timing: { ...shortTiming, webhookRetries: 0 },
  });
  t.teardown(() => n.close());
  for (let i = 0; i < 50; i++) n.notify(alarm('lnb_fault'));
  t.equal(rx.got.length, 0, 'notify returned before any request was even sent');
  t.equal(n.stats()[0]?.queued, 49, 'queued behind the one in flight');
});

t.test('bad hook config fails fast with the field named', async (t) => {
  t.throws(
    () => createWebhookNotifier({ hooks: [{ url: 'ftp://example.org/x' }], timing: shortTiming }),
    /url/,
  );
  t.throws(
    () =>
      createWebhookNotifier({
        hooks: [{ url: 'http://x', kinds: ['no_such_kind' as never] }],
        timing: shortTiming,
      }),
    /kinds/,
  );
});

t.test('end to end: the alarm service posts what the engine raises and clears', async (t) => {
  const rx = await receiver(t);
  const store = openStore(':memory:');
  let now = T0;
  const service = createAlarmService({
    db: store.db,
    timing: shortTiming,
    clock: () => now,
    carrierOf: carrierLookupFromLineup(LINEUP),
    webhooks: [{ url: rx.url(), kinds: ['receiver_unresponsive'] }],
  });
  t.teardown(() => {
    service.close();
    store.close();
  });
  const feed = (link: 'up' | 'down', ms: number) => {
    for (const end = now + ms; now < end; now += 250) {
      service.engine.observeTelemetry('st-003', telemetry(now, [{ link }]), now);
      service.engine.tick(now);
    }
  };
  feed('down', shortTiming.alarmRaiseHoldMs + 500);
  feed('up', shortTiming.alarmClearHoldMs + 500);
  await service.webhooksIdle();
  t.same(
    rx.got.map((r) => [r.body.type, r.body.alarm.kind, r.body.alarm.station]),
    [
      ['raised', 'receiver_unresponsive', 'st-003'],
      ['cleared', 'receiver_unresponsive', 'st-003'],
    ],
  );
  t.equal(service.repo.list({ station: 'st-003' }).length, 1, 'and it is in the store');
});
