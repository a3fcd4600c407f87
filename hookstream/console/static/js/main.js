// Sign-in, navigation and the hash router. Each page is one module exporting
// render(root, ctx); ctx.onLeave(fn) registers cleanup (timers) for navigation.
import * as api from './api.js';
import { h, clear, field, notice, statusLine } from './dom.js';
import { takeFlash } from './flash.js';

const PAGES = [
  [/^overview$/, () => import('./pages/overview.js'), 'Overview'],
  [/^webhooks$/, () => import('./pages/webhooks.js'), 'Webhooks'],
  [/^webhooks\/new$/, () => import('./pages/webhook-form.js'), 'New webhook'],
  [/^webhooks\/([^/]+)\/events$/, () => import('./pages/events.js'), 'View events'],
  [/^webhooks\/([^/]+)$/, () => import('./pages/webhook-form.js'), 'Edit webhook'],
  [/^deliveries(?:\/(.+))?$/, () => import('./pages/deliveries.js'), 'Find delivery'],
  [/^send$/, () => import('./pages/send.js'), 'Send event'],
  [/^listeners$/, () => import('./pages/listeners.js'), 'Listeners'],
  [/^listeners\/new$/, () => import('./pages/listener-form.js'), 'New listener'],
  [/^listeners\/([^/]+)$/, () => import('./pages/listener-form.js'), 'Listener'],
  [/^flows$/, () => import('./pages/flows.js'), 'Flows'],
  [/^flows\/new$/, () => import('./pages/flow-form.js'), 'New flow'],
  [/^flows\/([^/]+)$/, () => import('./pages/flow-form.js'), 'Flow'],
  [/^flows\/([^/]+)\/executions\/([^/]+)$/, () => import('./pages/flow-form.js'), 'Flow'],
  [/^tenants$/, () => import('./pages/tenants.js'), 'Tenants'],
  [/^event-types$/, () => import('./pages/event-types.js'), 'Event types'],
];
// The portal (a tenant's token): its webhooks and the event types, nothing else.
const PORTAL_PAGES = [/^webhooks$/, /^webhooks\/new$/, /^webhooks\/([^/]+)\/events$/, /^webhooks\/([^/]+)$/,
  /^deliveries(?:\/(.+))?$/, /^event-types$/];
const PORTAL_NAV = new Set(['#/webhooks', '#/deliveries', '#/event-types']);
const PORTAL_PATH = '/ui/portal';

// A portal link carries its token in the URL fragment (#token=…), which the
// browser sends to no server. Keep it in this tab only and take it out of the
// address bar and the history at once.
if (window.location.hash.startsWith('#token=')) {
  api.session.token = decodeURIComponent(window.location.hash.slice('#token='.length));
  window.history.replaceState(null, '', `${PORTAL_PATH}#/webhooks`);
}
const inPortal = () => window.location.pathname === PORTAL_PATH;

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const signOut = document.getElementById('sign-out');
let role = null;
let me = {};
let leaving = [];
let signInMessage = '';

const navigate = (hash) => { window.location.hash = hash; };

function portalSignedOut() {
  clear(view).append(h('div', { class: 'card narrow', role: 'alert' },
    h('h1', { text: 'This portal link no longer works' }),
    h('p', { text: 'It has expired or was revoked. Ask for a new link.' })));
}

function signInPage() {
  nav.hidden = true;
  signOut.hidden = true;
  who.textContent = '';
  if (inPortal()) return portalSignedOut();
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true });
  const status = statusLine();
  const form = h('form', { class: 'card narrow', 'aria-label': 'Sign in' },
    h('h1', { text: 'Sign in' }),
    h('p', { text: 'Paste an API token (HOOKSTREAM_API_TOKENS, or the admin token `make run` printed). It is kept in this browser tab only.' }),
    field('API token', input),
    status,
    h('button', { type: 'submit', class: 'primary', text: 'Sign in' }));
  if (signInMessage) notice(status, signInMessage, 'warn');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    notice(status, 'Checking the token…');
    try {
      me = await api.call('GET', '/whoami', undefined, { token });
      api.session.token = token;
      role = me.role;
      signInMessage = '';
      route();
    } catch (err) {
      notice(status, err.status === 401 ? 'That token was not accepted.' : `Sign-in failed: ${err.message}`, 'error');
    }
  });
  clear(view).append(form);
  input.focus();
  return undefined;
}

async function learnRole() {
  me = await api.get('/whoami');
  role = me.role;
}

api.whenUnauthorized(() => {
  api.session.token = null;
  role = null;
  signInMessage = 'Your token is no longer accepted; sign in again.';
  signInPage();
});

signOut.addEventListener('click', () => {
  api.session.token = null;
  role = null;
  signInMessage = '';
  if (inPortal()) {
    window.history.replaceState(null, '', '/ui/#/overview');
    signInPage();
    return;
  }
  navigate('#/overview');
  signInPage();
});

async function route() {
  for (const fn of leaving) fn();
  leaving = [];
  if (!api.session.token) return signInPage();
  if (!role) {
    try { await learnRole(); } catch (err) {
      if (err.status !== 401) clear(view).append(h('p', { class: 'notice error', text: `Could not reach the API: ${err.message}` }));
      return undefined;
    }
  }
  const tenant = role === 'tenant';
  nav.hidden = false;
  signOut.hidden = false;
  who.textContent = tenant
    ? `${me.tenantName || me.tenantId}${me.readOnly ? ' (read-only)' : ''}`
    : `signed in as ${role}`;
  // A publisher token may only publish: it gets the Send event page alone; a
  // tenant's token gets its webhooks and the event types.
  const publisherOnly = role === 'publisher';
  for (const a of nav.querySelectorAll('a')) {
    const href = a.getAttribute('href');
    a.hidden = (publisherOnly && href !== '#/send') || (tenant && !PORTAL_NAV.has(href));
  }
  const home = tenant ? 'webhooks' : 'overview';
  let path = (window.location.hash || `#/${home}`).replace(/^#\/?/, '') || home;
  if (publisherOnly && path !== 'send') path = 'send';
  if (tenant && !PORTAL_PAGES.some((re) => re.test(path))) path = 'webhooks';
  const match = PAGES.map(([re, load, title]) => [path.match(re), load, title]).find(([m]) => m);
  for (const a of nav.querySelectorAll('a')) {
    const current = path === a.getAttribute('href').slice(2) || path.startsWith(`${a.getAttribute('href').slice(2)}/`);
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  clear(view);
  if (!match) {
    view.append(h('p', { class: 'notice warn', text: `No page called “${path}”.` }));
    return undefined;
  }
  const [m, load, title] = match;
  document.title = tenant ? `${title} · ${me.tenantName || me.tenantId}` : `${title} · hookstream`;
  const ctx = {
    role,
    tenant: tenant ? { id: me.tenantId, name: me.tenantName, readOnly: me.readOnly } : null,
    canWrite: role === 'admin' || (tenant && !me.readOnly),
    canPublish: role === 'admin' || role === 'publisher',
    params: m.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p))),
    navigate,
    reload: () => route(),
    onLeave: (fn) => leaving.push(fn),
  };
  const root = h('section', { class: 'page' });
  // A confirmation from the page before (a save that navigated here).
  const flashed = takeFlash();
  if (flashed) view.append(flashed);
  view.append(root);
  try {
    const page = await load();
    await page.render(root, ctx);
  } catch (err) {
    if (err.status === 401) return undefined;
    root.append(h('p', { class: 'notice error', role: 'alert', text: `This page failed: ${err.message}` }));
  }
  return undefined;
}

window.addEventListener('hashchange', route);
route();
