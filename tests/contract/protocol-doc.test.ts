/**
 * protocol/PROTOCOL.md cannot drift from the code: every fenced `json schema=<message>` example is parsed
 * with that message's schema, every message, event type and RPC method has an example, and the document's
 * tables agree with the topic table, the registry and the rendered ACL.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { renderMosquittoAcl } from '../../protocol/acl.js';
import { decodePayload } from '../../protocol/messages/decode.js';
import { MESSAGE_SCHEMAS } from '../../protocol/messages/index.js';
import { RPC_SCHEMAS } from '../../protocol/messages/rpc-methods.js';
import {
  ALARM_KINDS,
  EVENT_TYPES,
  FAILURES,
  RPC_METHOD_NAMES,
  RPC_METHODS,
} from '../../protocol/registry.js';
import { TOPIC_TABLE, type TopicMessage } from '../../protocol/topics.js';

const DOC_PATH = fileURLToPath(new URL('../../protocol/PROTOCOL.md', import.meta.url));
const doc = readFileSync(DOC_PATH, 'utf8');

interface Block {
  lang: string;
  attrs: Record<string, string>;
  body: string;
  line: number;
}

/** Fenced code blocks with their info-string attributes (`json schema=state method=x`). */
function fencedBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const re = /^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [lang = '', ...rest] = (m[1] ?? '').trim().split(/\s+/);
    const attrs: Record<string, string> = {};
    for (const kv of rest) {
      const [k, v] = kv.split('=');
      if (k && v) attrs[k] = v;
    }
    blocks.push({ lang, attrs, body: m[2] ?? '', line: text.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

/** The rows of the markdown table that follows `heading`, as arrays of trimmed cells. */
function tableAfter(text: string, heading: string): string[][] {
  const start = text.indexOf(heading);
  if (start < 0) return [];
  const lines = text.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(first + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const blocks = fencedBlocks(doc);
const json = blocks.filter((b) => b.lang === 'json');
const isMessage = (s: string | undefined): s is TopicMessage =>
  s !== undefined && Object.hasOwn(MESSAGE_SCHEMAS, s);

t.test('the document has examples at all (the extractor works)', async (t) => {
  t.ok(json.length >= 30, `found ${json.length} JSON examples`);
});

t.test('every JSON example names a message schema and parses with it', async (t) => {
  for (const b of json) {
    const where = `PROTOCOL.md:${b.line}`;
    const schemaName = b.attrs.schema;
    if (!isMessage(schemaName)) {
      t.fail(`${where}: json block without a known schema= (got ${JSON.stringify(schemaName)})`);
      continue;
    }
    const decoded = decodePayload(MESSAGE_SCHEMAS[schemaName], b.body);
    t.ok(decoded.ok, `${where} parses as ${schemaName}`, decoded.ok ? {} : { error: decoded.error });
    const method = b.attrs.method;
    if (method !== undefined) {
      t.ok(Object.hasOwn(RPC_SCHEMAS, method), `${where}: method=${method} is a registry method`);
      if (decoded.ok && schemaName === 'rpc-response' && Object.hasOwn(RPC_SCHEMAS, method)) {
        const res = decoded.value as { ok: boolean; result?: unknown };
        t.equal(res.ok, true, `${where}: a method= response is a success`);
        const check = RPC_SCHEMAS[method as keyof typeof RPC_SCHEMAS].result.safeParse(res.result);
        t.ok(check.success, `${where}: result is a valid ${method} result`, {
          issues: check.success ? [] : check.error.issues,
        });
      }
    }
  }
});

t.test('every message in the topic table has an example', async (t) => {
  const used = new Set(json.map((b) => b.attrs.schema));
  for (const row of TOPIC_TABLE) t.ok(used.has(row.message), `${row.kind}: example of ${row.message}`);
});

t.test('every event type has an example', async (t) => {
  const types = new Set(
    json.filter((b) => b.attrs.schema === 'event').map((b) => (JSON.parse(b.body) as { type: string }).type),
  );
  for (const type of EVENT_TYPES) t.ok(types.has(type), `example of ${type}`);
});

t.test('every RPC method has a request and a response example; failures are shown too', async (t) => {
  const requests = new Set(
    json
      .filter((b) => b.attrs.schema === 'rpc-request')
      .map((b) => (JSON.parse(b.body) as { method: string }).method),
  );
  const responses = new Set(json.filter((b) => b.attrs.schema === 'rpc-response').map((b) => b.attrs.method));
  for (const m of RPC_METHOD_NAMES) {
    t.ok(requests.has(m), `request example of ${m}`);
    t.ok(responses.has(m), `response example of ${m}`);
  }
  t.ok(
    json.some(
      (b) => b.attrs.schema === 'rpc-response' && (JSON.parse(b.body) as { ok: boolean }).ok === false,
    ),
    'an error response example',
  );
  t.ok(
    json.some(
      (b) =>
        b.attrs.schema === 'station-state' && (JSON.parse(b.body) as { online: boolean }).online === false,
    ),
    'a Will example',
  );
});

t.test('the topic table in the document matches TOPIC_TABLE', async (t) => {
  const rows = tableAfter(doc, '## 2. Topics');
  t.equal(rows.length, TOPIC_TABLE.length, 'one row per topic');
  for (const spec of TOPIC_TABLE) {
    const row = rows.find((r) => r[0] === `\`ruralsat/v1/${spec.pattern}\``);
    if (!row) {
      t.fail(`no row for ruralsat/v1/${spec.pattern}`);
      continue;
    }
    const [, kind, direction, retained, qos, message] = row;
    t.equal(kind, spec.kind, `${spec.pattern} kind`);
    t.equal(direction?.replace(' → ', '→'), spec.direction, `${spec.pattern} direction`);
    t.equal(retained?.startsWith('yes'), spec.retained, `${spec.pattern} retained`);
    t.equal(Number(qos), spec.qos, `${spec.pattern} QoS`);
    t.equal(message, spec.message, `${spec.pattern} message`);
  }
});

t.test('the registry tables in the document match the registry', async (t) => {
  const events = tableAfter(doc, '### 5.2 Event types').map((r) => r[0]?.replaceAll('`', ''));
  t.same(events, [...EVENT_TYPES], 'event types');
  const methods = tableAfter(doc, '### 5.3 RPC methods');
  t.same(
    methods.map((r) => [r[0]?.replaceAll('`', ''), r[1] === 'yes']),
    RPC_METHOD_NAMES.map((m) => [m, RPC_METHODS[m].sideEffects]),
    'RPC methods and side effects',
  );
  const alarms = tableAfter(doc, '### 5.4 Alarm kinds');
  t.same(
    alarms.map((r) => [r[0]?.replaceAll('`', ''), r[1], r[2]]),
    Object.entries(ALARM_KINDS).map(([k, v]) => [k, v.severity, v.raisedBy]),
    'alarm kinds, severities, who raises them',
  );
  for (const row of alarms) {
    const kind = row[0]?.replaceAll('`', '') as keyof typeof ALARM_KINDS;
    const failure = FAILURES[ALARM_KINDS[kind].row].failure;
    // The document may shorten the failure's name, but not name another row.
    t.ok(failure.startsWith((row[3] ?? '').split(' (')[0] ?? '-'), `${kind} → ${failure}`);
  }
});

t.test('the Mosquitto ACL shown is the one renderMosquittoAcl produces', async (t) => {
  const text = blocks.find((b) => b.lang === 'text' && b.body.includes('pattern read'));
  const strip = (s: string) => s.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  t.same(strip(text?.body ?? ''), strip(renderMosquittoAcl('ruralsat/v1', 'headend')));
});

t.test('the plan.explain example is what the planner makes of the schedule example', async (t) => {
  const { plan } = await import('../../protocol/planner/index.js');
  const scheduleBlock = json.find((b) => b.attrs.schema === 'schedule');
  const explainBlock = json.find(
    (b) => b.attrs.schema === 'rpc-response' && b.attrs.method === 'plan.explain',
  );
  const document = MESSAGE_SCHEMAS.schedule.parse(JSON.parse(scheduleBlock?.body ?? 'null'));
  const shown = JSON.parse(explainBlock?.body ?? 'null') as {
    result: { plan: { window: { from: string; to: string } } };
  };
  t.strictSame(plan(document, shown.result.plan.window), shown.result.plan);
});
