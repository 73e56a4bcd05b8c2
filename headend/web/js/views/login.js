// Login page.
import { ApiError, post } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText } from '../errors.js';
import { t } from '../i18n.js';

export function render(root, ctx) {
  const user = h('input', {
    name: 'user',
    autocomplete: 'username',
    required: true,
    autocapitalize: 'off',
    spellcheck: 'false',
  });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const msg = h('p', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        msg.hidden = true;
        try {
          const me = await post('/auth/login', { user: user.value.trim(), password: password.value });
          await ctx.onLogin(me);
        } catch (err) {
          msg.hidden = false;
          if (err instanceof ApiError && err.code === 'LOGIN_FAILED') msg.textContent = t('login.failed');
          else if (err instanceof ApiError && err.code === 'RATE_LIMITED')
            msg.textContent = t('login.limited', { s: err.problem?.retryAfterS ?? '?' });
          else msg.textContent = errorText(err);
          password.value = '';
          password.focus();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h1', null, t('login.title')),
    h('label', null, t('login.user'), user),
    h('label', null, t('login.password'), password),
    msg,
    submit,
  );
  replace(root, form);
  user.focus();
}
