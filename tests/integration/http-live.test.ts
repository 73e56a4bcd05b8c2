/**
 * Live updates (issue 6): the SSE stream carries station state, events and schedule changes as they
 * happen, filtered by what each user may see; a browser that reconnects with Last-Event-ID gets what it
 * missed, and one whose id is unknown is told to resync.
 */
import t from 'tap';
import { type ApiClient, type Harness, startHarness } from '../helpers/headend-harness.js';

const S = 'kongtong-anguo';
const T = 'jingning-weirong';
const HOUR = 3_600_000;
const at = (hours: number) =>
  new Date(Math.ceil(Date.now() / HOUR) * HOUR + hours * HOUR).toISOString().replace('.000Z', 'Z');

interface Message {
  id: string | null;
  event: string;
  data: unknown;
}

/** An SSE reader over fetch. */
class Stream {
  readonly messages: Message[] = [];
  status = 0;
  private readonly ac = new AbortController();
  private waiters: (() => void)[] = [];

  static async open(h: Harness, client: ApiClient, lastEventId?: string): Promise<Stream> {
    const s = new Stream();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (client.cookie) headers.cookie = client.cookie;
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const res = await fetch(`${h.url}/api/v1/stream`, { headers, signal: s.ac.signal });
    s.status = res.status;
    if (res.ok && res.body) void s.read(res.body);
    return s;
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const m: Message = { id: null, event: 'message', data: null };
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) m.id = line.slice(4);
            else if (line.startsWith('event: ')) m.event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) {
            m.data = JSON.parse(data);
            this.messages.push(m);
            for (const w of this.waiters.splice(0)) w();
          }
          i = buf.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  }

  /** Waits for a message matching `pred`. */
  async next(pred: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.find(pred);
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching message; got ${JSON.stringify(this.messages.map((x) => x.event))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close() {
    this.ac.abort();
  }
}

const stationMsg = (id: string, connection?: string) => (m: Message) =>
  m.event === 'station' &&
  (m.data as { id: string }).id === id &&
  (connection === undefined || (m.data as { connection: string }).connection === connection);

t.test('the stream, filtered per user', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const control = await h.as('control');
  const anguo = await h.as('anguo');
  const weirong = await h.as('weirong');
  t.equal((await Stream.open(h, h.anon())).status, 401, 'anonymous: 401');

  const sControl = await Stream.open(h, control);
  const sAnguo = await Stream.open(h, anguo);
  const sWeirong = await Stream.open(h, weirong);
  t.teardown(() => {
    for (const s of [sControl, sAnguo, sWeirong]) s.close();
  });
  t.equal(sControl.status, 200);
  await sControl.next((m) => m.event === 'hello');

  const station = await h.connectStation(S);
  const online = await sControl.next(stationMsg(S, 'online'));
  t.match(
    online.data,
    { id: S, name: '安国镇', connection: 'online', agentVersion: 'test-0.1' },
    'the control room sees the station come online',
  );
  await sAnguo.next(stationMsg(S, 'online'));
  t.pass('so does its operator');

  await station.vanish();
  const gone = await sControl.next(stationMsg(S, 'disconnected'));
  t.match(
    gone.data,
    { connection: 'disconnected', offlineAlarm: false },
    'disconnected at once, no alarm yet',
  );
  const alarmed = await sControl.next(
    (m) => stationMsg(S, 'disconnected')(m) && (m.data as { offlineAlarm: boolean }).offlineAlarm,
    8000,
  );
  t.ok(alarmed, 'the offline alarm follows after the grace period (short profile: 2 s)');
  await sControl.next(
    (m) => m.event === 'alarm' && (m.data as { kind: string; stationId: string }).stationId === S,
  );
  t.pass('with an alarm message');

  const created = await control.post('/api/v1/entries', {
    kind: 'conference',
    title: '静宁县会议',
    service: 'cctv1',
    when: { type: 'once', start: at(30), end: at(31) },
    target: { type: 'station', stationId: T },
  });
  t.equal(created.status, 201);
  const sched = await sWeirong.next((m) => m.event === 'schedule');
  t.match(
    sched.data,
    { op: 'create', title: '静宁县会议', stations: [T] },
    "weirong's operator is told about its schedule",
  );
  await sControl.next((m) => m.event === 'schedule');

  // Fence: a message anguo may see, published after everything above; once it arrived, the others would have.
  const fence = await control.post('/api/v1/entries', {
    kind: 'conference',
    title: 'fence',
    service: 'cctv1',
    when: { type: 'once', start: at(32), end: at(33) },
    target: { type: 'station', stationId: S },
  });
  t.equal(fence.status, 201);
  await sAnguo.next((m) => m.event === 'schedule' && (m.data as { title: string }).title === 'fence');
  await sWeirong
    .next((m) => m.event === 'schedule' && (m.data as { title: string }).title === 'fence', 300)
    .then(
      () => t.fail('weirong must not get the schedule of another township'),
      () => t.pass('weirong does not get the other township’s schedule'),
    );
  t.notOk(
    sAnguo.messages.some(
      (m) => m.event === 'schedule' && (m.data as { stations: string[] }).stations.includes(T),
    ),
    'anguo got nothing about weirong',
  );
  t.notOk(sWeirong.messages.some(stationMsg(S)), 'weirong got nothing about anguo’s station');
  t.notOk(
    sWeirong.messages.some((m) => m.event === 'alarm'),
    'nor its alarms',
  );

  t.test('reconnecting with Last-Event-ID', async (t) => {
    const firstId = online.id;
    t.ok(firstId, 'messages carry ids');
    const again = await Stream.open(h, control, firstId ?? undefined);
    t.teardown(() => again.close());
    const replayed = await again.next(stationMsg(S, 'disconnected'));
    t.ok(replayed, 'what was missed since that id is replayed');
    t.notOk(
      again.messages.some((m) => m.id === firstId),
      'but not the message it had',
    );
    const stale = await Stream.open(h, control, 'otherepoch-5');
    t.teardown(() => stale.close());
    await stale.next((m) => m.event === 'resync');
    t.pass('an id from another headend run means resync');
  });
});
