/**
 * The operator's side of the web UI in a real browser (issue 6): a township operator schedules "every
 * weekday 19:00–19:30" from the manual form, sees the planner's outcome before saving (one weekday cut by
 * the control room's conference, which is named), finds it in the station's plan, edits its end, meets a
 * concurrent edit (expectedRev), and deletes it; the guide grid shows channels × time with the station's
 * channels first and the current time marked, scrolls by day, and records from a grid cell; on a phone the
 * guide falls back to per-channel lists. The control room targets several stations with a mandated
 * recording. Screenshots go to artifacts/. Times are Beijing time (DOMAIN.md §1) whatever the browser's zone.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import { launchBrowser, screenshot, watchPage } from '../helpers/browser.js';
import { type Harness, PASSWORD, startHarness, xmltv } from '../helpers/headend-harness.js';

const S = 'kongtong-anguo';
const S2 = 'jingning-weirong';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BJ = 8 * HOUR;
/** Beijing date of an instant. */
const bjDate = (ms: number) => new Date(ms + BJ).toISOString().slice(0, 10);
/** UTC instant of a Beijing wall time. */
const bj = (date: string, hm: string) => Date.parse(`${date}T${hm}:00+08:00`);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const isoWeekday = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay() || 7;

const today = bjDate(Date.now());
/** The first weekday after today: the control room's conference cuts that day's slot. */
let confDay = today;
do confDay = bjDate(bj(confDay, '12:00') + DAY);
while (isoWeekday(confDay) > 5);
const CONFERENCE = '全县防汛调度会';
const HOSTILE = '<b id="pwn">粗体</b>';
/** A programme two whole hours ahead on CCTV-1: recorded from its grid cell. */
const target = Math.floor(Date.now() / HOUR) * HOUR + 2 * HOUR;

let h: Harness;
t.before(async () => {
  h = await startHarness();
  // Every service has hourly programmes from Beijing midnight today for two days.
  const programmes = [];
  for (const [service, name] of [
    ['cctv1', '综合'],
    ['cctv7', '农业'],
    ['gstv', '甘肃'],
  ] as const) {
    for (let ms = bj(today, '00:00'); ms < bj(today, '00:00') + 2 * DAY; ms += HOUR) {
      const title =
        service === 'cctv7' && ms === target
          ? HOSTILE
          : `${name}${bjDate(ms).slice(5)} ${new Date(ms + BJ).getUTCHours()}点`;
      programmes.push({ service, startMs: ms, stopMs: ms + HOUR, title });
    }
  }
  const r = await h.importGuide(xmltv(programmes));
  if (r.status !== 200) throw new Error(`guide import failed: ${r.status}`);
  const control = await h.as('control');
  const conf = await control.post('/api/v1/entries', {
    kind: 'conference',
    title: CONFERENCE,
    service: 'gstv',
    when: { type: 'once', start: iso(bj(confDay, '19:10')), end: iso(bj(confDay, '19:50')) },
    target: { type: 'county', county: 'kongtong' },
  });
  if (conf.status !== 201) throw new Error(`conference: ${conf.status} ${JSON.stringify(conf.body)}`);
  // Weirong's operator records on Gansu TV: that channel leads weirong's grid.
  const weirong = await h.as('weirong');
  const own = await weirong.post('/api/v1/entries', {
    kind: 'recording',
    title: '陇原新闻',
    service: 'gstv',
    when: { type: 'once', start: iso(bj(confDay, '20:00')), end: iso(bj(confDay, '20:30')) },
    target: { type: 'station', stationId: S2 },
  });
  if (own.status !== 201) throw new Error(`weirong's recording: ${own.status} ${JSON.stringify(own.body)}`);
});
t.teardown(() => h?.stop());

async function login(page: Page, user: string) {
  await page.goto(h.url);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-view]:not([data-view=login]) > *:not(p.muted)');
}

const unexpected = (errors: string[]) => errors.filter((e) => !/status of (401|409)/.test(e));

t.test('an operator schedules every weekday 19:00–19:30, edits its end and deletes it', async (t) => {
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  const watch = watchPage(page);
  await login(page, 'anguo');

  await page.click('[data-nav=entries]');
  await page.waitForSelector('[data-view=entries] h1');
  await page.click('[data-action=new]');
  const form = page.locator('form[data-form=new]');
  await form.waitFor();
  t.same(
    await form
      .locator('select[name=targetType] option')
      .evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
    ['station'],
    'an operator can target only its own station',
  );
  await form.locator('input[name=title]').fill('农业技术讲座');
  await form.locator('select[name=service]').selectOption('cctv7');
  await form.locator('input[name=whenType][value=weekly]').check();
  await form.locator('[data-preset=daily]').click();
  await form.locator('[data-preset=weekdays]').click();
  await form.locator('input[name=start]').fill('19:00');
  await form.locator('input[name=end]').fill('19:30');
  t.equal(await form.locator('input[name=duration]').inputValue(), '30', 'the duration follows the end');
  t.ok(await form.locator('[data-action=save]').isDisabled(), 'nothing can be saved before the preview');

  await form.locator('[data-action=preview]').click();
  const preview = form.locator(`.station-preview[data-station="${S}"]`);
  await preview.waitFor();
  const cut = preview.locator(`li[data-start="${iso(bj(confDay, '19:00'))}"]`);
  t.equal(await cut.getAttribute('data-outcome'), 'truncated', 'the conference day is cut, before saving');
  t.match(await cut.textContent(), CONFERENCE, 'and the conference that cuts it is named');
  const outcomes = await preview
    .locator('li[data-outcome]')
    .evaluateAll((ls) => ls.map((l) => l.getAttribute('data-outcome')));
  t.ok(
    outcomes.length >= 4 && outcomes.filter((o) => o === 'planned').length >= 3,
    'the other weekdays are planned',
  );
  const starts = await preview
    .locator('li[data-start]')
    .evaluateAll((ls) => ls.map((l) => l.getAttribute('data-start') ?? ''));
  t.ok(
    starts.every(
      (s) =>
        new Date(Date.parse(s) + BJ).toISOString().slice(11, 16) === '19:00' &&
        isoWeekday(bjDate(Date.parse(s))) <= 5,
    ),
    'every occurrence is a weekday at 19:00 Beijing time',
  );
  await screenshot(page, 'ui-entry-preview');

  // A change after the preview needs a new preview.
  await form.locator('input[name=title]').fill('农业技术讲座（改）');
  t.ok(await form.locator('[data-action=save]').isDisabled(), 'an edit after the preview disables saving');
  await form.locator('input[name=title]').fill('农业技术讲座');
  await form.locator('[data-action=preview]').click();
  await form.locator('[data-action=save]:not([disabled])').waitFor();
  await form.locator('[data-action=save]').click();

  const saved = page.locator('.saved');
  await saved.waitFor();
  t.match(await saved.textContent(), /第 1 版/, 'saved as revision 1');
  const id = decodeURIComponent(/#\/entries\/([^?]+)/.exec(page.url())?.[1] ?? '');
  t.ok(id, 'the form now edits the saved entry');
  const api = await h.as('anguo');
  t.match((await api.get(`/api/v1/entries/${id}`)).body, {
    title: '农业技术讲座',
    service: 'cctv7',
    class: 'operator',
    rev: 1,
    target: { type: 'station', stationId: S },
    when: { type: 'weekly', weekdays: [1, 2, 3, 4, 5], startLocal: '19:00', durationMin: 30, from: today },
  });

  await page.click(`[data-station-link="${S}"]`);
  await page.waitForSelector(`[data-section=plan] tr[data-entry="${id}"]`);
  const planRow = page.locator(
    `[data-section=plan] tr[data-entry="${id}"][data-start="${iso(bj(confDay, '19:00'))}"]`,
  );
  t.equal(
    await planRow.getAttribute('data-outcome'),
    'truncated',
    "the station's plan shows the same outcome",
  );
  t.match(await planRow.textContent(), /19:00–19:30/);
  await screenshot(page, 'ui-entry-station-plan');

  // Edit the end: 19:45.
  await page.click('[data-nav=entries]');
  const listed = page.locator(`tr[data-entry="${id}"]`);
  await listed.waitFor();
  t.match(await listed.textContent(), /周一至周五 19:00–19:30/, 'the list says when, in words');
  t.ok(await listed.locator('[data-outcome]').count(), 'and the next occurrence with its outcome');
  await listed.locator('[data-action=edit]').click();
  const edit = page.locator('form[data-form=edit]');
  await edit.waitFor();
  t.equal(await edit.locator('input[name=start]').inputValue(), '19:00', 'the form shows the saved start');
  t.equal(await edit.locator('input[name=end]').inputValue(), '19:30', 'and end');
  t.same(
    await edit
      .locator('input[name=weekday]:checked')
      .evaluateAll((bs) => bs.map((b) => b.getAttribute('value'))),
    ['1', '2', '3', '4', '5'],
  );
  await edit.locator('input[name=end]').fill('19:45');
  t.equal(await edit.locator('input[name=duration]').inputValue(), '45');
  await edit.locator('[data-action=preview]').click();
  await edit.locator(`.station-preview[data-station="${S}"] li[data-outcome]`).first().waitFor();
  t.match(
    await edit.locator('.station-preview').textContent(),
    /19:00–19:45/,
    'the preview shows the new end',
  );
  await edit.locator('[data-action=save]').click();
  await page.locator('.saved', { hasText: '第 2 版' }).waitFor();
  t.match((await api.get(`/api/v1/entries/${id}`)).body, {
    rev: 2,
    when: { durationMin: 45, startLocal: '19:00' },
  });
  await page.click(`[data-station-link="${S}"]`);
  await page.waitForSelector(`[data-section=plan] tr[data-entry="${id}"]`);
  t.match(
    await page.locator(`[data-section=plan] tr[data-entry="${id}"]`).first().textContent(),
    /19:00–19:45/,
    'the plan has the new end',
  );

  // Someone else edits it meanwhile: the stale form is refused and offers a reload.
  await page.goto(`${h.url}/#/entries/${encodeURIComponent(id)}`);
  await page.locator('form[data-form=edit] h2', { hasText: '第 2 版' }).waitFor();
  const other = await api.patch(`/api/v1/entries/${id}`, { expectedRev: 2, keep: 3 });
  t.equal(other.status, 200, 'a concurrent edit (rev 3)');
  await page.fill('form[data-form=edit] input[name=padAfter]', '10');
  await page.click('form[data-form=edit] [data-action=preview]');
  await page.waitForSelector('form[data-form=edit] [data-action=reload]');
  t.match(
    await page.textContent('form[data-form=edit] .preview'),
    /已被他人修改/,
    'the conflict is explained',
  );
  await page.click('[data-action=reload]');
  await page.locator('form[data-form=edit] h2', { hasText: '第 3 版' }).waitFor();
  t.equal(
    await page.inputValue('form[data-form=edit] input[name=keep]'),
    '3',
    'the reloaded form shows their change',
  );
  await screenshot(page, 'ui-entry-edit');

  page.once('dialog', (d) => void d.accept());
  await page.click('form[data-form=edit] [data-action=delete]');
  await page.waitForSelector('[data-view=entries] p.ok[role=status]');
  t.equal(await page.locator(`tr[data-entry="${id}"]`).count(), 0, 'gone from the list');
  const left = (await api.get(`/api/v1/entries?station=${S}`)).body as { id: string }[];
  t.notOk(
    left.some((e) => e.id === id),
    'and from the API',
  );
  await page.goto(`${h.url}/#/station/${S}`);
  await page.waitForSelector('[data-section=plan] tr[data-outcome]');
  t.equal(await page.locator(`[data-section=plan] tr[data-entry="${id}"]`).count(), 0, 'and from the plan');
  t.same(unexpected(watch.errors), [], 'no script errors');
});

t.test('the guide grid: channels × time, the station’s channels first, record from a cell', async (t) => {
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  const watch = watchPage(page);
  await login(page, 'weirong');
  await page.click('[data-nav=guide]');
  await page.waitForSelector('.guide-grid .gg-row');
  t.same(
    await page.locator('.gg-row').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-service'))),
    ['gstv', 'cctv1', 'cctv7'],
    'every channel is a row; the one this station records comes first',
  );
  t.equal(await page.locator('.gg-row.preferred').count(), 1);
  t.equal(await page.locator('.gg-hour').count(), 24, 'the hours of the day run across');
  t.equal(await page.textContent('.gg-hour >> nth=0'), '00:00', 'from Beijing midnight');
  t.ok(await page.locator('.gg-now').isVisible(), 'the current time is marked');
  t.equal(
    await page.locator('.gg-row[data-service=cctv1] .gg-cell.now').count(),
    1,
    'and the programme on now',
  );
  const nowStart = await page.getAttribute('.gg-row[data-service=cctv1] .gg-cell.now', 'data-start');
  t.equal(nowStart, iso(Math.floor(Date.now() / HOUR) * HOUR), 'which is the one airing');
  await screenshot(page, 'ui-guide-grid');

  // Scroll by day.
  await page.click('[data-action=day-next]');
  await page.waitForSelector(
    `.gg-row[data-service=cctv1] .gg-cell[data-start="${iso(bj(today, '00:00') + DAY)}"]`,
  );
  t.match(page.url(), `day=${bjDate(bj(today, '12:00') + DAY)}`, 'the day is in the address');
  t.notOk(await page.locator('.gg-now').isVisible(), 'tomorrow has no now line');
  t.equal(
    await page.getAttribute('.gg-row[data-service=cctv1] .gg-cell >> nth=0', 'data-start'),
    iso(bj(today, '00:00') + DAY),
    "tomorrow's programmes",
  );

  // Record a programme from its cell, on the day it airs.
  await page.goto(`${h.url}/#/guide?day=${bjDate(target)}`);
  const cell = page.locator(`.gg-row[data-service=cctv1] .gg-cell[data-start="${iso(target)}"]`);
  await cell.waitFor();
  t.notOk(await cell.getAttribute('data-outcome'), 'not scheduled yet');
  const hostile = page.locator(`.gg-row[data-service=cctv7] .gg-cell[data-start="${iso(target)}"] .gg-title`);
  t.equal(await hostile.textContent(), HOSTILE, 'guide text is shown as text');
  t.equal(await page.locator('#pwn').count(), 0, 'never as markup');
  await cell.click();
  const detail = page.locator('dialog.modal .programme-detail');
  await detail.waitFor();
  const title = (await cell.locator('.gg-title').textContent()) ?? '';
  await detail.locator('[data-action=record-this]').click();
  await page.waitForSelector('dialog.modal form.record');
  await page.click('[data-action=preview]');
  await page.locator(`.station-preview[data-station="${S2}"] [data-outcome=planned]`).first().waitFor();
  await page.click('[data-action=save]');
  await page.waitForSelector('.preview .ok');
  await page.keyboard.press('Escape');
  await page.locator(`.gg-row[data-service=cctv1] .gg-cell.scheduled[data-start="${iso(target)}"]`).waitFor();
  t.equal(await cell.getAttribute('data-outcome'), 'planned', 'the cell now shows it will be recorded');
  const entries = (await (await h.as('weirong')).get(`/api/v1/entries?station=${S2}`)).body as {
    title: string;
    when: { type: string };
  }[];
  t.ok(
    entries.some((e) => e.title === title && e.when.type === 'programme'),
    'the programme is scheduled',
  );
  await screenshot(page, 'ui-guide-grid-recorded');
  t.same(unexpected(watch.errors), [], 'no script errors');
});

t.test('on a phone the guide is a list per channel, and the form fits', async (t) => {
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  const watch = watchPage(page);
  const guideCalls: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/guide')) guideCalls.push(decodeURIComponent(r.url()));
  });
  await login(page, 'anguo');
  await page.goto(`${h.url}/#/guide`);
  await page.waitForSelector('[data-guide-mode=list] details.channel');
  t.equal(await page.locator('.guide-grid').count(), 0, 'no grid on a phone');
  // Anguo receives the county conference on Gansu TV: that channel is its station's; CCTV-1 is not.
  const order = await page
    .locator('details.channel')
    .evaluateAll((ds) =>
      ds.map((d) => `${d.getAttribute('data-service')}${d.classList.contains('preferred') ? '*' : ''}`),
    );
  t.same(order.map((o) => o.replace('*', '')).sort(), ['cctv1', 'cctv7', 'gstv'], 'every channel');
  t.ok(order.includes('gstv*') && order.includes('cctv1'), 'the station’s channels are marked');
  const firstOther = order.findIndex((o) => !o.endsWith('*'));
  t.ok(
    order.slice(firstOther).every((o) => !o.endsWith('*')),
    'and lead the list',
  );
  t.match(
    await page.textContent('details.channel >> nth=0 >> summary'),
    /正在播出/,
    'what is on now, per channel',
  );
  t.notOk(
    guideCalls.some((u) => u.includes('service=cctv7')),
    'a closed channel’s day is not fetched (a slow link pays for what is opened)',
  );
  await page.click('details.channel[data-service=cctv7] summary');
  const list = page.locator('details.channel[data-service=cctv7] li.programme');
  await list.first().waitFor();
  t.ok(
    await list.first().evaluate((l) => l.classList.contains('now')),
    'a channel’s list starts at what is on now',
  );
  const shown = await list.count();
  const earlier = page.locator('details.channel[data-service=cctv7] [data-action=show-earlier]');
  if (shown < 24) {
    t.match(await earlier.textContent(), String(24 - shown), 'what already aired is folded, and counted');
    await earlier.click();
  }
  t.equal(await list.count(), 24, "the whole day's programmes");
  await list.locator('.programme-open').last().click();
  const detail = page.locator('dialog.modal .programme-detail');
  await detail.waitFor();
  t.ok(await detail.locator('[data-action=record-series]').isVisible(), 'a tap offers the ways to record it');
  t.ok(await detail.locator('[data-action=record-weekdays]').isVisible());
  await page.keyboard.press('Escape');
  const width = () => page.evaluate<number>('document.documentElement.scrollWidth');
  t.ok((await width()) <= 390, 'nothing overflows sideways');
  await screenshot(page, 'ui-guide-phone');

  await page.goto(`${h.url}/#/entries/new`);
  await page.waitForSelector('form[data-form=new]');
  t.ok((await width()) <= 390, 'the recording form fits a phone');
  await screenshot(page, 'ui-entry-form-phone');
  t.same(unexpected(watch.errors), [], 'no script errors');
});

t.test('the control room sends a mandated recording to a list of stations', async (t) => {
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  await login(page, 'control');
  await page.goto(`${h.url}/#/entries/new`);
  const form = page.locator('form[data-form=new]');
  await form.waitFor();
  t.same(
    await form
      .locator('select[name=targetType] option')
      .evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
    ['station', 'stations', 'county', 'all'],
    'any station, a list, a county or all',
  );
  await form.locator('input[name=title]').fill('春耕技术培训');
  await form.locator('select[name=service]').selectOption('cctv7');
  await form.locator('input[name=date]').fill(confDay);
  await form.locator('input[name=start]').fill('09:00');
  await form.locator('input[name=duration]').fill('90');
  t.equal(await form.locator('input[name=end]').inputValue(), '10:30', 'the end follows the duration');
  await form.locator('select[name=targetType]').selectOption('stations');
  await form.locator('input[name=stations][value="kongtong-anguo"]').check();
  await form.locator('input[name=stations][value="huating-mahu"]').check();
  await form.locator('input[name=mandated]').check();
  await form.locator('[data-action=preview]').click();
  await form.locator('.station-preview[data-station="huating-mahu"]').waitFor();
  t.same(
    await form
      .locator('.station-preview')
      .evaluateAll((ss) => ss.map((s) => s.getAttribute('data-station')).sort()),
    ['huating-mahu', 'kongtong-anguo'],
    'the outcome at each station',
  );
  await form.locator('[data-action=save]').click();
  await page.locator('.saved').waitFor();
  const id = decodeURIComponent(/#\/entries\/([^?]+)/.exec(page.url())?.[1] ?? '');
  const control = await h.as('control');
  t.match((await control.get(`/api/v1/entries/${id}`)).body, {
    class: 'mandated',
    target: { type: 'stations', stationIds: ['huating-mahu', 'kongtong-anguo'] },
    when: { type: 'once', start: iso(bj(confDay, '09:00')), end: iso(bj(confDay, '10:30')) },
  });
  // The operator sees it but may not change it.
  const anguo = await launchBrowser();
  t.teardown(() => anguo.close());
  const op = await anguo.context.newPage();
  await login(op, 'anguo');
  await op.goto(`${h.url}/#/entries`);
  const row = op.locator(`tr[data-entry="${id}"]`);
  await row.waitFor();
  t.match(await row.textContent(), /指令性/, 'marked mandated');
  t.equal(await row.locator('[data-action=edit]').count(), 0, 'no edit for the operator');
  await screenshot(op, 'ui-entries-list');
});
