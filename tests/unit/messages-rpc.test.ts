import t from 'tap';
import {
  checkRpcRequest,
  checkRpcResult,
  RpcRequest,
  RpcRequestEnvelope,
  RpcResponse,
  rpcExpired,
} from '../../protocol/messages/rpc.js';

const env = { rid: 'r-1', ttlMs: 30_000, sentAt: '2026-03-06T06:00:00Z' };

t.test('a request is valid only with a known method and that method’s params', async (t) => {
  t.ok(RpcRequest.safeParse({ ...env, method: 'receiver.reset', params: { receiverId: 'rx1' } }).success);
  t.ok(RpcRequest.safeParse({ ...env, method: 'disk.usage', params: {} }).success);
  t.notOk(
    RpcRequest.safeParse({ ...env, method: 'receiver.reset', params: {} }).success,
    'missing receiverId',
  );
  t.notOk(RpcRequest.safeParse({ ...env, method: 'disk.usage', params: { x: 1 } }).success, 'strict params');
  t.notOk(RpcRequest.safeParse({ ...env, method: 'shell.exec', params: {} }).success);
  t.notOk(RpcRequest.safeParse({ ...env, ttlMs: 0, method: 'disk.usage', params: {} }).success, 'ttl ≥ 1 ms');
  t.notOk(
    RpcRequest.safeParse({ ...env, ttlMs: 3_600_000, method: 'disk.usage', params: {} }).success,
    'ttl capped',
  );
  t.notOk(
    RpcRequest.safeParse({ ...env, method: 'receiver.lnb', params: { receiverId: 'rx1', power: 'max' } })
      .success,
  );
  t.notOk(
    RpcRequest.safeParse({
      ...env,
      method: 'plan.explain',
      params: { from: '2026-03-06T12:00:00Z', to: '2026-03-06T10:00:00Z' },
    }).success,
    'plan.explain window must be forward',
  );
});

t.test('checkRpcRequest gives typed errors that keep the rid answerable', async (t) => {
  const unknown = RpcRequestEnvelope.parse({ ...env, method: 'shell.exec', params: { cmd: 'rm -rf /' } });
  const r1 = checkRpcRequest(unknown);
  t.match(r1, { ok: false, error: { code: 'UNKNOWN_METHOD' } });
  t.equal(unknown.rid, 'r-1', 'the envelope still carries the rid to answer');

  const proto = RpcRequestEnvelope.parse({ ...env, method: '__proto__', params: {} });
  t.match(checkRpcRequest(proto), { ok: false, error: { code: 'UNKNOWN_METHOD' } }, 'no prototype lookups');

  const bad = RpcRequestEnvelope.parse({ ...env, method: 'recordings.list', params: { limit: 0 } });
  const r2 = checkRpcRequest(bad);
  t.match(r2, { ok: false, error: { code: 'INVALID_PARAMS', message: /recordings\.list/ } });
  if (!r2.ok) t.ok(Array.isArray(r2.error.details), 'issues in details');

  const good = RpcRequestEnvelope.parse({ ...env, method: 'recordings.list', params: { limit: 20 } });
  const r3 = checkRpcRequest(good);
  t.ok(r3.ok);
  if (r3.ok && r3.value.method === 'recordings.list') t.equal(r3.value.params.limit, 20, 'typed params');
});

t.test('responses: success or a registry error code', async (t) => {
  t.ok(RpcResponse.safeParse({ rid: 'r-1', ok: true, result: { anything: 1 } }).success);
  t.ok(
    RpcResponse.safeParse({ rid: 'r-1', ok: false, error: { code: 'BUSY', message: 'port in use' } }).success,
  );
  t.notOk(RpcResponse.safeParse({ rid: 'r-1', ok: false, error: { code: 'OOPS', message: 'x' } }).success);
  t.notOk(RpcResponse.safeParse({ rid: 'r-1', ok: true }).success, 'a success carries a result');
  t.notOk(RpcResponse.safeParse({ rid: 'r-1', ok: false, result: 1 }).success, 'a failure needs an error');
  t.notOk(
    RpcResponse.safeParse({ rid: 'r-1', ok: true, result: 1, error: { code: 'BUSY', message: 'x' } }).success,
  );
});

t.test('checkRpcResult validates a result against its method', async (t) => {
  t.match(checkRpcResult('recordings.delete', { recordingId: 'r1', freedBytes: 10 }), { ok: true });
  t.match(checkRpcResult('recordings.delete', { recordingId: 'r1' }), {
    ok: false,
    error: { code: 'INTERNAL', message: /recordings\.delete/ },
  });
  t.match(checkRpcResult('clock.exchange', { t1: 1, t2: 2, t3: 3 }), { ok: true });
  t.match(checkRpcResult('clock.exchange', { t1: 1, t2: 2 }), { ok: false });
});

t.test('expiry is judged in headend time using the measured offset', async (t) => {
  const req = { sentAt: '2026-03-06T06:00:00Z', ttlMs: 30_000 };
  const sent = Date.parse(req.sentAt);
  t.notOk(rpcExpired(req, sent + 30_000, 0), 'exactly at ttl is still valid');
  t.ok(rpcExpired(req, sent + 30_001, 0));
  // The station clock runs 60 s fast (offset +60 000): 80 s on its clock is only 20 s of headend time.
  t.notOk(rpcExpired(req, sent + 80_000, 60_000));
  // A station clock 60 s slow (offset −60 000) reading 29 s BEFORE sentAt is already 31 s after it.
  t.ok(rpcExpired(req, sent - 29_000, -60_000));
  t.notOk(rpcExpired(req, sent - 31_000, -60_000));
});
