/**
 * The headend's pure diagnostics parts: which remedies are offered for which alarm (DOMAIN.md §6 "Respond":
 * LNB power off/on once, reset then escalate, retention for a full disk, nothing to reset for a fade),
 * who may call which method, what an audit row keeps of a result, and the UI texts in both languages.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { DIAGNOSTIC_METHODS, isRemedy, mayCall, methodsFor } from '../../headend/diagnostics/access.js';
import { remediesFor } from '../../headend/diagnostics/remedies.js';
import { auditResult } from '../../headend/diagnostics/service.js';
import { RPC_SCHEMAS } from '../../protocol/messages/rpc-methods.js';
import { ALARM_KIND_NAMES, type AlarmKind } from '../../protocol/registry.js';

const alarm = (kind: AlarmKind, subject = 'rx1', facts: Record<string, unknown> = {}) => ({
  kind,
  subject,
  evidence: { facts },
});

t.test('remedies offered next to the alarm they fit', async (t) => {
  const cases: [AlarmKind, string[]][] = [
    ['lnb_fault', ['receiver.lnb', 'receiver.status']],
    // No receiver family known: no reset (tests/unit/diagnostics-remedies.test.ts covers the RX8200).
    ['receiver_unresponsive', ['receiver.retune', 'stream.probe']],
    ['stream_frozen', ['receiver.retune', 'stream.probe']],
    ['signal_lost', ['receiver.retune', 'receiver.status']],
    ['disk_full', ['recordings.retention', 'disk.usage']],
    ['disk_low', ['recordings.retention', 'disk.usage']],
    ['margin_low', ['receiver.status']],
    ['margin_trend', ['receiver.status']],
    ['scrambled', ['stream.probe', 'logs.tail']],
    ['black_or_silent', []],
    ['fleet_signal_lost', []],
    ['station_offline', []],
  ];
  for (const [kind, methods] of cases)
    t.same(
      remediesFor(alarm(kind)).map((r) => r.method),
      methods,
      kind,
    );
  const lnb = remediesFor(alarm('lnb_fault'))[0];
  t.same(lnb?.params, { receiverId: 'rx1', power: 'cycle' }, 'the LNB is power-cycled, not switched off');
  t.same(remediesFor(alarm('signal_lost', 'evt-1', { receiverId: 'rx2' }))[0]?.params, { receiverId: 'rx2' });
  for (const kind of ALARM_KIND_NAMES) {
    for (const r of remediesFor(alarm(kind))) {
      t.ok(RPC_SCHEMAS[r.method].params.safeParse(r.params).success, `${kind}: ${r.method} params are valid`);
    }
  }
});

t.test('who may call: technicians and admins; never operators', async (t) => {
  for (const m of DIAGNOSTIC_METHODS) {
    t.ok(mayCall('technician', m) && mayCall('admin', m), `${m}: technician and admin`);
    t.notOk(mayCall('operator', m), `${m}: not an operator`);
    t.notOk(mayCall('control-room', m), `${m}: not the control room`);
  }
  t.same(methodsFor('operator'), []);
  t.ok(isRemedy('receiver.reset') && !isRemedy('receiver.status'));
});

t.test('an audit row keeps a small result whole and a large one summarised', async (t) => {
  t.same(auditResult({ a: 1 }, 100), { result: { a: 1 } });
  const big = auditResult({ entries: 'x'.repeat(500) }, 100);
  t.match(big, { resultTruncated: true, resultChars: Number, resultHead: String });
  t.equal((big.resultHead as string).length, 100);
});

t.test('the technician texts exist in both languages', async (t) => {
  const file = pathToFileURL(path.resolve('headend/web/js/tech-i18n.js')).href;
  const { TECH_DICTIONARIES } = (await import(file)) as {
    TECH_DICTIONARIES: Record<'zh-CN' | 'en', Record<string, string>>;
  };
  const zh = Object.keys(TECH_DICTIONARIES['zh-CN']).sort();
  const en = Object.keys(TECH_DICTIONARIES.en).sort();
  t.same(zh, en, 'same keys');
  for (const m of DIAGNOSTIC_METHODS) t.ok(zh.includes(`diag.m.${m}`), `a label for ${m}`);
  for (const [k, v] of Object.entries(TECH_DICTIONARIES.en)) {
    const want = (TECH_DICTIONARIES['zh-CN'][k]?.match(/\{\w+\}/g) ?? []).sort();
    t.same((v.match(/\{\w+\}/g) ?? []).sort(), want, `${k}: same placeholders`);
  }
});
