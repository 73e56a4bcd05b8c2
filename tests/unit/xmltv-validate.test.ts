/**
 * From parsed programmes to a clean service window (headend/guide/xmltv-programme.ts, guide-validate.ts):
 * normalisation, stable ids, episode numbers, the validation rules of issue 5 and move pairing.
 */
import t from 'tap';
import { pairMoves, similarDuration, validateServiceWindow } from '../../headend/guide/guide-validate.js';
import type { XmltvProgramme } from '../../headend/guide/xmltv-parse.js';
import {
  baseProgrammeId,
  type NormalizedProgramme,
  normalizeEpisode,
  normalizeProgramme,
  pickLang,
} from '../../headend/guide/xmltv-programme.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 28, 0, 0); // 08:00 in Shanghai

function raw(over: Partial<XmltvProgramme> = {}): XmltvProgramme {
  return {
    kind: 'programme',
    channel: 'cctv1',
    start: '20261128080000 +0800',
    stop: '20261128090000 +0800',
    titles: [{ text: '新闻', lang: 'zh' }],
    subTitles: [],
    descs: [],
    categories: [],
    episodeNums: [],
    line: 10,
    ...over,
  };
}

let line = 100;
function prog(
  startH: number,
  stopH: number | null,
  title: string,
  over: Partial<NormalizedProgramme> = {},
): NormalizedProgramme {
  return {
    channel: 'cctv1',
    startMs: T0 + startH * H,
    stopMs: stopH === null ? null : T0 + stopH * H,
    offsetMinutes: 480,
    title,
    lang: 'zh',
    subTitle: null,
    episode: null,
    description: null,
    category: null,
    titles: null,
    eventId: null,
    contentId: null,
    line: line++,
    ...over,
  };
}

t.test('normalizeProgramme converts times, picks the preferred language and keeps every title', async (t) => {
  const r = normalizeProgramme(
    raw({
      titles: [
        { text: 'News', lang: 'en' },
        { text: '新闻', lang: 'zh' },
        { text: 'གསར་འགྱུར།', lang: 'bo' },
      ],
      descs: [
        { text: 'English', lang: 'en' },
        { text: '中文简介', lang: 'zh-CN' },
      ],
      episodeNums: [
        { system: 'dvb_event_id', value: ' 4711 ' },
        { system: 'dd_progid', value: 'EP01.02' },
      ],
    }),
  );
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.value.startMs, T0);
  t.equal(r.value.stopMs, T0 + H);
  t.equal(r.value.title, '新闻');
  t.equal(r.value.lang, 'zh');
  t.equal(r.value.description, '中文简介', 'zh-CN counts as zh');
  t.equal(r.value.titles?.length, 3);
  t.equal(r.value.eventId, '4711');
  t.equal(r.value.contentId, 'EP01.02');
  t.equal(normalizeProgramme(raw(), { preferredLangs: ['en'] }).ok, true);
  t.equal(
    pickLang([{ text: 'a', lang: 'fr' }, { text: 'b' }], ['zh'])?.text,
    'a',
    'no preferred: first written',
  );
});

t.test('normalizeProgramme refuses with a reason and the line', async (t) => {
  const cases: [Partial<XmltvProgramme>, string][] = [
    [{ channel: '' }, 'MISSING_CHANNEL'],
    [{ start: '' }, 'BAD_START'],
    [{ start: 'tomorrow' }, 'BAD_START'],
    [{ stop: '20261128250000 +0800' }, 'BAD_STOP'],
    [{ start: '20261128080000 +1600' }, 'OFFSET_OUT_OF_RANGE'],
    [{ titles: [] }, 'MISSING_TITLE'],
  ];
  for (const [over, code] of cases) {
    const r = normalizeProgramme(raw(over));
    t.notOk(r.ok, code);
    if (!r.ok) {
      t.equal(r.reject.code, code);
      t.equal(r.reject.line, 10);
    }
  }
  const noStop = normalizeProgramme(raw({ stop: undefined }));
  t.ok(noStop.ok && noStop.value.stopMs === null, 'a missing stop is not a refusal yet');
});

t.test('episode numbers: xmltv_ns (0-based), onscreen forms', async (t) => {
  t.equal(normalizeEpisode([{ system: 'xmltv_ns', value: '0.11/23.' }]), 'S1E12');
  t.equal(normalizeEpisode([{ system: 'xmltv_ns', value: ' 1 . 0 . 0/2' }]), 'S2E1.P1');
  t.equal(normalizeEpisode([{ system: 'xmltv_ns', value: '.4.' }]), 'E5');
  t.equal(normalizeEpisode([{ system: 'xmltv_ns', value: '2..' }]), null, 'a season alone is no episode');
  t.equal(normalizeEpisode([{ system: 'onscreen', value: 'S02E05' }]), 'S2E5');
  t.equal(normalizeEpisode([{ system: 'onscreen', value: '第12集' }]), 'E12');
  t.equal(normalizeEpisode([{ system: 'onscreen', value: '第2季第3集' }]), 'S2E3');
  t.equal(normalizeEpisode([{ system: 'onscreen', value: 'Ep. 7' }]), 'E7');
  t.equal(normalizeEpisode([{ system: 'onscreen', value: 'Finale' }]), 'Finale');
  t.equal(
    normalizeEpisode([
      { system: 'onscreen', value: 'S09E09' },
      { system: 'xmltv_ns', value: '0.0.' },
    ]),
    'S1E1',
    'xmltv_ns wins',
  );
});

t.test('programme ids: event id, else feed id, else a stable hash', async (t) => {
  const base = { channel: 'cctv1', startMs: T0, title: '新闻', eventId: null, contentId: null };
  t.equal(baseProgrammeId({ ...base, eventId: '4711', contentId: 'EP1' }), 'ev:4711');
  t.equal(baseProgrammeId({ ...base, contentId: 'EP1' }), 'ep:EP1');
  const h = baseProgrammeId(base);
  t.match(h, /^h:[0-9a-f]{16}$/);
  t.equal(baseProgrammeId({ ...base }), h, 'same input, same id');
  t.not(baseProgrammeId({ ...base, startMs: T0 + 60_000 }), h, 'the start is part of it');
  t.not(baseProgrammeId({ ...base, title: '新闻 ' }), h, 'the title is part of it');
  t.not(baseProgrammeId({ ...base, channel: 'cctv2' }), h, 'the channel is part of it');
});

t.test('validation: missing stops, duplicates, clashes, backwards, too long, overlaps', async (t) => {
  const input = [
    prog(3, 4, 'Overlap trimmed'), // runs into the next one until 4:00
    prog(0, 1, 'A'),
    prog(1, null, 'No stop'), // gets 2:00 from the next
    prog(2, 3, 'Dup'),
    prog(2, 3, 'dup'), // same start, same title (case-insensitive): duplicate
    prog(2, 3, 'Other'), // same start, other title: clash
    prog(3.5, 3.75, 'Inside'),
    prog(5, 4, 'Backwards'),
    prog(6, 32, 'Marathon'),
    prog(33, null, 'Last, no stop'),
  ];
  const v = validateServiceWindow('cctv1', input);
  t.same(
    v.programmes.map((p) => [p.title, (p.startMs - T0) / H, (p.stopMs - T0) / H]),
    [
      ['A', 0, 1],
      ['No stop', 1, 2],
      ['Dup', 2, 3],
      ['Overlap trimmed', 3, 3.5],
      ['Inside', 3.5, 3.75],
    ],
  );
  t.same(v.rejects.map((r) => `${r.code} ${r.title}`).sort(), [
    'DUPLICATE dup',
    'MISSING_STOP Last, no stop',
    'OVERLAP Other',
    'STOP_NOT_AFTER_START Backwards',
    'TOO_LONG Marathon',
  ]);
  t.equal(v.stopsFilled, 1);
  t.equal(v.overlapsTrimmed, 1);
  t.same(v.window, { startMs: T0, endMs: T0 + 3.75 * H });
  t.equal(v.sources.length, v.programmes.length);
  t.equal(v.rejectedSources.length, v.rejects.length);
  for (const r of v.rejects) t.ok(r.line >= 100 && r.message.length > 5, `${r.code} names the line and why`);
});

t.test('validation: a repeat with the same feed id gets #2, and input order does not matter', async (t) => {
  const a = prog(0, 1, 'Show', { contentId: 'EP7' });
  const b = prog(10, 11, 'Show', { contentId: 'EP7' });
  const v1 = validateServiceWindow('s', [b, a]);
  const v2 = validateServiceWindow('s', [a, b]);
  t.same(
    v1.programmes.map((p) => p.programmeId),
    ['ep:EP7', 'ep:EP7#2'],
  );
  t.same(v1.programmes, v2.programmes);
});

t.test('pairMoves: a hashed-id programme that moved is a move, not a removal and an addition', async (t) => {
  const c = (id: string, title: string, s: number, e: number, episode: string | null = null) => ({
    programmeId: id,
    title,
    subTitle: null,
    episode,
    startMs: T0 + s * H,
    stopMs: T0 + e * H,
  });
  const vanished = [c('h:1', '天下足球', 12, 13.5), c('h:2', '纪录片', 15, 16), c('h:3', '剧', 18, 19, 'E1')];
  const appeared = [
    c('h:4', '天下足球', 12.25, 13.75), // moved 15 min
    c('h:5', '纪录片', 15, 18), // far longer: not "similar duration"
    c('h:6', '剧', 18.5, 19.5, 'E2'), // another episode
    c('h:7', '新节目', 20, 21),
  ];
  const r = pairMoves(vanished, appeared);
  t.same(
    r.moved.map((m) => [m.from.programmeId, m.to.programmeId]),
    [['h:1', 'h:4']],
  );
  t.same(r.removed.map((x) => x.programmeId).sort(), ['h:2', 'h:3']);
  t.same(
    r.added.map((x) => x.programmeId),
    ['h:5', 'h:6', 'h:7'],
  );
  const far = pairMoves([c('h:1', 'X', 0, 1)], [c('h:2', 'X', 13, 14)]);
  t.equal(far.moved.length, 0, 'beyond the 12 h move window it is another showing');
});

t.test('similar duration: within 25 % or 10 minutes', async (t) => {
  t.ok(similarDuration(60 * 60_000, 70 * 60_000));
  t.ok(similarDuration(20 * 60_000, 29 * 60_000));
  t.notOk(similarDuration(20 * 60_000, 35 * 60_000));
  t.ok(similarDuration(120 * 60_000, 150 * 60_000));
  t.notOk(similarDuration(120 * 60_000, 170 * 60_000));
});
