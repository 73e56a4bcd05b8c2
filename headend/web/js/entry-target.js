// Who a recording reaches (issue 6; DESIGN.md §1): an operator picks among their own stations only (the API
// enforces it; the picker does not offer more); the control room also a list of stations, a county, a
// group or all. The picker reads back as the API's `target` object.
import { h } from './dom.js';
import { locale, t } from './i18n.js';

const field = (label, input, cls) => h('label', { class: cls }, label, input);

/**
 * `opts`: `stations` (those the user may see), `groups`, `target` (an entry's, when editing), `station`
 * (preselected id). Returns `{ el, read() }`: `read()` gives `{ target }` or `{ error }`.
 */
export function targetPicker(ctx, opts) {
  const { stations, groups } = opts;
  const control = ctx.can('entries.control');
  const counties = groups.filter((g) => g.kind === 'county');
  const custom = groups.filter((g) => g.kind !== 'county');
  const groupName = (g) => (locale() === 'en' ? g.name : (g.nameZh ?? g.name));
  const et = opts.target;
  const types = [
    'station',
    ...(stations.length > 1 ? ['stations'] : []),
    ...(control ? ['county', ...(custom.length ? ['group'] : []), 'all'] : []),
  ];
  const targetType = h(
    'select',
    { name: 'targetType', hidden: types.length === 1, 'aria-label': t('record.target') },
    types.map((ty) =>
      h('option', { value: ty, selected: (et?.type ?? 'station') === ty }, t(`entry.target.${ty}`)),
    ),
  );
  const first = et?.type === 'station' ? et.stationId : (opts.station ?? stations[0]?.id);
  const stationSel = h(
    'select',
    { name: 'station' },
    stations.map((s) => h('option', { value: s.id, selected: s.id === first }, `${s.name} (${s.id})`)),
  );
  const listed = new Set(et?.type === 'stations' ? et.stationIds : []);
  const boxes = stations.map((s) =>
    h(
      'label',
      { class: 'check', dataset: { text: `${s.id} ${s.name} ${s.county ?? ''}`.toLowerCase() } },
      h('input', { type: 'checkbox', name: 'stations', value: s.id, checked: listed.has(s.id) }),
      `${s.name} (${s.id})`,
    ),
  );
  const filter = h('input', {
    type: 'search',
    placeholder: t('entry.filterStations'),
    'aria-label': t('entry.filterStations'),
  });
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const b of boxes) b.hidden = q !== '' && !b.dataset.text.includes(q);
  });
  const countySel = h(
    'select',
    { name: 'county' },
    counties.map((g) =>
      h('option', { value: g.id, selected: et?.type === 'county' && et.county === g.id }, groupName(g)),
    ),
  );
  const groupSel = h(
    'select',
    { name: 'group' },
    custom.map((g) =>
      h('option', { value: g.id, selected: et?.type === 'group' && et.groupId === g.id }, groupName(g)),
    ),
  );
  const parts = {
    station: field(t('record.station'), stationSel, 'station-label'),
    stations: h('div', { 'data-targets': 'stations' }, filter, h('fieldset', { class: 'stations' }, boxes)),
    county: field(t('record.target.county'), countySel, 'county-label'),
    group: field(t('entry.target.group'), groupSel, 'group-label'),
  };
  const sync = () => {
    for (const [k, el] of Object.entries(parts)) el.hidden = targetType.value !== k;
  };
  targetType.addEventListener('change', sync);
  sync();
  return {
    el: [targetType, Object.values(parts)],
    read() {
      const ty = targetType.value;
      if (ty === 'station') return { target: { type: 'station', stationId: stationSel.value } };
      if (ty === 'stations') {
        const ids = boxes
          .map((b) => b.querySelector('input'))
          .filter((b) => b.checked)
          .map((b) => b.value);
        if (ids.length === 0) return { error: t('entry.err.stations') };
        return { target: { type: 'stations', stationIds: ids } };
      }
      if (ty === 'county') return { target: { type: 'county', county: countySel.value } };
      if (ty === 'group') return { target: { type: 'group', groupId: groupSel.value } };
      return { target: { type: 'all' } };
    },
  };
}
