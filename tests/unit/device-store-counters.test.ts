import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { openStationStore } from '../../device/store/db.js';
import { compareBoot } from '../../protocol/messages/common.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'store-counters-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('boot and conn start at 0 and count up', async (t) => {
  const s = openStationStore(path.join(tempDir(t), 'station.db'));
  t.teardown(() => s.close());
  t.same(s.counters.current(), { n: 0, conn: 0 });
  t.equal(s.counters.nextBoot(), 1);
  t.equal(s.counters.nextConn(), 1);
  t.equal(s.counters.nextConn(), 2);
  t.same(s.counters.current(), { n: 1, conn: 2 });
});

t.test('any sequence of boots, connects and restarts gives strictly newer {n, conn} each time', async (t) => {
  const dir = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.property(
      fc.array(fc.constantFrom('boot', 'conn', 'reopen'), { minLength: 1, maxLength: 30 }),
      (ops) => {
        const file = path.join(dir, `p${run++}.db`);
        let s = openStationStore(file);
        let last = s.counters.current();
        try {
          for (const op of ops) {
            if (op === 'reopen') {
              s.close();
              s = openStationStore(file);
              if (compareBoot(s.counters.current(), last) !== 0) return false;
              continue;
            }
            if (op === 'boot') s.counters.nextBoot();
            else s.counters.nextConn();
            const now = s.counters.current();
            // A Will carrying `last` must be recognisably older than a birth carrying `now` (DESIGN.md §4).
            if (compareBoot(now, last) !== 1) return false;
            last = now;
          }
          return true;
        } finally {
          s.close();
        }
      },
    ),
    { numRuns: 40 },
  );
  t.pass('counters only grow');
});
