/**
 * protocol/backoff.ts: the retry arithmetic the station's MQTT link, its receiver transports and the
 * headend's MQTT client share (DOMAIN.md §6 "Flaky uplink", "USB-serial renumbered": retry forever, slowly).
 */
import t from 'tap';
import { exponentialBackoffMs, reconnectBackoffMs } from '../../protocol/backoff.js';
import { defaultTiming } from '../../protocol/timing.js';

t.test('doubles from the minimum and stops at the maximum', async (t) => {
  const table: [attempt: number, ms: number][] = [
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [5, 32_000],
    [6, 60_000],
    [1000, 60_000],
  ];
  for (const [attempt, ms] of table)
    t.equal(exponentialBackoffMs(attempt, 1000, 60_000), ms, `attempt ${attempt}`);
  t.equal(
    exponentialBackoffMs(Number.MAX_SAFE_INTEGER, 100, 1000),
    1000,
    'a huge attempt count stays finite',
  );
  t.equal(exponentialBackoffMs(-3, 100, 1000), 100, 'a negative attempt is the first');
});

t.test('reconnect jitter takes up to its share off, never adds', async (t) => {
  const timing = defaultTiming;
  const base = exponentialBackoffMs(3, timing.reconnectMinMs, timing.reconnectMaxMs);
  t.equal(reconnectBackoffMs(3, timing, 0), base, 'no draw: the full backoff');
  t.equal(
    reconnectBackoffMs(3, timing, 0.999_999),
    Math.round(base * (1 - timing.reconnectJitter * 0.999_999)),
    'the largest draw takes the jitter share off',
  );
  const spread = new Set([0, 0.25, 0.5, 0.75].map((r) => reconnectBackoffMs(3, timing, r)));
  t.equal(spread.size, 4, 'different draws spread a fleet out');
  for (const r of [0, 0.5, 0.99]) {
    const d = reconnectBackoffMs(10, timing, r);
    t.ok(
      d <= timing.reconnectMaxMs && d >= timing.reconnectMaxMs * (1 - timing.reconnectJitter),
      `draw ${r}`,
    );
  }
});
