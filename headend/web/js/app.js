// The UI shell: session bootstrap, header and navigation, hash routing, language switch, live updates.
import { ApiError, get, onUnauthenticated, patch, post, setCsrf } from './api.js';
import { h, replace } from './dom.js';
import { errorBox } from './errors.js';
import { initLocale, locale, setLocale, t } from './i18n.js';
import { onLiveStatus, startLive, stopLive } from './live.js';

const views = {
  login: () => import('./views/login.js'),
  fleet: () => import('./views/fleet.js'),
  guide: () => import('./views/guide.js'),
  entries: () => import('./views/entries.js'),
  station: () => import('./views/station.js'),
  recordings: () => import('./views/recordings.js'),
  users: () => import('./views/users.js'),
  conferences: () => import('./views/conferences.js'),
  conference: () => import('./views/conference.js'),
  alarms: () => import('./views/alarms.js'),
};

const app = { me: null, cleanup: null, liveStatus: 'open', renderSeq: 0 };

/** What views get. */
function context(params) {
  return {
    me: app.me,
    params,
    tz: app.me?.timeZone ?? 'Asia/Shanghai',
    locale: locale(),
    can: (perm) => Boolean(app.me?.permissions.includes(perm)),
    navigate: (hash) => {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    onLogin: async (me) => {
      app.me = me;
      setCsrf(me.csrf);
      if (me.user.locale && me.user.locale !== locale()) setLocale(me.user.locale);
      startLive();
      location.hash = homeOf(me);
      route();
    },
  };
}

function homeOf(me) {
  if (me.user.role === 'operator' && me.user.stations.length === 1)
    return `#/station/${encodeURIComponent(me.user.stations[0])}`;
  return '#/fleet';
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [pathPart, query = ''] = raw.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(query));
  return { name: parts[0] ?? '', arg: parts[1], params };
}

function header() {
  const me = app.me;
  const nav = [];
  const link = (hash, key, name) =>
    h('a', { href: hash, class: parseHash().name === name ? 'active' : '', 'data-nav': name }, t(key));
  if (me) {
    if (me.permissions.includes('fleet.read')) nav.push(link('#/fleet', 'nav.fleet', 'fleet'));
    if (me.permissions.includes('fleet.read'))
      nav.push(link('#/conferences', 'nav.conferences', 'conferences'));
    nav.push(link('#/guide', 'nav.guide', 'guide'));
    if (me.permissions.includes('fleet.read')) nav.push(link('#/entries', 'nav.entries', 'entries'));
    if (me.permissions.includes('fleet.read')) nav.push(link('#/recordings', 'nav.recordings', 'recordings'));
    if (me.permissions.includes('fleet.read')) nav.push(link('#/alarms', 'nav.alarms', 'alarms'));
    if (me.permissions.includes('users.manage')) nav.push(link('#/users', 'nav.users', 'users'));
  }
  const switchLang = async () => {
    setLocale(locale() === 'zh-CN' ? 'en' : 'zh-CN');
    if (app.me) patch('/auth/me', { locale: locale() }).catch(() => undefined);
    route();
  };
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: me ? homeOf(me) : '#/login' }, t('app.title')),
    h('nav', null, nav),
    h(
      'div',
      { class: 'who' },
      me
        ? h('span', {
            class: `live-dot ${app.liveStatus}`,
            title: app.liveStatus === 'open' ? t('fleet.live') : t('fleet.reconnecting'),
          })
        : null,
      me
        ? h(
            'span',
            { class: 'user', 'data-user': me.user.id },
            me.user.displayName,
            ' · ',
            t(`role.${me.user.role}`),
          )
        : null,
      h(
        'button',
        { type: 'button', class: 'link', onclick: switchLang, 'data-action': 'lang' },
        t('lang.switch'),
      ),
      me
        ? h(
            'button',
            { type: 'button', class: 'link', onclick: logout, 'data-action': 'logout' },
            t('nav.logout'),
          )
        : null,
    ),
  );
}

async function logout() {
  try {
    await post('/auth/logout');
  } catch {
    // the session may already be gone
  }
  app.me = null;
  setCsrf(null);
  stopLive();
  location.hash = '#/login';
  route();
}

async function route() {
  const seq = ++app.renderSeq;
  app.cleanup?.();
  app.cleanup = null;
  // A dialog belongs to the page that opened it.
  for (const d of document.querySelectorAll('dialog')) d.remove();
  const { name, arg, params } = parseHash();
  let viewName = name || (app.me ? '' : 'login');
  if (!app.me) viewName = 'login';
  else if (viewName === '' || viewName === 'login') {
    location.replace(homeOf(app.me));
    viewName = parseHash().name;
  }
  if (!views[viewName]) viewName = 'fleet';
  const body = document.getElementById('app');
  const main = h(
    'main',
    { id: 'view', 'data-view': viewName },
    h('p', { class: 'muted' }, t('common.loading')),
  );
  replace(body, header(), main);
  document.title = t('app.title');
  try {
    const mod = await views[viewName]();
    if (seq !== app.renderSeq) return;
    const cleanup = await mod.render(main, { ...context({ ...params, arg }), route });
    if (seq !== app.renderSeq) {
      if (typeof cleanup === 'function') cleanup();
      return;
    }
    app.cleanup = typeof cleanup === 'function' ? cleanup : null;
  } catch (err) {
    if (seq !== app.renderSeq) return;
    replace(main, errorBox(err));
  }
}

async function boot() {
  initLocale();
  onUnauthenticated(() => {
    if (!app.me) return;
    app.me = null;
    stopLive();
    location.hash = '#/login';
  });
  onLiveStatus((s) => {
    app.liveStatus = s;
    const dot = document.querySelector('.live-dot');
    if (dot) dot.className = `live-dot ${s}`;
  });
  try {
    const me = await get('/auth/me');
    app.me = me;
    setCsrf(me.csrf);
    if (me.user.locale) setLocale(me.user.locale);
    startLive();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) console.error(err);
  }
  window.addEventListener('hashchange', route);
  route();
}

boot();
