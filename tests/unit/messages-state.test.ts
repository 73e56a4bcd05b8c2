import t from 'tap';
import { Ack, ackCovers } from '../../protocol/messages/ack.js';
import { compareBoot } from '../../protocol/messages/common.js';
import { HeadendState } from '../../protocol/messages/headend-state.js';
import { StationState } from '../../protocol/messages/state.js';

const HASH = 'a'.repeat(64);
const STORE = '0123456789abcdef';

function birth(over: Record<string, unknown> = {}) {
  return {
    online: true,
    boot: { n: 3, conn: 9 },
    storeId: STORE,
    agentVersion: '0.1.0',
    protocolRevision: 0,
    plannerVersion: 1,
    at: '2026-03-06T00:00:00Z',
    schedule: { version: { epoch: 1, n: 5 }, hash: HASH, appliedAt: '2026-03-05T23:59:00Z' },
    receivers: [
      {
        id: 'rx1',
        family: 'rx8200',
        sharing: 'service',
        link: 'up',
        locked: true,
        service: 'cctv1',
        marginDb: 4.5,
        lnb: 'ok',
      },
    ],
    clock: { offsetMs: 12, rttMs: 80, trusted: true },
    ...over,
  };
}

const ok = (v: unknown) => StationState.safeParse(v).success;

t.test('a birth and a Will are both valid state payloads', async (t) => {
  t.ok(ok(birth()));
  t.ok(ok({ online: false, boot: { n: 3, conn: 9 } }), 'the Will');
  t.ok(ok(birth({ schedule: null })), 'no schedule yet');
  t.ok(ok(birth({ maintenance: { holder: 'tech', until: '2026-03-06T01:00:00Z' } })), 'maintenance hold');
});

t.test('the Will carries nothing but online and boot', async (t) => {
  t.notOk(ok({ online: false }), 'boot is required: without it a late Will cannot be ordered');
  t.notOk(ok({ online: false, boot: { n: 3, conn: 9 }, at: '2026-03-06T00:00:00Z' }), 'strict');
  t.notOk(ok({ ...birth(), online: false }), 'a birth body with online:false is not a Will');
});

t.test('schedule status: applied, or rejected with the one still in force', async (t) => {
  const applied = { version: { epoch: 1, n: 5 }, hash: HASH, appliedAt: '2026-03-05T23:59:00Z' };
  const rejected = { code: 'INVALID', reason: 'entries.0.service: no tuning', at: '2026-03-06T00:00:00Z' };
  t.ok(ok(birth({ schedule: { rejected } })), 'rejected before anything was applied');
  t.ok(ok(birth({ schedule: { rejected: { ...rejected, version: { epoch: 1, n: 6 } }, applied } })));
  t.notOk(
    ok(birth({ schedule: { rejected: { ...rejected, code: 'NOPE' } } })),
    'rejection codes are from the registry',
  );
  t.notOk(ok(birth({ schedule: { ...applied, hash: 'A'.repeat(64) } })), 'hash is lower-case hex');
  t.notOk(ok(birth({ schedule: { ...applied, hash: 'a'.repeat(63) } })), 'hash is 64 chars');
  t.notOk(ok(birth({ schedule: { ...applied, version: { epoch: 1, n: -1 } } })));
});

t.test('timestamps must be UTC with Z; unknown fields and bad receivers are refused', async (t) => {
  t.notOk(ok(birth({ at: '2026-03-06T08:00:00+08:00' })), 'offset refused on the wire');
  t.notOk(ok(birth({ at: '2026-03-06 00:00:00' })));
  t.notOk(ok(birth({ extra: 1 })), 'strict: unknown field');
  t.notOk(ok(birth({ storeId: 'XYZ' })));
  t.notOk(ok(birth({ receivers: [{ ...birth().receivers[0], lnb: 'melted' }] })));
  t.notOk(ok(birth({ receivers: [{ ...birth().receivers[0], sharing: 'both' }] })));
  t.notOk(ok(birth({ clock: { offsetMs: 1, rttMs: -5, trusted: true } })), 'negative RTT');
});

t.test('a Will older than the last birth is recognisable by boot counters', async (t) => {
  // DESIGN.md §4: the headend ignores a Will whose (n, conn) is older than the last birth.
  const lastBirth = StationState.parse(birth({ boot: { n: 4, conn: 1 } }));
  const lateWill = StationState.parse({ online: false, boot: { n: 3, conn: 9 } });
  t.equal(compareBoot(lateWill.boot, lastBirth.boot), -1);
});

t.test('ack: covers only its own store, up to seq', async (t) => {
  const ack = Ack.parse({ storeId: STORE, seq: 10 });
  t.ok(ackCovers(ack, { storeId: STORE, seq: 10 }));
  t.ok(ackCovers(ack, { storeId: STORE, seq: 1 }));
  t.notOk(ackCovers(ack, { storeId: STORE, seq: 11 }));
  t.notOk(ackCovers(ack, { storeId: 'fedcba9876543210', seq: 1 }), 'another database: resend everything');
  t.ok(Ack.safeParse({ storeId: STORE, seq: 0 }).success, 'seq 0 = nothing committed yet');
  t.notOk(Ack.safeParse({ storeId: STORE, seq: 1.5 }).success);
  t.notOk(Ack.safeParse({ storeId: STORE, seq: 1, at: '2026-03-06T00:00:00Z' }).success);
});

t.test('headend state', async (t) => {
  t.ok(
    HeadendState.safeParse({ online: true, at: '2026-03-06T00:00:00Z', epoch: 2, version: '1.0.0' }).success,
  );
  t.ok(HeadendState.safeParse({ online: false, at: '2026-03-06T00:00:00Z', version: '1.0.0' }).success);
  t.notOk(HeadendState.safeParse({ online: true, at: '2026-03-06T00:00:00Z' }).success, 'version required');
  t.notOk(HeadendState.safeParse({ online: 'yes', at: '2026-03-06T00:00:00Z', version: '1' }).success);
});
