/**
 * XMLTV channel → line-up service (headend/guide/xmltv-channels.ts): the admin's table by channel id,
 * else by display-name; without a row, a channel id equal to a service key or a display-name equal to a
 * service name; anything else is reported, never guessed.
 */
import t from 'tap';
import { ChannelMapper, nameKey } from '../../headend/guide/xmltv-channels.js';

const LINEUP = [
  { key: 'cctv1', name: 'CCTV-1 综合' },
  { key: 'cctv13', name: 'CCTV-13 新闻' },
  { key: 'gstv', name: '甘肃卫视' },
  { key: 'pingliang', name: '平凉综合' },
];

const mapper = new ChannelMapper(
  [
    { matchKind: 'id', matchValue: 'pltv', service: 'pingliang' },
    { matchKind: 'display-name', matchValue: 'Gansu Satellite TV', service: 'gstv' },
    { matchKind: 'id', matchValue: 'cctv1.cn', service: 'cctv13' }, // the table beats automatic matches
    { matchKind: 'id', matchValue: 'old.tv', service: 'gone' },
  ],
  LINEUP,
);

t.test('mapping table by id, then by display-name', async (t) => {
  t.same(mapper.resolve({ id: 'pltv', displayNames: [] }), {
    ok: true,
    service: 'pingliang',
    by: 'mapping-id',
  });
  t.same(mapper.resolve({ id: 'x', displayNames: ['Other', 'GANSU  satellite-tv'] }), {
    ok: true,
    service: 'gstv',
    by: 'mapping-display-name',
  });
  t.same(mapper.resolve({ id: 'cctv1.cn', displayNames: ['CCTV-1 综合'] }), {
    ok: true,
    service: 'cctv13',
    by: 'mapping-id',
  });
});

t.test('without a row: service key, then service name (loosely compared)', async (t) => {
  t.same(mapper.resolve({ id: 'cctv13', displayNames: [] }), {
    ok: true,
    service: 'cctv13',
    by: 'service-key',
  });
  t.same(mapper.resolve({ id: 'c1', displayNames: ['cctv1 综合'] }), {
    ok: true,
    service: 'cctv1',
    by: 'service-name',
  });
  t.same(mapper.resolve({ id: 'g', displayNames: ['甘肃卫视'] }), {
    ok: true,
    service: 'gstv',
    by: 'service-name',
  });
});

t.test('no match, or a row naming a service not in the line-up, is reported with the reason', async (t) => {
  const none = mapper.resolve({ id: 'bbc.uk', displayNames: ['BBC One'] });
  t.equal(none.ok, false);
  if (!none.ok) {
    t.equal(none.reason, 'no-match');
    t.match(none.detail, /bbc\.uk.*BBC One/);
  }
  const gone = mapper.resolve({ id: 'old.tv', displayNames: [] });
  t.equal(gone.ok, false);
  if (!gone.ok) {
    t.equal(gone.reason, 'unknown-service');
    t.match(gone.detail, /"gone", which is not in the line-up/);
  }
});

t.test('nameKey folds width, case, spaces and dashes', async (t) => {
  t.equal(nameKey('ＣＣＴＶ－１ 综合'), nameKey('cctv1综合'));
  t.equal(nameKey('CCTV_13 · 新闻'), 'cctv13新闻');
});
