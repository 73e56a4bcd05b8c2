// Recordings page: every recording of the stations one may see, newest first.
import { get, qs } from '../api.js';
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { onLive } from '../live.js';
import { recordingTable } from '../recording-list.js';

export async function render(root, ctx) {
  const body = h('div');
  const load = async () => {
    const list = await get(`/recordings${qs({ station: ctx.params.station, limit: 300 })}`);
    replace(
      body,
      recordingTable(ctx, list, { showStation: true, onChanged: () => load().catch(() => undefined) }),
    );
  };
  replace(root, h('h1', null, t('rec.title')), body);
  await load();
  return onLive('event', (e) => {
    if (e.type === 'recording.manifest') load().catch(() => undefined);
  });
}
