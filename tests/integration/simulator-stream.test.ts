/**
 * The simulated receiver's output is a REAL MPEG-TS stream (DESIGN.md §6): after tune + select, ffprobe on
 * the output sees the programme with the selected service id; two receivers on one service share ONE
 * ffmpeg source (DESIGN.md §7); the stream stops on unlock and freezes (while "locked") on the freeze
 * fault (DOMAIN.md §6). Real ffmpeg, ffprobe, socat.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import t, { type Test } from 'tap';
import { silentLogger } from '../../device/log.js';
import { realTimers } from '../../device/receiver/timers.js';
import { StreamHub } from '../../device/simulator/stream-source.js';
import { eventually, type SimRig, startSimRig } from '../contract/receiver-harness.js';
import { probeUdp } from '../helpers/ffprobe.js';
import { openUdpSink } from '../helpers/net.js';

/** ffmpeg processes started by THIS test process, with their command lines. */
async function ourFfmpegs(): Promise<{ pid: number; cmdline: string[] }[]> {
  const out: { pid: number; cmdline: string[] }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised comm: state, ppid, ...
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m?.[1] !== 'ffmpeg' || Number(m[2]) !== process.pid) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      out.push({ pid: Number(entry), cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function tuneAndSelect(rig: SimRig, key: string): Promise<void> {
  const s = rig.service(key);
  await rig.driver.tune(s.transponder);
  await rig.driver.selectService(s.serviceId);
}

function sharedHub(t: Test): StreamHub {
  const hub = new StreamHub({ spawn, timers: realTimers, logger: silentLogger(), lingerMs: 500 });
  t.teardown(() => hub.close());
  return hub;
}

t.test('after tune + select, ffprobe sees the programme with the selected service id', async (t) => {
  const rig = await startSimRig(t, { via: 'pty', stream: true });
  await tuneAndSelect(rig, 'cctv13');
  const programs = await probeUdp(rig.outputPort ?? 0);
  t.equal(programs.length, 1, 'one programme in the PAT');
  t.equal(programs[0]?.programNumber, 113, 'programme number = service id of CCTV-13');
  t.equal(programs[0]?.serviceName, 'CCTV-13 新闻', 'SDT carries the service name');
  t.same([...(programs[0]?.codecs ?? [])].sort(), ['mp2', 'mpeg2video'], 'video and audio');
});

t.test('two receivers on the same service share one ffmpeg source', async (t) => {
  const hub = sharedHub(t);
  const a = await startSimRig(t, { via: 'tcp', stream: true, hub });
  const b = await startSimRig(t, { via: 'tcp', stream: true, hub });
  await tuneAndSelect(a, 'cctv1');
  await tuneAndSelect(b, 'cctv1');
  const [pa, pb] = await Promise.all([probeUdp(a.outputPort ?? 0), probeUdp(b.outputPort ?? 0)]);
  t.equal(pa[0]?.programNumber, 101, 'receiver A outputs CCTV-1');
  t.equal(pb[0]?.programNumber, 101, 'receiver B outputs CCTV-1');
  const sources = hub.list();
  t.equal(sources.length, 1, 'one source in the hub');
  t.equal(sources[0]?.subscribers, 2, 'with two subscribers');
  const procs = (await ourFfmpegs()).filter((p) => p.cmdline.includes('-mpegts_service_id'));
  t.equal(procs.length, 1, 'exactly one ffmpeg process runs');
  t.equal(procs[0]?.pid, sources[0]?.pid, 'and it is the hub source');
  t.ok(procs[0]?.cmdline.join(' ').includes('-mpegts_service_id 101'), 'playing service 101');
});

t.test('the stream stops when lock is lost and resumes when it comes back', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp', stream: true });
  const sink = await openUdpSink(rig.outputPort ?? 0);
  t.teardown(() => sink.close());
  await tuneAndSelect(rig, 'cctv1');
  await sink.waitFor(20, 8000);
  await rig.driver.setLnbPower(false);
  await new Promise((r) => setTimeout(r, 200));
  const stopped = sink.datagrams;
  await new Promise((r) => setTimeout(r, 700));
  t.equal(sink.datagrams, stopped, 'no datagrams while unlocked');
  await rig.driver.setLnbPower(true);
  t.ok(await eventually(() => sink.datagrams > stopped + 10, 8000), 'datagrams flow again after re-lock');
});

t.test('freeze fault: the receiver still reports lock but no bytes flow', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp', stream: true });
  const sink = await openUdpSink(rig.outputPort ?? 0);
  t.teardown(() => sink.close());
  await tuneAndSelect(rig, 'cctv1');
  await sink.waitFor(20, 8000);
  rig.sim.faults.inject({ kind: 'freeze' });
  await new Promise((r) => setTimeout(r, 200));
  const frozen = sink.datagrams;
  await new Promise((r) => setTimeout(r, 700));
  t.equal((await rig.driver.status()).locked, true, 'status says locked');
  t.equal(sink.datagrams, frozen, '0 bytes/s while "locked" (DOMAIN.md §6: receiver hangs)');
  rig.sim.faults.clear('freeze');
  t.ok(await eventually(() => sink.datagrams > frozen + 10, 5000), 'flows again when the freeze ends');
});

t.test('switching service moves the output to that programme', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp', stream: true });
  await tuneAndSelect(rig, 'cctv1');
  await rig.driver.selectService(102);
  const programs = await probeUdp(rig.outputPort ?? 0);
  t.equal(programs[0]?.programNumber, 102, 'CCTV-2 (same carrier) now');
});

t.test('a test source that dies while in use is restarted and the stream resumes', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp', stream: true });
  const sink = await openUdpSink(rig.outputPort ?? 0);
  t.teardown(() => sink.close());
  await tuneAndSelect(rig, 'cctv1');
  await sink.waitFor(20, 8000);
  const before = rig.hub?.list()[0];
  process.kill(before?.pid ?? -1, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  const gap = sink.datagrams;
  t.ok(await eventually(() => sink.datagrams > gap + 20, 10_000), 'datagrams flow again');
  const after = rig.hub?.list()[0];
  t.equal(after?.restarts, 1, 'restarted once');
  t.not(after?.pid, before?.pid, 'by a new ffmpeg');
});
