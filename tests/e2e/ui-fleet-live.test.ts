/**
 * The control room's fleet board in a real browser (issue 6): stations with presence, versions and
 * alarms; the board updates live (Server-Sent Events) when a station goes offline — disconnected at once,
 * the offline alarm after the grace period — without a reload. Also: the first load stays under 300 KB of
 * assets, the board is usable on a phone-sized screen, and the admin's users page and the recordings page
 * render. Screenshots of the main pages go to artifacts/.
 */
import t from 'tap';
import { launchBrowser, screenshot, watchPage } from '../helpers/browser.js';
import { type Harness, PASSWORD, startHarness } from '../helpers/headend-harness.js';

const S = 'kongtong-anguo';
const HOUR = 3_600_000;

let h: Harness;
t.before(async () => {
  h = await startHarness();
});
t.teardown(() => h?.stop());

async function login(page: import('playwright-core').Page, user: string) {
  await page.goto(h.url);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-view]:not([data-view=login])');
}

t.test('the first load is small', async (t) => {
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  const cdp = await b.context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  const files: string[] = [];
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
  });
  cdp.on('Network.responseReceived', (e) => files.push(e.response.url.replace(h.url, '')));
  await login(page, 'control');
  await page.waitForSelector('table.board tbody tr');
  await page.waitForLoadState('networkidle').catch(() => undefined);
  t.comment(
    `first load (login page, log in, fleet board): ${bytes} bytes over the wire in ${files.length} requests`,
  );
  t.ok(bytes < 300 * 1024, `first load ${Math.round(bytes / 1024)} KB < 300 KB`);
  t.notOk(
    files.some((f) => /^https?:/.test(f)),
    'nothing is fetched from outside the headend (no CDN)',
  );
});

t.test('the control room sees the board update live when a station goes offline', async (t) => {
  const station = await h.connectStation(S);
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  const watch = watchPage(page);
  await login(page, 'control');
  await page.waitForSelector('table.board tbody tr');
  t.equal(await page.locator('table.board tbody tr').count(), 3, 'every station is on the board');
  const row = page.locator(`tr[data-station="${S}"]`);
  t.equal(await row.getAttribute('data-connection'), 'online', 'the station is online');
  t.match(await row.textContent(), /在线/);
  t.match(await page.textContent('[data-summary]'), /在线 1/);
  await screenshot(page, 'ui-fleet');

  const marker = await page.evaluate('window.__sameDocument = true');
  t.ok(marker);
  await station.vanish();
  await page.waitForSelector(`tr[data-station="${S}"][data-connection="disconnected"]`, { timeout: 5000 });
  t.match(await row.textContent(), /已断开/, 'shown as disconnected at once');
  t.match(await row.textContent(), /自 /, 'with since when');
  t.notMatch(await row.textContent(), /离线告警/, 'no alarm yet (grace period)');
  await page.locator(`tr[data-station="${S}"]`, { hasText: '离线告警' }).waitFor({ timeout: 8000 });
  t.pass('the offline alarm appears after the grace period');
  t.equal(await page.evaluate('window.__sameDocument'), true, 'without reloading the page');
  t.match(await page.textContent('[data-summary]'), /断开 1/);
  await screenshot(page, 'ui-fleet-offline');

  // Filter by county.
  await page.selectOption('select[aria-label="区县"]', 'jingning');
  await page.locator(`tr[data-station="${S}"]`).waitFor({ state: 'detached' });
  t.equal(
    await page.locator('table.board tbody tr').getAttribute('data-station'),
    'jingning-weirong',
    'filtered by county',
  );
  t.same(
    watch.errors.filter((e) => !/status of 401/.test(e)),
    [],
  );
});

t.test('a phone-sized screen', async (t) => {
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  await page.setViewportSize({ width: 375, height: 740 });
  await login(page, 'tech');
  await page.waitForSelector('table.board tbody tr');
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  t.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
  const label = await page.evaluate<string>(
    "getComputedStyle(document.querySelector('td[data-label]'), '::before').content",
  );
  t.match(label, /站点/, 'table cells carry their column names as card labels');
  await screenshot(page, 'ui-fleet-phone');
  await page.goto(`${h.url}/#/station/${S}`);
  await page.waitForSelector('[data-view=station] .station-head');
  t.equal(await page.locator('[data-section=plan]').count(), 1, 'a technician reads any station');
  await page.waitForSelector('[data-method="receiver.status"]');
  t.pass('and has the diagnostics buttons');
  const phoneOverflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - window.innerWidth',
  );
  t.ok(phoneOverflow <= 0, `station page fits (overflow ${phoneOverflow}px)`);
  await screenshot(page, 'ui-station-phone');
});

t.test('admin pages: users and recordings', async (t) => {
  h.headend.store.recordings.upsert({
    stationId: S,
    recordingId: 'rec-1',
    entryId: 'e-1',
    status: 'completed-with-errors',
    quality: 88,
    bytes: 734_003_200,
    startedAt: new Date(Date.now() - 30 * HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    manifest: { title: '新闻联播' },
    updatedAt: new Date(Date.now() - 29 * HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  await login(page, 'admin');
  await page.click('[data-nav=users]');
  await page.waitForSelector('[data-view=users] tr[data-user=anguo]');
  t.match(await page.textContent('tr[data-user=anguo]'), /kongtong-anguo/, 'operators with their stations');
  await page.fill('input[name=id]', 'liu');
  await page.fill('input[name=displayName]', '刘技术员');
  await page.selectOption('select[name=role]', 'technician');
  await page.fill('input[name=password]', 'a long enough password');
  await page.click('form.card button[type=submit]');
  await page.waitForSelector('tr[data-user=liu]');
  t.match(await page.textContent('tr[data-user=liu]'), /技术员/, 'a new user is created from the page');
  await screenshot(page, 'ui-users');

  await page.click('[data-nav=recordings]');
  const rec = page.locator('tr[data-recording="rec-1"]');
  await rec.waitFor();
  t.match(await rec.textContent(), /88\/100 \(受损\)/, 'quality below 95 is marked damaged');
  t.match(await rec.textContent(), /完成（有错误）/, 'completed with errors is its own status');
  page.once('dialog', (d) => void d.accept());
  await rec.locator('button.danger').click();
  await page.locator('tr[data-recording="rec-1"]', { hasText: '等待站点执行' }).waitFor();
  t.pass('a delete waits for the (disconnected) station and says so');
  await screenshot(page, 'ui-recordings');
});
