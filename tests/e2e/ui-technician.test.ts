/**
 * A technician in a real browser (issue 8): a station's receiver fades (a real agent on a simulated RX8200,
 * through the running headend); the technician opens the station, sees the low-margin alarm with its cause
 * and evidence and the signal chart, runs `receiver.status` and `stream.probe` (results shown as tables,
 * not JSON), acknowledges the alarm, and finds it on the alarms page. Screenshots go to artifacts/.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import { launchBrowser, screenshot, watchPage } from '../helpers/browser.js';
import { PASSWORD } from '../helpers/headend-harness.js';
import { sleep, startTechnicianRig, until } from '../helpers/technician-rig.js';

const S = 'kongtong-ui01';

async function login(page: Page, url: string, user: string) {
  await page.goto(url);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-view]:not([data-view=login])');
}

t.test('a technician diagnoses a low-margin station and acknowledges the alarm', async (t) => {
  const rig = await startTechnicianRig(t, {
    stations: [{ id: S, county: 'kongtong', lat: 35.54, lon: 106.67 }],
  });
  const st = await rig.station(S);
  rig.tuneConference(S, 'cctv1');
  const cp = rig.headend.controlPlane;
  const rx = await until(
    () => cp.telemetry.latest(S)?.telemetry.receivers.find((r) => r.locked && r.marginDb !== null),
    'locked',
    30_000,
  );
  await sleep(1500);
  st.rx.sim.faults.inject({ kind: 'fade', depthDb: Math.max(0, (rx.marginDb ?? 5) - 1.8) });
  const alarm = await until(() => rig.alarms({ station: S, kind: 'margin_low' })[0], 'margin_low', 20_000);
  cp.telemetry.flush(true); // the chart reads the per-minute rows

  const b = await launchBrowser();
  t.teardown(() => b.close());
  const page = await b.context.newPage();
  page.on('dialog', (d) => void d.accept());
  const watch = watchPage(page);
  await login(page, rig.url, 'tech');
  await page.goto(`${rig.url}/#/station/${S}`);
  await page.waitForSelector('[data-view=station] .station-head');

  // The alarm, with its cause and evidence.
  const card = page.locator(`article.alarm[data-alarm="${alarm.id}"]`);
  await card.waitFor({ timeout: 10_000 });
  t.equal(await card.getAttribute('data-kind'), 'margin_low');
  t.match(await card.locator('.kind').textContent(), /信号余量低/, 'named in Chinese');
  t.match(await card.locator('.cause').textContent(), /天线或馈源积雪结冰/, 'the probable cause, in Chinese');
  t.equal(
    await card.locator('.cause').getAttribute('data-row'),
    'snow-ice-fade',
    'a row of the failure table',
  );
  t.match(
    await card.locator('.evidence').textContent(),
    /余量 \d+\.\d dB/,
    'the evidence with the figures, in Chinese',
  );
  t.ok(
    await card.locator('[data-remedy="receiver.status"]').count(),
    'a fitting check is offered next to it',
  );

  // The signal chart.
  const margin = page.locator('svg[data-chart=margin]');
  await margin.waitFor({ timeout: 10_000 });
  t.ok(Number(await margin.getAttribute('data-points')) >= 1, 'the margin chart has points');
  t.ok(await page.locator('svg[data-chart=margin] polyline.avg').count(), 'drawn as a line');
  t.ok(
    await page.locator('svg[data-chart=margin] line.threshold.warn').count(),
    'with the 3 dB warning line',
  );
  await page.click('button[data-range="7d"]');
  await page.waitForSelector('[data-section=signal-chart][data-state=done] svg[data-chart=margin]');
  t.pass('the 7-day range renders');
  t.ok(
    await page.locator('[data-section=sun-calendar] .next, [data-section=sun-calendar] details').count(),
    'the sun-outage calendar',
  );

  // receiver.status, shown as a table.
  await page.click('button[data-method="receiver.status"]');
  const out = page.locator('[data-section=diag-result]');
  await page.waitForSelector('[data-section=diag-result][data-state=done][data-result="receiver.status"]', {
    timeout: 15_000,
  });
  t.ok(await out.locator('table.diag-table').count(), 'a table, not JSON');
  t.match(await out.textContent(), /锁定/, 'lock shown');
  t.match(await out.locator('[data-margin]').getAttribute('class'), /warn/, 'the low margin highlighted');
  t.notMatch(await out.textContent(), /\{"/, 'no raw JSON');
  await screenshot(page, 'ui-technician-status');

  // stream.probe.
  await page.click('button[data-method="stream.probe"]');
  await page.waitForSelector('[data-section=diag-result][data-state=done][data-result="stream.probe"]', {
    timeout: 20_000,
  });
  const probe = (await out.textContent()) ?? '';
  t.match(probe, /Mbit\/s/, 'the bitrate');
  // The tuned service (cctv1, programme number 101) is a row of the services table, shown in the clear.
  const sid = out.locator('table.diag-table td [data-sid="101"]');
  t.equal(await sid.count(), 1, 'service id 101 is a row of the services table');
  const sidRow = out.locator('table.diag-table tbody tr:has([data-sid="101"])');
  t.match(await sidRow.textContent(), /清流/, 'and that service is not scrambled');
  t.same(
    (await out.locator('table.diag-table th').allTextContents()).filter((x) => x.trim() === ''),
    [],
    'every column has a header',
  );
  t.match(probe, /mpeg2video/, 'the codecs');
  await screenshot(page, 'ui-technician-probe');

  // Acknowledge.
  await card.locator('[data-action=ack]').click();
  await page.waitForSelector(`article.alarm[data-alarm="${alarm.id}"][data-acked=yes]`, { timeout: 10_000 });
  t.match(
    await page.locator(`article.alarm[data-alarm="${alarm.id}"] .acked`).textContent(),
    /tech/,
    'by whom',
  );
  t.equal(rig.headend.technician.alarms.service.engine.get(alarm.id)?.ackedBy, 'http:tech', 'recorded');
  t.ok(
    rig.headend.store.audit
      .list({ target: S })
      .some((a) => a.action === 'alarm.acknowledge' && a.actor === 'http:tech'),
    'and audited',
  );
  const audited = rig.headend.store.audit.list({ target: S }).map((a) => a.action);
  t.ok(
    audited.includes('rpc.receiver.status') && audited.includes('rpc.stream.probe'),
    'the two calls are audited',
  );
  await screenshot(page, 'ui-technician-station');

  // The alarms page.
  await page.click('a[data-nav=alarms]');
  await page.waitForSelector(`[data-section=active-alarms] article.alarm[data-alarm="${alarm.id}"]`);
  t.pass('the alarm is on the alarms page');
  await screenshot(page, 'ui-technician-alarms');
  t.same(
    watch.errors.filter((e) => !/status of 401/.test(e)),
    [],
    'no page errors (the 401 of the login probe aside)',
  );

  // An operator sees the alarm but no diagnostics and no remedies.
  const ob = await launchBrowser();
  t.teardown(() => ob.close());
  const op = await ob.context.newPage();
  await login(op, rig.url, `op-${S}`);
  await op.goto(`${rig.url}/#/station/${S}`);
  await op.waitForSelector(`article.alarm[data-alarm="${alarm.id}"]`);
  await sleep(500);
  t.equal(await op.locator('[data-method]').count(), 0, 'no diagnostics buttons for an operator');
  t.equal(await op.locator('[data-remedy]').count(), 0, 'and no remedies');
});
