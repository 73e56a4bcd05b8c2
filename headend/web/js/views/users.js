// Users (admin): create users of every role, scope operators to their stations, disable, reset passwords,
// and issue / revoke API tokens for scripts (the secret is shown once).
import { del, get, patch, post } from '../api.js';
import { badge, h, modal, replace } from '../dom.js';
import { errorBox, errorText } from '../errors.js';
import { locale, t } from '../i18n.js';
import { fmtDateTime } from '../time.js';

const ROLES = ['admin', 'control-room', 'operator', 'technician'];

function stationPicker(stations, selected) {
  return h(
    'fieldset',
    { class: 'stations' },
    h('legend', null, t('users.stations')),
    stations.map((s) =>
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', name: 'station', value: s.id, checked: selected.includes(s.id) }),
        `${s.name} (${s.id})`,
      ),
    ),
  );
}

function picked(form) {
  return [...form.querySelectorAll('input[name=station]:checked')].map((i) => i.value);
}

async function tokensDialog(ctx, user) {
  await modal(`${t('users.tokens')} · ${user.id}`, () => {
    const box = h('div');
    const load = async () => {
      const list = await get(`/users/${encodeURIComponent(user.id)}/tokens`);
      replace(
        box,
        h(
          'ul',
          { class: 'plain' },
          list.map((tk) =>
            h(
              'li',
              null,
              tk.name,
              ' ',
              h('small', { class: 'muted' }, fmtDateTime(tk.createdAt, ctx.tz, locale())),
              tk.revokedAt
                ? badge('revoked', 'muted')
                : h(
                    'button',
                    {
                      type: 'button',
                      class: 'small danger',
                      onclick: async () => {
                        await del(`/tokens/${tk.id}`);
                        await load();
                      },
                    },
                    t('users.revoke'),
                  ),
            ),
          ),
        ),
      );
    };
    const name = h('input', { name: 'tokenName', placeholder: 'script name', required: true });
    const shown = h('p', { class: 'secret' });
    load().catch((err) => replace(box, errorBox(err)));
    return h(
      'div',
      null,
      box,
      h(
        'form',
        {
          class: 'inline',
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              const r = await post(`/users/${encodeURIComponent(user.id)}/tokens`, {
                name: name.value.trim(),
              });
              replace(shown, t('users.tokenShown'), ' ', h('code', null, r.token));
              await load();
            } catch (err) {
              replace(shown, errorText(err));
            }
          },
        },
        name,
        h('button', { type: 'submit' }, t('users.newToken')),
      ),
      shown,
    );
  });
}

function editDialog(ctx, user, stations, reload) {
  return modal(user.id, (close) => {
    const role = h(
      'select',
      { name: 'role' },
      ROLES.map((r) => h('option', { value: r, selected: r === user.role }, t(`role.${r}`))),
    );
    const name = h('input', { name: 'displayName', value: user.displayName, required: true });
    const password = h('input', {
      name: 'password',
      type: 'password',
      autocomplete: 'new-password',
      minlength: 10,
    });
    const msg = h('p', { class: 'error', role: 'alert' });
    const form = h(
      'form',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          const body = {
            displayName: name.value.trim(),
            role: role.value,
            stations: role.value === 'operator' ? picked(form) : [],
          };
          if (password.value) body.password = password.value;
          try {
            await patch(`/users/${encodeURIComponent(user.id)}`, body);
            close(true);
            reload();
          } catch (err) {
            msg.textContent = errorText(err);
          }
        },
      },
      h('label', null, t('users.name'), name),
      h('label', null, t('users.role'), role),
      stationPicker(stations, user.stations),
      h('label', null, t('users.resetPassword'), password),
      msg,
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit', class: 'primary' }, t('users.save')),
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              try {
                await patch(`/users/${encodeURIComponent(user.id)}`, { disabled: !user.disabled });
                close(true);
                reload();
              } catch (err) {
                msg.textContent = errorText(err);
              }
            },
          },
          user.disabled ? t('users.enable') : t('users.disable'),
        ),
        h('button', { type: 'button', onclick: () => tokensDialog(ctx, user) }, t('users.tokens')),
      ),
    );
    return form;
  });
}

export async function render(root, ctx) {
  const [users, stations] = await Promise.all([get('/users'), get('/stations')]);
  const reload = () => ctx.route();
  const id = h('input', {
    name: 'id',
    required: true,
    pattern: '[a-z][a-z0-9_.\\-]{1,31}',
    autocapitalize: 'off',
  });
  const name = h('input', { name: 'displayName', required: true });
  const role = h(
    'select',
    { name: 'role' },
    ROLES.map((r) => h('option', { value: r, selected: r === 'operator' }, t(`role.${r}`))),
  );
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 10,
  });
  const msg = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await post('/users', {
            id: id.value.trim(),
            displayName: name.value.trim(),
            role: role.value,
            password: password.value,
            locale: locale(),
            stations: role.value === 'operator' ? picked(form) : [],
          });
          reload();
        } catch (err) {
          msg.textContent = errorText(err);
        }
      },
    },
    h('h2', null, t('users.new')),
    h('label', null, t('users.id'), id),
    h('label', null, t('users.name'), name),
    h('label', null, t('users.role'), role),
    h('label', null, t('users.password'), password),
    stationPicker(stations, []),
    msg,
    h('button', { type: 'submit', class: 'primary' }, t('users.save')),
  );
  replace(
    root,
    h('h1', null, t('users.title')),
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, t('users.id')),
          h('th', null, t('users.name')),
          h('th', null, t('users.role')),
          h('th', null, t('users.stations')),
          h('th', null, ''),
        ),
      ),
      h(
        'tbody',
        null,
        users.map((u) =>
          h(
            'tr',
            { dataset: { user: u.id } },
            h(
              'td',
              { 'data-label': t('users.id') },
              u.id,
              u.disabled ? badge(t('users.disabled'), 'muted') : null,
            ),
            h('td', { 'data-label': t('users.name') }, u.displayName),
            h('td', { 'data-label': t('users.role') }, t(`role.${u.role}`)),
            h('td', { 'data-label': t('users.stations') }, u.stations.join(', ') || '—'),
            h(
              'td',
              { class: 'actions' },
              h('button', { type: 'button', onclick: () => editDialog(ctx, u, stations, reload) }, '✎'),
              u.id === ctx.me.user.id
                ? null
                : h(
                    'button',
                    {
                      type: 'button',
                      class: 'danger',
                      onclick: async (e) => {
                        if (!window.confirm(`${t('users.delete')} ${u.id}?`)) return;
                        try {
                          await del(`/users/${encodeURIComponent(u.id)}`);
                          reload();
                        } catch (err) {
                          e.target.after(h('small', { class: 'bad' }, errorText(err)));
                        }
                      },
                    },
                    t('users.delete'),
                  ),
            ),
          ),
        ),
      ),
    ),
    form,
  );
}
