/**
 * Live messages built on demand (headend/http/sse.ts `publishLazy`): during a fleet-wide push every station
 * changes at once (DESIGN.md §8), so a station view is only built and serialised when an open stream needs
 * it — yet a browser that reconnects with `Last-Event-ID` still gets what it missed.
 */
import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { pino } from 'pino';
import t from 'tap';
import type { Principal } from '../../headend/http/auth.js';
import { SseHub } from '../../headend/http/sse.js';

/** Just enough of an express Response for the hub: records what is written. */
function fakeResponse() {
  const written: string[] = [];
  const ee = new EventEmitter();
  const res = {
    writableEnded: false,
    destroyed: false,
    socket: { writableLength: 0, setNoDelay: () => undefined },
    status: () => res,
    set: () => res,
    json: () => res,
    flushHeaders: () => undefined,
    on: (ev: string, fn: () => void) => ee.on(ev, fn),
    write: (text: string) => {
      written.push(text);
      return true;
    },
    end: () => {
      res.writableEnded = true;
    },
  };
  return { res: res as unknown as Response, written };
}

const principal = (role: string, stations: string[] = []) =>
  ({ user: { id: `u-${role}`, role, stations }, via: 'session' }) as unknown as Principal;

const events = (written: string[], type: string) =>
  written.filter((w) => w.includes(`event: ${type}\n`)).map((w) => /data: (.*)\n/.exec(w)?.[1] ?? '');

t.test('nothing is built while no stream is open; a reconnect still gets it', async (t) => {
  const hub = new SseHub({ logger: pino({ level: 'silent' }) });
  t.teardown(() => hub.close());
  let builds = 0;
  let state = 'applied n=2';
  hub.publish({ type: 'alarm', stations: ['st-a'], data: { kind: 'x' } });
  hub.publishLazy({ type: 'station', stations: ['st-a'] }, () => {
    builds++;
    return { id: 'st-a', state };
  });
  t.equal(builds, 0, 'no client: the view is not built');

  // A browser that saw the alarm (id …-1) reconnects: it gets the station message, built now.
  const first = fakeResponse();
  hub.open(principal('admin'), first.res, undefined);
  const hello = first.written.find((w) => w.startsWith('event: hello'));
  t.ok(hello);
  const epoch = JSON.parse(/data: (.*)\n/.exec(hello ?? '')?.[1] ?? '{}').epoch as string;
  state = 'applied n=3';
  const again = fakeResponse();
  hub.open(principal('admin'), again.res, `${epoch}-1`);
  t.same(events(again.written, 'station'), [JSON.stringify({ id: 'st-a', state: 'applied n=3' })]);
  t.equal(builds, 1);
  t.same(events(again.written, 'alarm'), [], 'what it had seen is not sent again');
});

t.test('an open stream gets each message built once, and only what it may see', async (t) => {
  const hub = new SseHub({ logger: pino({ level: 'silent' }) });
  t.teardown(() => hub.close());
  const admin = fakeResponse();
  const operator = fakeResponse();
  const other = fakeResponse();
  hub.open(principal('admin'), admin.res, undefined);
  hub.open(principal('operator', ['st-a']), operator.res, undefined);
  hub.open(principal('operator', ['st-b']), other.res, undefined);
  let builds = 0;
  hub.publishLazy({ type: 'station', stations: ['st-a'] }, () => {
    builds++;
    return { id: 'st-a' };
  });
  t.equal(builds, 1, 'built once for every stream');
  t.equal(events(admin.written, 'station').length, 1);
  t.equal(events(operator.written, 'station').length, 1);
  t.equal(events(other.written, 'station').length, 0, 'not one of their stations');

  // A station that is gone by the time its view is built: nothing is sent, nothing breaks.
  hub.publishLazy({ type: 'station', stations: ['st-a'] }, () => undefined);
  hub.publishLazy({ type: 'station', stations: ['st-a'] }, () => {
    throw new Error('registry closed');
  });
  t.equal(events(admin.written, 'station').length, 1);
  hub.publish({ type: 'alarm', stations: ['st-a'], data: { kind: 'y' } });
  t.equal(events(admin.written, 'alarm').length, 1, 'later messages still flow');
});
