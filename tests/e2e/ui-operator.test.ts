/**
 * A township operator in a real browser (issue 6): logs in, finds a programme in the guide, records it,
 * sees the planner's outcome before saving and in the station's plan afterwards — "truncated" by the
 * control room's conference, which is named. A second operator cannot see the first one's station.
 * Untrusted guide text stays text. Screenshots of the pages go to artifacts/.
 */
import t from 'tap';
import { launchBrowser, screenshot, watchPage } from '../helpers/browser.js';
import { type Harness, PASSWORD, startHarness, xmltv } from '../helpers/headend-harness.js';

const S = 'kongtong-anguo';
const HOUR = 3_600_000;
/** Tomorrow at a whole hour, so the programme is in the future whatever time the test runs. */
const start = Math.ceil(Date.now() / HOUR) * HOUR + 20 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const HOSTILE = '<img src=x onerror="window.__pwned=1">乡村振兴';

let h: Harness;
t.before(async () => {
  h = await startHarness();
  const r = await h.importGuide(
    xmltv([
      { service: 'cctv7', startMs: start, stopMs: start + HOUR, title: '致富经' },
      { service: 'cctv7', startMs: start + HOUR, stopMs: start + 2 * HOUR, title: HOSTILE },
      { service: 'gstv', startMs: start, stopMs: start + HOUR, title: '陇原新闻' },
    ]),
  );
  if (r.status !== 200) throw new Error(`guide import failed: ${r.status}`);
  // The control room's county-wide conference overlaps the programme on another carrier (DESIGN.md §5).
  const control = await h.as('control');
  const conf = await control.post('/api/v1/entries', {
    kind: 'conference',
    title: '全市春耕视频会议',
    service: 'gstv',
    when: { type: 'once', start: iso(start + 20 * 60_000), end: iso(start + 2 * HOUR) },
    target: { type: 'county', county: 'kongtong' },
  });
  if (conf.status !== 201) throw new Error(`conference: ${conf.status} ${JSON.stringify(conf.body)}`);
});
t.teardown(() => h?.stop());

t.test('an operator records a programme from the guide and sees its outcome', async (t) => {
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  const watch = watchPage(page);

  await page.goto(h.url);
  await page.waitForSelector('form.login');
  t.equal(await page.locator('html').getAttribute('lang'), 'zh-CN', 'Chinese by default');
  await screenshot(page, 'ui-login');
  await page.fill('input[name=user]', 'anguo');
  await page.fill('input[name=password]', 'wrong password!');
  await page.click('button[type=submit]');
  await page.waitForSelector('form.login .error:not([hidden])');
  t.equal(await page.textContent('form.login .error'), '用户名或密码错误', 'a wrong password is explained');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');

  // An operator with one station lands on its page.
  await page.waitForSelector('[data-view=station] .station-head');
  t.match(await page.textContent('.station-head h1'), /安国镇/);

  await page.click('[data-nav=guide]');
  await page.waitForSelector('[data-view=guide] form[role=search]');
  await page.fill('input[name=q]', '致富');
  await page.press('input[name=q]', 'Enter');
  const row = page.locator('li.programme', { hasText: '致富经' });
  await row.waitFor();
  t.match(await row.locator('.time').textContent(), /^\d\d:\d\d–\d\d:\d\d$/, 'times shown');
  await screenshot(page, 'ui-guide-search');

  await row.locator('[data-action=record-this]').click();
  await page.waitForSelector('dialog.modal form.record');
  t.same(
    await Promise.all(
      (await page.locator('select[name=station] option').all()).map((o) => o.getAttribute('value')),
    ),
    [S],
    'an operator can only pick its own station',
  );
  await page.click('[data-action=preview]');
  const preview = page.locator(`.station-preview[data-station="${S}"]`);
  await preview.waitFor();
  t.equal(
    await preview.locator('[data-outcome]').first().getAttribute('data-outcome'),
    'truncated',
    'the preview shows the outcome before saving',
  );
  t.match(await preview.textContent(), /被“全市春耕视频会议”/, 'and names the conference that cuts it');
  await screenshot(page, 'ui-record-preview');
  await page.click('[data-action=save]');
  await page.waitForSelector('.preview .ok');
  await page.click('.preview a');

  await page.waitForSelector('[data-view=station] [data-section=plan] tr[data-outcome]');
  const planRow = page.locator('[data-section=plan] tr', { hasText: '致富经' });
  await planRow.waitFor();
  t.equal(await planRow.getAttribute('data-outcome'), 'truncated', "the station's plan shows the outcome");
  t.match(await planRow.textContent(), /被截断/);
  t.match(await planRow.textContent(), /全市春耕视频会议/);
  t.match(await page.textContent('[data-section=entries]'), /致富经/, 'the entry is listed');
  await screenshot(page, 'ui-station');

  // "Record series" and "record this slot every weekday" from the same grid.
  const day = new Date(start + 8 * HOUR).toISOString().slice(0, 10);
  for (const [service, title, action] of [
    ['cctv7', '致富经', 'record-series'],
    ['gstv', '陇原新闻', 'record-weekdays'],
  ] as const) {
    await page.goto(`${h.url}/#/guide?service=${service}&day=${day}`);
    const p = page.locator('li.programme', { hasText: title });
    await p.waitFor();
    await p.locator(`[data-action=${action}]`).click();
    await page.click('[data-action=preview]');
    await page.locator(`.station-preview[data-station="${S}"]`).waitFor();
    await page.click('[data-action=save]');
    await page.waitForSelector('.preview .ok');
  }
  const api = await h.as('anguo');
  const entries = (await api.get(`/api/v1/entries?station=${S}`)).body as {
    title: string;
    when: Record<string, unknown>;
  }[];
  const localStart = new Date(start + 8 * HOUR).toISOString().slice(11, 16);
  t.match(
    entries.find((e) => e.when.type === 'series'),
    { title: '致富经', when: { type: 'series', title: '致富经', dedupe: 'episode' } },
    'a series by title',
  );
  t.match(
    entries.find((e) => e.when.type === 'weekly'),
    {
      title: '陇原新闻',
      when: { weekdays: [1, 2, 3, 4, 5], startLocal: localStart, durationMin: 60, from: day },
    },
    'the slot every weekday, in Beijing time',
  );

  // Untrusted text from the guide is text, never markup.
  await page.goto(
    `${h.url}/#/guide?service=cctv7&day=${new Date(start + 9 * HOUR).toISOString().slice(0, 10)}`,
  );
  await page.locator('li.programme', { hasText: '乡村振兴' }).waitFor();
  t.equal(
    await page.locator('li.programme .title', { hasText: '乡村振兴' }).textContent(),
    HOSTILE,
    'the title is shown verbatim',
  );
  t.equal(await page.locator('main img').count(), 0, 'no element was created from it');
  t.equal(await page.evaluate<number>('window.__pwned ?? 0'), 0, 'and nothing ran');
  await screenshot(page, 'ui-guide');

  await page.click('[data-action=lang]');
  await page.waitForSelector('[data-nav=guide]');
  t.equal(await page.textContent('[data-nav=guide]'), 'Guide', 'English on request');
  t.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.click('[data-action=lang]');

  t.same(
    watch.errors.filter((e) => !/status of 401/.test(e)),
    [],
    'no script errors (the 401 of the login probe aside)',
  );
});

t.test('a second operator cannot see the first one’s station', async (t) => {
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  await page.goto(h.url);
  await page.fill('input[name=user]', 'weirong');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-view=station] .station-head');
  t.match(await page.textContent('.station-head h1'), /威戎镇/, 'weirong lands on its own station');

  await page.goto(`${h.url}/#/fleet`);
  await page.waitForSelector('table.board tbody tr');
  t.same(
    await Promise.all(
      (await page.locator('table.board tbody tr').all()).map((r) => r.getAttribute('data-station')),
    ),
    ['jingning-weirong'],
    'the board lists only its station',
  );

  await page.goto(`${h.url}/#/station/${S}`);
  await page.waitForSelector('[data-view=station] [data-error]');
  t.equal(
    await page.getAttribute('[data-error]', 'data-error'),
    'STATION_FORBIDDEN',
    "anguo's station is not shown",
  );
  t.equal(await page.locator('[data-section=plan]').count(), 0, 'nor its plan');
  await page.goto(`${h.url}/#/recordings`);
  await page.waitForSelector('[data-view=recordings] h1');
  t.notMatch(await page.textContent('main'), /kongtong-anguo/, 'nor its recordings');
  await screenshot(page, 'ui-second-operator');
});
