/**
 * Generates a realistic XMLTV file for tests, the benchmark and the demo: N services × D days of
 * programmes (default 49 × 14, the size DESIGN.md §8 budgets), Chinese and English titles, descriptions,
 * categories, series with episode numbers, times in +0800 like the prefecture's feed. Deterministic for a
 * given seed, streamed chunk by chunk so it can write files far larger than memory.
 *
 *   node --import=tsx scripts/gen-xmltv.ts --out /tmp/guide.xml [--services 49] [--days 14]
 *        [--start 2026-11-27] [--seed 1] [--offset +0800]
 *
 * Also exports {@link generateXmltv} (chunks) and {@link generatedLineup} (the matching line-up services).
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { formatXmltvTime, parseOffset } from '../headend/guide/xmltv-time.js';
import type { ServiceTuning } from '../protocol/messages/tuning.js';

/** Options of {@link generateXmltv}. */
export interface GenXmltvOptions {
  /** Number of services (channels). Default 49. */
  services?: number;
  /** Number of days of programmes. Default 14. */
  days?: number;
  /** First local day, YYYY-MM-DD. Default 2026-11-27. */
  start?: string;
  /** Offset written in every time, minutes east of UTC. Default 480 (+0800, China). */
  offsetMinutes?: number;
  /** PRNG seed; the same seed gives the same file. Default 1. */
  seed?: number;
}

const CHANNEL_NAMES = [
  'CCTV-1 综合',
  'CCTV-2 财经',
  'CCTV-3 综艺',
  'CCTV-4 中文国际',
  'CCTV-5 体育',
  'CCTV-6 电影',
  'CCTV-7 国防军事',
  'CCTV-8 电视剧',
  'CCTV-9 纪录',
  'CCTV-10 科教',
  'CCTV-11 戏曲',
  'CCTV-12 社会与法',
  'CCTV-13 新闻',
  'CCTV-14 少儿',
  'CCTV-15 音乐',
  'CCTV-17 农业农村',
  '甘肃卫视',
  '平凉综合',
];

const SHOWS: ReadonlyArray<readonly [string, string, string, number]> = [
  ['新闻联播', 'CCTV News', '新闻', 30],
  ['焦点访谈', 'Focus Report', '新闻', 15],
  ['天气预报', 'Weather Forecast', '天气', 10],
  ['乡村振兴', 'Rural Revitalisation', '农业', 45],
  ['致富经', 'Road to Wealth', '农业', 30],
  ['今日说法', 'Legal Report', '法制', 30],
  ['动物世界', 'Animal World', '纪录片', 45],
  ['经典电影', 'Classic Film', '电影', 105],
  ['黄金剧场', 'Prime Time Drama', '电视剧', 45],
  ['少儿动画', 'Cartoons', '少儿', 25],
  ['体育新闻', 'Sports News', '体育', 20],
  ['戏曲欣赏', 'Opera', '戏曲', 60],
  ['科技之光', 'Science Light', '科教', 40],
  ['健康之路', 'Road to Health', '健康', 35],
];

/** The line-up services matching the generated channels (`svc01`… with plausible C-band tuning). */
export function generatedLineup(count = 49): ServiceTuning[] {
  const out: ServiceTuning[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      key: serviceKey(i),
      name: channelName(i),
      serviceId: 101 + i,
      transponder: {
        frequencyMHz: 3840 + (i % 8) * 40,
        polarisation: i % 2 === 0 ? 'H' : 'V',
        symbolRateKsps: 27500,
        system: 'DVB-S2',
        modulation: '8PSK',
        fec: '3/4',
        lnbLoMHz: 5150,
        rolloff: '0.35',
        lnbPower: true,
        input: 1,
      },
    });
  }
  return out;
}

/** Line-up key of generated service `i` (0-based). */
export function serviceKey(i: number): string {
  return `svc${String(i + 1).padStart(2, '0')}`;
}

/** XMLTV channel id of generated service `i`. */
export function channelId(i: number): string {
  return `ch${String(i + 1).padStart(2, '0')}.ruralsat.example`;
}

function channelName(i: number): string {
  const base = CHANNEL_NAMES[i % CHANNEL_NAMES.length] as string;
  return i < CHANNEL_NAMES.length ? base : `${base} ${Math.floor(i / CHANNEL_NAMES.length) + 1}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Yields the XMLTV document in chunks of roughly 64 KiB. */
export function* generateXmltv(options: GenXmltvOptions = {}): Generator<string> {
  const services = options.services ?? 49;
  const days = options.days ?? 14;
  const offset = options.offsetMinutes ?? 480;
  const startDay = options.start ?? '2026-11-27';
  const rand = prng(options.seed ?? 1);
  const [y, mo, d] = startDay.split('-').map(Number) as [number, number, number];
  const firstMs = Date.UTC(y, mo - 1, d) - offset * 60_000;
  const endMs = firstMs + days * 86_400_000;
  let buf =
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n' +
    '<tv generator-info-name="ruralsat gen-xmltv">\n';
  for (let i = 0; i < services; i++) {
    buf += `  <channel id="${channelId(i)}">\n    <display-name lang="zh">${esc(channelName(i))}</display-name>\n`;
    buf += `    <display-name lang="en">Channel ${i + 1}</display-name>\n  </channel>\n`;
  }
  for (let i = 0; i < services; i++) {
    const episodes = new Map<string, number>();
    let t = firstMs;
    while (t < endMs) {
      const show = SHOWS[Math.floor(rand() * SHOWS.length)] as (typeof SHOWS)[number];
      const minutes = Math.max(5, Math.round((show[3] * (0.8 + rand() * 0.4)) / 5) * 5);
      const stop = Math.min(t + minutes * 60_000, endMs);
      const ep = (episodes.get(show[0]) ?? 0) + 1;
      episodes.set(show[0], ep);
      buf += `  <programme start="${formatXmltvTime(t, offset)}" stop="${formatXmltvTime(stop, offset)}" channel="${channelId(i)}">\n`;
      buf += `    <title lang="zh">${esc(show[0])}</title>\n    <title lang="en">${esc(show[1])}</title>\n`;
      if (show[2] === '电视剧') {
        buf += `    <sub-title lang="zh">第${ep}集</sub-title>\n`;
        buf += `    <episode-num system="xmltv_ns">0.${ep - 1}.</episode-num>\n`;
      }
      buf += `    <desc lang="zh">${esc(show[0])}：${channelName(i)}为农村观众带来的精彩节目，第${ep}期。内容涵盖政策解读、技术指导与生活服务。</desc>\n`;
      buf += `    <category lang="zh">${esc(show[2])}</category>\n  </programme>\n`;
      t = stop;
      if (buf.length > 65536) {
        yield buf;
        buf = '';
      }
    }
  }
  yield `${buf}</tv>\n`;
}

/** Writes a generated file; resolves with its size in bytes. */
export async function writeXmltvFile(path: string, options: GenXmltvOptions = {}): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for (const chunk of generateXmltv(options)) {
    const b = Buffer.from(chunk, 'utf8');
    bytes += b.length;
    if (!out.write(b)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? undefined : argv[i + 1];
}

async function main(argv: string[]): Promise<void> {
  const out = arg(argv, 'out');
  if (out === undefined) {
    process.stderr.write(
      'usage: gen-xmltv --out FILE [--services 49] [--days 14] [--start YYYY-MM-DD] [--seed 1] [--offset +0800]\n',
    );
    process.exitCode = 2;
    return;
  }
  const opts: GenXmltvOptions = {};
  const services = arg(argv, 'services');
  const days = arg(argv, 'days');
  const start = arg(argv, 'start');
  const seed = arg(argv, 'seed');
  const offset = arg(argv, 'offset');
  if (services !== undefined) opts.services = Number(services);
  if (days !== undefined) opts.days = Number(days);
  if (start !== undefined) opts.start = start;
  if (seed !== undefined) opts.seed = Number(seed);
  if (offset !== undefined) {
    const m = parseOffset(offset);
    if (m === null) throw new Error(`--offset ${offset} is not ±hhmm within −12..+14`);
    opts.offsetMinutes = m;
  }
  const bytes = await writeXmltvFile(out, opts);
  process.stdout.write(`wrote ${out}: ${bytes} bytes\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(process.argv.slice(2));
}
