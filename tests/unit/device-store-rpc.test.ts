import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openStationStore } from '../../device/store/db.js';

function tempDb(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'store-rpc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'station.db');
}

const AT = '2026-03-01T11:00:00.000Z';

/** What rpc.ts does for a side-effecting method: claim, run only if claimed, store the response. */
function handleDelete(s: ReturnType<typeof openStationStore>, rid: string, deleted: string[]) {
  const claim = s.rpc.claim(rid, 'recordings.delete', AT);
  if (claim.status === 'done') return claim.response;
  if (claim.status === 'running') return { rid, ok: false, error: { code: 'BUSY', message: 'in progress' } };
  deleted.push(rid);
  const response = { rid, ok: true, result: { deleted: 1 } };
  s.rpc.complete(rid, response, AT);
  return response;
}

t.test('a redelivered side-effecting request runs once and gets the same response', async (t) => {
  const s = openStationStore(tempDb(t));
  t.teardown(() => s.close());
  const ran: string[] = [];
  const first = handleDelete(s, 'rid-1', ran);
  const again = handleDelete(s, 'rid-1', ran);
  t.same(ran, ['rid-1'], 'the side effect happened once');
  t.same(again, first);
  handleDelete(s, 'rid-2', ran);
  t.same(ran, ['rid-1', 'rid-2'], 'a different rid runs');
});

t.test('a rid survives a restart, and one left running by a crash is never re-run', async (t) => {
  const file = tempDb(t);
  const s = openStationStore(file);
  t.same(s.rpc.claim('done-1', 'receiver.reset', AT), { status: 'claimed' });
  s.rpc.complete('done-1', { rid: 'done-1', ok: true, result: {} }, AT);
  t.same(s.rpc.claim('crashed-1', 'receiver.reset', AT), { status: 'claimed' });
  s.close(); // the agent dies while crashed-1 runs
  const again = openStationStore(file);
  t.teardown(() => again.close());
  t.match(again.rpc.claim('done-1', 'receiver.reset', AT), { status: 'done', response: { ok: true } });
  t.same(again.rpc.claim('crashed-1', 'receiver.reset', AT), { status: 'running', since: AT });
});

t.test('old rids are pruned', async (t) => {
  const s = openStationStore(tempDb(t));
  t.teardown(() => s.close());
  s.rpc.claim('old', 'recordings.delete', '2026-01-01T00:00:00.000Z');
  s.rpc.claim('new', 'recordings.delete', AT);
  t.equal(s.rpc.prune('2026-02-01T00:00:00.000Z'), 1);
  t.same(s.rpc.claim('old', 'recordings.delete', AT), { status: 'claimed' });
  t.equal(s.rpc.claim('new', 'recordings.delete', AT).status, 'running');
});
