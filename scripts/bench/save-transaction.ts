/**
 * Write transaction of a conference save (DESIGN.md §7: "transactions stay short (≤ ~20 ms)"; "a change
 * and its new schedule version commit together").
 *
 * Value: how long SQLite's write lock is held (BEGIN IMMEDIATE → COMMIT, headend/scheduling/commit.ts
 * `timing.writeMs`) when the control room extends a conference targeted at all 102 stations through the
 * scheduling service: the entry row, its audit row and 102 new documents `{epoch, n+1}`. The compile and
 * the document bytes are prepared before, from a read snapshot.
 *
 * Baseline, same run, same database: the same change the way it was committed before — validated,
 * compiled and issued inside ONE write transaction (`applyChange` + `issueDocuments` in
 * `store.transaction`, which is still the fallback path). Runs alternate; medians. A file database with
 * `synchronous=FULL`, as in production, so each commit's fsync is in both figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../headend/log.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { issueDocuments } from '../../headend/scheduling/documents.js';
import { createScheduling } from '../../headend/scheduling/entries.js';
import { COUNTY_IDS } from '../../headend/store/groups.js';
import { openStore } from '../../headend/store/index.js';
import { defaultTiming } from '../../protocol/timing.js';
import type { Bench, BenchResult } from './bench.js';

const STATIONS = 102;
const RUNS = 15;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export const saveTransactionBench: Bench = {
  name: 'conference save → write transaction, 102 stations',
  unit: 'ms',
  budget: { max: 20 },
  baselineLabel: 'compile inside the write transaction (before)',
  async run(): Promise<BenchResult> {
    const dir = await mkdtemp(join(tmpdir(), 'bench-save-tx-'));
    const store = openStore(join(dir, 'headend.db'));
    try {
      for (let i = 0; i < STATIONS; i++) {
        const id = `st-${String(i + 1).padStart(3, '0')}`;
        provisionStation(
          { store, iterations: 100, headendUsername: 'headend', actor: 'bench' },
          { id, name: id, county: COUNTY_IDS[i % COUNTY_IDS.length] as string },
        );
      }
      store.lineup.replace({
        transponders: [
          {
            id: 't3840h',
            tuning: {
              frequencyMHz: 3840,
              polarisation: 'H',
              symbolRateKsps: 27500,
              system: 'DVB-S',
              modulation: 'QPSK',
              fec: '3/4',
              lnbLoMHz: 5150,
            },
          },
        ],
        services: [{ key: 'cctv1', name: 'CCTV-1', serviceId: 101, transponderId: 't3840h' }],
      });
      const scheduling = createScheduling({
        store,
        timing: defaultTiming,
        timeZone: 'Asia/Shanghai',
        logger: silentLogger(),
      });
      scheduling.recompile();
      const start = Math.ceil((Date.now() + 86_400_000) / 60_000) * 60_000;
      // A realistic document: the conference plus a few recurring recordings per county.
      for (const county of COUNTY_IDS) {
        scheduling.create(
          {
            kind: 'recording',
            class: 'mandated',
            title: `${county} 新闻联播`,
            service: 'cctv1',
            when: {
              type: 'weekly',
              weekdays: [1, 2, 3, 4, 5],
              startLocal: '19:00',
              durationMin: 30,
              from: new Date().toISOString().slice(0, 10),
            },
            target: { type: 'county', county },
          },
          'bench',
        );
      }
      const entry = scheduling.create(
        {
          kind: 'conference',
          title: '全市乡镇视频会议',
          service: 'cctv1',
          when: {
            type: 'once',
            start: new Date(start).toISOString(),
            end: new Date(start + 3_600_000).toISOString(),
          },
          target: { type: 'all' },
        },
        'bench',
      ).entry;
      let minutes = 60;
      const when = () => {
        minutes++;
        return {
          type: 'once' as const,
          start: new Date(start).toISOString(),
          end: new Date(start + minutes * 60_000).toISOString(),
        };
      };
      const docs = { store, entries: scheduling.entries, timeZone: 'Asia/Shanghai' };
      const now: number[] = [];
      const before: number[] = [];
      const prepare: number[] = [];
      let issuedNow = 0;
      for (let i = 0; i < RUNS + 2; i++) {
        const saved = scheduling.update(entry.id, { when: when() }, 'bench');
        issuedNow = saved.issued.length;
        const t0 = performance.now();
        const old = store.transaction(() => {
          const run = scheduling.applyChange(
            { op: 'update', id: entry.id, patch: { when: when() } },
            'bench',
          );
          return issueDocuments(docs, run.affected, new Date());
        });
        const oldMs = performance.now() - t0;
        if (old.issued.length !== STATIONS || saved.issued.length !== STATIONS)
          throw new Error(`issued ${saved.issued.length} / ${old.issued.length} documents`);
        if (i < 2) continue; // warm-up
        now.push(saved.timing.writeMs);
        prepare.push(saved.timing.prepareMs);
        before.push(oldMs);
      }
      return {
        value: median(now),
        baseline: median(before),
        note: `${STATIONS} documents of ${store.schedules.latest('st-001')?.doc.length ?? 0} B issued per save (${issuedNow} now), ${RUNS} saves each way, alternating; read phase (validate, compile, bytes) ${median(prepare).toFixed(1)} ms, outside the lock; write ${Math.min(...now).toFixed(1)}–${Math.max(...now).toFixed(1)} ms vs before ${Math.min(...before).toFixed(1)}–${Math.max(...before).toFixed(1)} ms`,
      };
    } finally {
      store.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
