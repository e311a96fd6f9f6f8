// containd operations dashboard. Plain JavaScript, no library, no build step: the daemon serves
// this file from its binary at /ui/app.js under a strict Content-Security-Policy (no inline
// script or style), so the page builds every node with the DOM API and never uses innerHTML
// for data.
//
// The API token lives in sessionStorage (this tab only) and goes out as a bearer header. What a
// role may do is what the API answers: the page asks it at sign-in (see detectRole) and shows the
// operator's buttons only to a token the API lets act. A viewer's page never asks for evidence or
// a credential.
'use strict';

const TOKEN_KEY = 'containd.token';
const PAGE = 200;             // GET /v1/incidents: the API's largest page
const LIST_MAX = 10000;       // stop paging there
const LIST_REFRESH_MS = 10000;
const STREAM_RETRY_MS = 3000;
const NIL_ID = '00000000-0000-0000-0000-000000000000';
const STATUSES = ['running', 'waiting_approval', 'verifying', 'contained', 'needs_attention', 'cancelled'];
const PHASES = ['resolve', 'block', 'revoke', 'credentials', 'methods', 'apps', 'verify', 'release', 'done'];

const session = { token: null, role: null, operator: false };
let teardown = [];  // run when the view changes: aborts streams, clears timers

// ---- small DOM helpers ------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function badge(value) {
  const v = value === null || value === undefined ? '—' : String(value);
  return el('span', { class: `badge s-${v.replace(/[^a-z_]/g, '')}` }, v.replace(/_/g, ' '));
}

function table(caption, headers, rows, opts = {}) {
  const head = el('tr', {}, headers.map((h) => el('th', { scope: 'col', class: h.cls }, h.label || h)));
  const t = el('table', { id: opts.id }, el('caption', { class: 'visually-hidden' }, caption), el('thead', {}, head),
    el('tbody', {}, rows));
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption }, t);
}

function announce(text) {
  const a = document.getElementById('announce');
  a.textContent = '';
  setTimeout(() => { a.textContent = text; }, 50);
}

// ---- time ---------------------------------------------------------------------------------

// Compact (no year: the title attribute has the full ISO time), so the tables fit a laptop.
const localFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});
const utcFmt = new Intl.DateTimeFormat('en-GB', {
  month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'UTC', hourCycle: 'h23',
});

// A <time> showing the viewer's zone and, under it, UTC.
function when(iso) {
  if (!iso) return el('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return el('span', {}, String(iso));
  return el('time', { datetime: iso, title: iso }, localFmt.format(d), el('span', { class: 'utc' }, `${utcFmt.format(d)} UTC`));
}

function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

function timeToContainment(inc) {
  if (!inc.contained_at) return null;
  return new Date(inc.contained_at) - new Date(inc.created_at);
}

// ---- the API ----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function api(path, { method = 'GET', body, signal, accept = 'application/json', raw = false } = {}) {
  const headers = { Authorization: `Bearer ${session.token}`, Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, signal, cache: 'no-store', credentials: 'omit',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    signOut('The token is no longer accepted; sign in again.');
    throw new ApiError(401, { detail: 'Unauthorized' });
  }
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch (e) { /* not JSON */ }
    throw new ApiError(res.status, problem);
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}

const enc = encodeURIComponent;

// Every incident the filter selects, page by page (the API pages at 200).
async function listAll(status, signal) {
  const out = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (status) q.set('status', status);
    if (cursor) q.set('cursor', cursor);
    const page = await api(`/v1/incidents?${q}`, { signal });
    out.push(...page.incidents);
    cursor = page.next_cursor;
  } while (cursor && out.length < LIST_MAX);
  return out;
}

// The caller's role, as the API enforces it: a token the API refuses an operator route (403)
// is not an operator. The probes have no effect: the approve probe names no step and no real
// incident (400 or 404 for an operator, before anything runs), the submit probe has no body (400).
async function detectRole(token) {
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  const read = await fetch('/v1/incidents?limit=1', { headers, cache: 'no-store' });
  if (read.status === 401) throw new Error('The API did not accept this token.');
  if (!read.ok) throw new Error(`The API answered ${read.status}.`);
  const json = { ...headers, 'Content-Type': 'application/json' };
  const op = await fetch(`/v1/incidents/${NIL_ID}/approve`, { method: 'POST', headers: json, body: '{}', cache: 'no-store' });
  if (op.status !== 403 && op.status !== 401) return 'operator';
  const sub = await fetch('/v1/incidents', { method: 'POST', headers, cache: 'no-store' });
  return sub.status === 403 || sub.status === 401 ? 'viewer' : 'submitter';
}

// Reads a server-sent event stream with fetch (EventSource cannot send a bearer header).
// Calls onEvent({id, event, data}) per event; resolves when the server ends the stream.
async function readEventStream(path, after, onEvent, signal) {
  const res = await fetch(`${path}?after=${after}`, {
    headers: { Authorization: `Bearer ${session.token}`, Accept: 'text/event-stream' },
    cache: 'no-store', credentials: 'omit', signal,
  });
  if (res.status === 401) { signOut('The token is no longer accepted; sign in again.'); return; }
  if (!res.ok || !res.body) throw new ApiError(res.status, null);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const ev = { id: null, event: 'message', data: '' };
      const data = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'id') ev.id = v;
        else if (field === 'event') ev.event = v;
        else if (field === 'data') data.push(v);
      }
      if (data.length === 0) continue;
      ev.data = data.join('\n');
      onEvent(ev);
    }
  }
}

// ---- sign-in ----------------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  session.role = null;
  session.operator = false;
  location.hash = '#/';
  renderSignIn(message);
}

function renderSignIn(message) {
  runTeardown();
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  const error = el('p', { class: 'error', role: 'alert', id: 'signin-error' }, message || '');
  const input = el('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true,
    spellcheck: 'false' });
  const form = el('form', { class: 'signin', id: 'signin' },
    el('h1', {}, 'Sign in'),
    el('p', { class: 'muted' }, 'Paste your containd API token. It stays in this browser tab only and is sent to this server only.'),
    el('label', { for: 'token' }, 'API token'), input, error,
    el('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const token = input.value.trim();
    try {
      const role = await detectRole(token);
      sessionStorage.setItem(TOKEN_KEY, token);
      await startSession(token, role);
    } catch (err) {
      error.textContent = err.message;
    }
  });
  show(form);
  input.focus();
}

async function startSession(token, role) {
  await detectRoutes();
  session.token = token;
  session.role = role;
  session.operator = role === 'operator';
  document.getElementById('who-role').textContent = role;
  document.getElementById('who').hidden = false;
  document.getElementById('nav').hidden = false;
  document.body.dataset.role = role;
  route();
}

// ---- routing ----------------------------------------------------------------------------------

function runTeardown() {
  for (const f of teardown) { try { f(); } catch (e) { /* ignore */ } }
  teardown = [];
}

function show(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
}

function route() {
  if (!session.token) return;
  runTeardown();
  const hash = location.hash || '#/';
  let m;
  let name = 'list';
  if ((m = hash.match(/^#\/incidents\/([0-9a-fA-F-]{36})(?:\/(report))?$/))) {
    name = m[2] ? 'report' : 'incident';
    if (m[2]) viewReport(m[1]); else viewIncident(m[1]);
  } else if (hash === '#/attention') {
    name = 'attention';
    viewAttention();
  } else if (hash === '#/health') {
    name = 'health';
    viewHealth();
  } else {
    viewList();
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name || (name !== 'attention' && name !== 'health' && a.dataset.nav === 'list' && name === 'list'))
      a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.getElementById('main').focus({ preventScroll: true });
}

function loading(what) {
  return el('p', { class: 'muted', role: 'status' }, `Loading ${what}…`);
}

function failure(err) {
  return el('p', { class: 'error', role: 'alert' }, `Could not load: ${err.message}`);
}

function controller() {
  const c = new AbortController();
  teardown.push(() => c.abort());
  return c.signal;
}

// ---- view: the incident list ------------------------------------------------------------------

const listState = { status: '', tenant: '', q: '', attentionOnly: false };

function viewList() {
  document.title = 'Incidents · containd';
  const signal = controller();
  const h1 = el('h1', {}, 'Incidents');
  const count = el('p', { class: 'muted', id: 'list-count', role: 'status' }, '');
  const status = el('select', { id: 'f-status' }, el('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => el('option', { value: s, selected: listState.status === s }, s.replace(/_/g, ' '))));
  const tenant = el('select', { id: 'f-tenant' }, el('option', { value: '' }, 'Any tenant'));
  const search = el('input', { id: 'f-search', type: 'search', value: listState.q,
    placeholder: 'External ref, UPN or title' });
  const attention = el('input', { id: 'f-attention', type: 'checkbox', checked: listState.attentionOnly });
  const filters = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter incidents' },
    el('div', {}, el('label', { for: 'f-search' }, 'Search'), search),
    el('div', {}, el('label', { for: 'f-status' }, 'Status'), status),
    el('div', {}, el('label', { for: 'f-tenant' }, 'Tenant'), tenant),
    el('div', {}, el('label', { for: 'f-attention' }, attention, ' Needs attention only')));
  filters.addEventListener('submit', (e) => e.preventDefault());
  const body = el('div', { id: 'list-body' }, loading('incidents'));
  show(h1, filters, count, body);

  let all = [];
  const render = () => {
    const t0 = performance.now();
    const q = listState.q.trim().toLowerCase();
    const rows = [];
    let shown = 0;
    for (const inc of all) {
      if (listState.tenant && inc.tenant !== listState.tenant) continue;
      if (listState.attentionOnly && !(inc.attention && inc.attention.length) &&
          inc.status !== 'needs_attention' && inc.status !== 'waiting_approval') continue;
      if (q && !matches(inc, q)) continue;
      shown++;
      rows.push(listRow(inc));
    }
    const headers = ['Incident', { label: 'Tenant', cls: 'hide-narrow' }, 'Status', { label: 'Phase', cls: 'hide-narrow' },
      'Created', 'Time to containment', 'Attention', { label: 'Accounts', cls: 'hide-narrow' }];
    body.replaceChildren(rows.length ? table('Incidents', headers, rows, { id: 'incidents' })
      : el('p', { class: 'muted', id: 'no-incidents' }, all.length ? 'No incident matches the filters.' : 'No incidents yet.'));
    count.textContent = `${shown} of ${all.length} incident${all.length === 1 ? '' : 's'}`;
    const ms = performance.now() - t0;
    body.dataset.renderMs = ms.toFixed(1);
  };

  const load = async () => {
    try {
      const t0 = performance.now();
      all = await listAll(listState.status, signal);
      const tenants = [...new Set(all.map((i) => i.tenant))].sort();
      const keep = listState.tenant;
      tenant.replaceChildren(el('option', { value: '' }, 'Any tenant'),
        tenants.map((t) => el('option', { value: t, selected: keep === t }, t)));
      render();
      body.dataset.loadMs = (performance.now() - t0).toFixed(1);
    } catch (err) {
      if (err.name !== 'AbortError') body.replaceChildren(failure(err));
    }
  };
  status.addEventListener('change', () => { listState.status = status.value; load(); });
  tenant.addEventListener('change', () => { listState.tenant = tenant.value; render(); });
  attention.addEventListener('change', () => { listState.attentionOnly = attention.checked; render(); });
  let debounce = null;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { listState.q = search.value; render(); }, 120);
  });
  load();
  const timer = setInterval(() => { if (!document.hidden && !body.contains(document.activeElement)) load(); }, LIST_REFRESH_MS);
  teardown.push(() => clearInterval(timer));
}

function matches(inc, q) {
  if ((inc.external_ref || '').toLowerCase().includes(q)) return true;
  if ((inc.title || '').toLowerCase().includes(q)) return true;
  if (inc.id.startsWith(q)) return true;
  return (inc.upns || []).some((u) => u.toLowerCase().includes(q));
}

function listRow(inc) {
  const title = inc.title || inc.external_ref || inc.id;
  const n = (inc.attention || []).length;
  return el('tr', { 'data-id': inc.id },
    el('td', {}, el('a', { href: `#/incidents/${inc.id}` }, title),
      inc.external_ref ? el('div', { class: 'muted small' }, inc.external_ref) : null),
    el('td', { class: 'hide-narrow' }, inc.tenant),
    el('td', {}, badge(inc.status)),
    el('td', { class: 'hide-narrow' }, inc.phase),
    el('td', {}, when(inc.created_at)),
    el('td', { class: 'num' }, duration(timeToContainment(inc))),
    el('td', { class: 'num' }, n ? el('span', { class: 'badge s-attention' }, String(n)) : '0'),
    el('td', { class: 'num hide-narrow' }, inc.account_count ?? '—'));
}

// ---- view: one incident -----------------------------------------------------------------------

function credentialStates(events) {
  // "password:<upn>" / "tap:<upn>" -> {kind, upn, state, at, by}, from the audit events.
  const out = new Map();
  for (const e of events) {
    const name = e.data && e.data.name;
    if (typeof name !== 'string') continue;
    const colon = name.indexOf(':');
    if (colon < 0) continue;
    const kind = name.slice(0, colon);
    const upn = name.slice(colon + 1);
    if (e.kind === 'secret_stored') out.set(name, { kind, upn, state: 'sealed', at: e.at, by: null });
    else if (e.kind === 'secret_revealed') out.set(name, { kind, upn, state: 'revealed', at: e.at, by: e.data.by || null });
  }
  return out;
}

function viewIncident(id) {
  document.title = 'Incident · containd';
  const signal = controller();
  const root = el('div', { id: 'incident', 'data-id': id }, loading('the incident'));
  show(root);
  const state = { doc: null, events: [], lastEvent: 0, live: false };
  let pending = null;

  const refresh = async () => {
    try {
      state.doc = await api(`/v1/incidents/${enc(id)}`, { signal });
      draw();
    } catch (err) {
      if (err.name !== 'AbortError') root.replaceChildren(failure(err));
    }
  };
  const scheduleRefresh = () => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh(); }, 150);
  };
  teardown.push(() => clearTimeout(pending));

  const draw = () => {
    const before = root.querySelector('#status-badge');
    const prevStatus = before ? before.dataset.status : null;
    const focusId = document.activeElement && document.activeElement.id;
    root.replaceChildren(...renderIncident(state, refresh));
    if (prevStatus && prevStatus !== state.doc.status) announce(`Incident status: ${state.doc.status.replace(/_/g, ' ')}`);
    if (focusId) { const f = document.getElementById(focusId); if (f) f.focus(); }
  };

  // Live: the event stream, reopened after it ends (the server ends it once the incident is
  // final; a release appends events after that) until the view closes.
  const live = async () => {
    while (!signal.aborted) {
      try {
        state.live = true;
        updateLive(root, true);
        await readEventStream(`/v1/incidents/${enc(id)}/events`, state.lastEvent, (ev) => {
          let data;
          try { data = JSON.parse(ev.data); } catch (e) { return; }
          state.events.push(data);
          state.lastEvent = Math.max(state.lastEvent, Number(ev.id) || data.id || 0);
          scheduleRefresh();
        }, signal);
      } catch (err) {
        if (signal.aborted) return;
      }
      state.live = false;
      updateLive(root, false);
      // The server ends the stream of a finished incident: look again now and then (a release
      // appends events to a contained incident), sooner while it still runs.
      const final = state.doc && (state.doc.status === 'contained' || state.doc.status === 'cancelled');
      await new Promise((r) => {
        const t = setTimeout(r, final ? STREAM_RETRY_MS * 2 : STREAM_RETRY_MS);
        teardown.push(() => { clearTimeout(t); r(); });
      });
    }
  };
  refresh().then(() => { if (!signal.aborted) live(); });
}

function updateLive(root, on) {
  const l = root.querySelector('.live');
  if (!l) return;
  l.classList.toggle('on', on);
  l.textContent = on ? 'Live' : 'Waiting for changes…';
}

function renderIncident(state, refresh) {
  const inc = state.doc;
  document.title = `${inc.external_ref || inc.title || 'Incident'} · containd`;
  const creds = credentialStates(state.events);
  const released = (inc.steps || []).some((s) => s.kind === 'release_block');
  const out = [];
  out.push(el('p', { class: 'small' }, el('a', { href: '#/' }, '← All incidents')));
  out.push(el('h1', {}, inc.title || inc.external_ref || inc.id));
  out.push(el('dl', { class: 'summary' },
    el('div', {}, el('dt', {}, 'Status'), el('dd', {}, el('span', { id: 'status-badge', 'data-status': inc.status }, badge(inc.status)))),
    el('div', {}, el('dt', {}, 'Phase'), el('dd', { id: 'phase' }, inc.phase)),
    el('div', {}, el('dt', {}, 'External ref'), el('dd', {}, inc.external_ref || '—')),
    el('div', {}, el('dt', {}, 'Tenant'), el('dd', {}, inc.tenant)),
    el('div', {}, el('dt', {}, 'Created'), el('dd', {}, when(inc.created_at))),
    el('div', {}, el('dt', {}, 'Contained'), el('dd', {}, when(inc.contained_at))),
    el('div', {}, el('dt', {}, 'Time to containment'), el('dd', {}, duration(timeToContainment(inc)))),
    el('div', {}, el('dt', {}, 'Updates'), el('dd', {}, el('span', { class: `live${state.live ? ' on' : ''}` }, state.live ? 'Live' : 'Waiting for changes…')))));

  const actions = el('div', { class: 'actions', id: 'incident-actions' },
    el('a', { href: `#/incidents/${inc.id}/report`, id: 'open-report' }, 'Report (HTML)'));
  if (session.operator) {
    if (inc.contained_at && inc.status !== 'cancelled' && !released)
      actions.append(actionButton('release', 'Release the emergency block', inc, {}, refresh));
    if (inc.contained_at && inc.status !== 'cancelled' && hasRoute('reverify'))
      actions.append(actionButton('reverify', 'Re-verify now', inc, {}, refresh));
    if (inc.status !== 'cancelled' && hasRoute('addAccounts'))
      actions.append(actionButton('addAccounts', 'Add accounts', inc, {}, refresh));
    if (inc.status !== 'contained' && inc.status !== 'cancelled')
      actions.append(actionButton('cancel', 'Cancel incident', inc, {}, refresh, 'danger'));
  }
  out.push(actions);

  // What needs a human.
  const need = attentionItems(inc);
  out.push(el('h2', { id: 'h-attention' }, `Needs attention (${need.length})`));
  out.push(need.length ? el('ul', { class: 'attention-list', id: 'attention' },
    need.map((n) => el('li', {}, n.text, ' ', session.operator && n.action ? actionButton(n.action, n.label, inc, n.body, refresh) : null,
      n.action && !session.operator ? el('span', { class: 'muted small' }, `(needs an operator: ${n.label.toLowerCase()})`) : null)))
    : el('p', { class: 'muted', id: 'attention' }, 'Nothing.'));

  // Accounts.
  out.push(el('h2', {}, 'Accounts'));
  out.push(table('Accounts', ['Account', 'Tier and why', 'Sessions revoked', 'Password reset',
    { label: 'TAP issued', cls: 'hide-narrow' }, { label: 'Methods removed', cls: 'hide-narrow' }, 'Credential'],
  (inc.accounts || []).map((a) => {
    const mine = [...creds.values()].filter((c) => c.upn === a.upn);
    // A TAP is issued at its first reveal: until then the account is owed one.
    if (a.tap && !mine.some((c) => c.kind === 'tap')) mine.push({ kind: 'tap', upn: a.upn, state: 'sealed', owed: true });
    return el('tr', { 'data-upn': a.upn },
      el('td', {}, a.upn, a.synced ? el('div', { class: 'muted small' }, 'synced from on-premises') : null),
      el('td', {}, a.tier.replace(/_/g, ' '), el('div', { class: 'muted small' }, a.tier_reason || '')),
      el('td', {}, when(a.revoked_at)),
      el('td', {}, when(a.password_reset_at)),
      el('td', { class: 'hide-narrow' }, when(a.tap_issued_at)),
      el('td', { class: 'num hide-narrow' }, Array.isArray(a.methods_removed) ? a.methods_removed.length : (a.methods_removed ?? '—')),
      el('td', { class: 'cred' }, mine.length ? mine.map((c) => el('div', {}, `${c.kind}: `,
        c.owed ? el('span', { class: 'muted small' }, 'issued when revealed') : badge(c.state),
        c.state === 'revealed' && c.by ? el('span', { class: 'muted small' }, ` by ${c.by}`) : null,
        session.operator && c.state === 'sealed' ? [' ', revealButton(inc, c, refresh)] : null)) : el('span', { class: 'muted' }, 'none')));
  }), { id: 'accounts' }));

  // Verification: every check in one table (the planned ones, the confirmation checks a check
  // asked for, the re-verifications), then what each check that ran found.
  const checks = inc.verification || [];
  out.push(el('h2', { id: 'h-verification' }, `Verification checks (${checks.length})`));
  out.push(checks.length ? el('div', { id: 'verification' }, renderChecks(checks), checks.map(renderCheckDetail))
    : el('p', { class: 'muted', id: 'verification' }, 'No verification checks planned.'));

  // Steps, by phase.
  out.push(el('h2', {}, 'Timeline of phases and steps'));
  const steps = (inc.steps || []).slice().sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase) || a.seq - b.seq);
  out.push(table('Steps', ['#', 'Phase', 'Step', 'Target', 'Status', { label: 'Attempts', cls: 'hide-narrow' }, 'Started', 'Finished', 'Note'],
    steps.map((s) => el('tr', { 'data-seq': s.seq, 'data-status': s.status },
      el('td', { class: 'num' }, s.seq), el('td', {}, s.phase), el('td', {}, s.kind.replace(/_/g, ' ')),
      el('td', { class: 'small' }, s.target || '—'), el('td', {}, badge(s.status)),
      el('td', { class: 'num hide-narrow' }, s.attempts),
      el('td', {}, when(s.started_at || null)), el('td', {}, when(s.finished_at)),
      el('td', { class: 'small' }, s.error || (s.not_before && s.status === 'pending' ? ['due ', when(s.not_before)] : ''),
        s.approved_by ? ` approved by ${s.approved_by}` : ''))), { id: 'steps' }));

  // The audit trail, newest first (no event data beyond a few plain fields: evidence stays out).
  out.push(el('h2', {}, `Audit events (${state.events.length})`));
  const recent = state.events.slice(-200).reverse();
  out.push(el('ol', { class: 'events', id: 'events', reversed: true, tabindex: '0', 'aria-label': 'Audit events, newest first' },
    recent.map((e) => el('li', {}, el('span', { class: 'kind' }, e.kind.replace(/_/g, ' ')),
      e.step ? el('span', {}, `step ${e.step}`) : null, when(e.at), eventNote(e)))));
  return out;
}

function eventNote(e) {
  const d = e.data || {};
  const parts = [];
  for (const k of ['status', 'from', 'to', 'by', 'name', 'verdict', 'phase', 'error']) {
    const v = d[k];
    if (typeof v === 'string' || typeof v === 'number') parts.push(`${k}: ${String(v).slice(0, 120)}`);
  }
  return parts.length ? el('span', { class: 'muted small' }, parts.join(' · ')) : null;
}

// The verification checks, one row each: which check, when it was due and ran, its verdict and
// how far it settled the sign-in window (records arrive late: nothing after that is proven).
function checkLabel(c) {
  return c.check || c.label || `+${Math.round((c.offset_ms || 0) / 60000)}m`;
}

function renderChecks(checks) {
  return table('Verification checks', ['Check', 'Verdict', 'Due', 'Ran', 'Settled through',
    { label: 'Sign-ins read', cls: 'num hide-narrow' }],
  checks.map((c) => el('tr', { class: 'check', 'data-seq': c.seq, 'data-check': checkLabel(c), 'data-verdict': c.verdict },
    el('td', { class: 'check-label' }, el('strong', {}, checkLabel(c)),
      c.confirmation ? el('div', { class: 'muted small' }, 'confirmation') : null,
      c.final ? el('div', { class: 'muted small' }, 'final') : null),
    el('td', { class: 'check-verdict' }, badge(c.verdict || 'pending'),
      c.status && c.status !== 'succeeded' && c.status !== 'pending' ? [' ', badge(c.status)] : null),
    el('td', { class: 'check-due' }, when(c.due_at)),
    el('td', { class: 'check-ran' }, c.ran_at ? when(c.ran_at) : el('span', { class: 'muted' }, 'not yet')),
    el('td', { class: 'check-settled' }, c.settled_through ? when(c.settled_through) : el('span', { class: 'muted' }, '—')),
    el('td', { class: 'num hide-narrow' }, c.sign_ins_read ?? '—'))), { id: 'checks' });
}

// What one check found, when it ran: every field the API returns, the known ones laid out first
// and any newer one as it comes.
const CHECK_FIELDS = ['seq', 'check', 'label', 'offset_ms', 'due_at', 'ran_at', 'status', 'verdict', 'final', 'findings',
  'diagnosis', 'causes', 'error', 'sign_ins_read', 'confirmation', 'settled_through', 'unsettled', 'residual_windows',
  'confirm_at', 'cannot_prove', 'confirm_with_user'];

function renderCheckDetail(c) {
  const filled = (v) => v !== null && v !== undefined && !(Array.isArray(v) && !v.length);
  const extra = Object.entries(c).filter(([k, v]) => !CHECK_FIELDS.includes(k) && filled(v));
  if (!c.ran_at && !c.error && !extra.length) return null;
  const label = checkLabel(c);
  const rows = [];
  if (c.settled_through) {
    const tail = c.unsettled || {};
    rows.push(['Settled through', [when(c.settled_through), el('div', { class: 'muted small' },
      `after it, not yet settled: ${tail.records ?? 0} record(s), ${tail.attacker_successes ?? 0} attacker success(es)`)]]);
  }
  if (c.confirm_at) rows.push(['Confirmation check', when(c.confirm_at)]);
  if (c.error) rows.push(['Error', c.error]);
  for (const [k, v] of extra) rows.push([k.replace(/_/g, ' '), plain(v)]);
  const card = el('section', { class: 'card check-detail', 'data-check': label, 'aria-labelledby': `check-${c.seq}` },
    el('h3', { id: `check-${c.seq}` }, `Check ${label}${c.confirmation ? ' (confirmation)' : ''}: `, badge(c.verdict || 'pending')),
    rows.length ? el('dl', { class: 'kv' }, rows.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])) : null);
  const list = (title, items, cls) => {
    if ((items || []).length) card.append(el('h4', {}, title), el('ul', { class: cls || null }, items.map((d) => el('li', {}, plain(d)))));
  };
  list('Diagnosis', c.diagnosis);
  list('Possible causes', c.causes);
  if ((c.residual_windows || []).length) {
    card.append(el('h4', {}, 'Residual exposure windows'), table(`Residual exposure windows of ${label}`,
      ['Subject', 'App', 'IP', 'Client', 'Last token issued', 'Ends', 'Basis', 'Ended'],
      c.residual_windows.map((w) => el('tr', {}, el('td', {}, w.subject || '—'), el('td', {}, w.app_name || w.app_id || '—'),
        el('td', {}, w.ip || '—'), el('td', {}, w.client_app || '—'), el('td', {}, when(w.opened_at)), el('td', {}, when(w.ends_at)),
        el('td', {}, w.basis === 'refused' ? ['refused at ', when(w.refused_at), ' (observed)'] : 'maximum token lifetime (at the latest)'),
        el('td', {}, w.ended ? 'yes' : 'no')))));
  }
  if ((c.findings || []).length) {
    card.append(el('h4', {}, 'Sign-ins seen'), table(`Findings of ${label}`, ['Subject', 'IP', 'Successes', 'Failures', 'Codes', 'Last success'],
      c.findings.map((f) => el('tr', {}, el('td', {}, f.upn || f.app_id || f.subject), el('td', {}, f.ip || '—'),
        el('td', { class: 'num' }, f.successes), el('td', { class: 'num' }, f.failures),
        el('td', {}, (f.fail_codes || []).join(', ') || '—'), el('td', {}, when(f.last_success))))));
  } else if (c.verdict && c.verdict !== 'pending') {
    card.append(el('p', { class: 'muted' }, 'No sign-ins by the compromised accounts or apps since containment.'));
  }
  list('Confirm with the user', c.confirm_with_user);
  list('What this check cannot prove', c.cannot_prove, 'small');
  return card;
}

// A value of unknown shape as text or a small definition list (fields added to the API later).
function plain(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v !== 'object') return typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? when(v) : String(v);
  if (Array.isArray(v)) return v.length ? el('ul', {}, v.map((x) => el('li', {}, plain(x)))) : '—';
  return el('dl', { class: 'kv' }, Object.entries(v).map(([k, x]) => [el('dt', {}, k.replace(/_/g, ' ')), el('dd', {}, plain(x))]));
}

// What needs a human on one incident, each with the action it needs.
function attentionItems(inc) {
  const items = [];
  for (const s of inc.steps || []) {
    if (s.status === 'waiting_approval')
      items.push({ text: `Step ${s.seq} (${s.kind.replace(/_/g, ' ')} ${s.target || ''}) waits for approval.`,
        action: 'approve', label: `Approve step ${s.seq}`, body: { step: s.seq } });
    else if (s.status === 'failed')
      items.push({ text: `Step ${s.seq} (${s.kind.replace(/_/g, ' ')} ${s.target || ''}) failed: ${s.error || 'no detail'}.`,
        action: 'retry', label: `Retry step ${s.seq}`, body: { step: s.seq } });
  }
  // The engine's own lines, except those about a step already listed with its action above.
  const listed = new Set(items.map((i) => i.body && i.body.step));
  for (const a of inc.attention || []) {
    const m = /^step (\d+) \(/.exec(a);
    if (!m || !listed.has(Number(m[1]))) items.push({ text: a });
  }
  for (const c of inc.verification || []) {
    if (c.verdict === 'attention')
      items.push({ text: `Verification ${checkLabel(c)}: ${(c.diagnosis || []).join(' ') || 'needs review.'}`,
        action: hasRoute('reverify') ? 'reverify' : null, label: 'Re-verify', body: {} });
  }
  return items;
}

// ---- operator actions -------------------------------------------------------------------------

// The action routes (POST /v1/incidents/{id}/<route>). The optional ones are offered only when
// this server serves them (see detectRoutes).
const ROUTES = { approve: 'approve', retry: 'retry', cancel: 'cancel', release: 'release' };
const OPTIONAL_ROUTES = { reverify: 'verify', addAccounts: 'accounts' };
function hasRoute(action) { return Object.prototype.hasOwnProperty.call(ROUTES, action); }
// Whether POST .../cancel takes ?release=true (it does since the API took reasons). No probe can
// tell (an older server ignores the query of this route), so it is set by hand.
const CANCEL_CAN_RELEASE = true;

// A GET of a POST-only route is a 405 (the router answers it before any token check), a route
// the server does not have a 404: so asking changes nothing and needs no role.
async function detectRoutes() {
  await Promise.all(Object.entries(OPTIONAL_ROUTES).map(async ([action, route]) => {
    try {
      const r = await fetch(`/v1/incidents/${NIL_ID}/${route}`, { cache: 'no-store', credentials: 'omit' });
      if (r.status === 405) ROUTES[action] = route;
    } catch (e) { /* offline: not offered */ }
  }));
}

const ACTION_TEXT = {
  approve: 'The step runs as soon as it is approved.',
  retry: 'The step runs again from its last durable state.',
  cancel: 'No further step runs; what already happened stays done.',
  release: 'The accounts leave the emergency Conditional Access policy.',
  reverify: 'A sign-in verification check runs now, besides the scheduled ones.',
  addAccounts: 'The accounts join the incident and go through every phase the others went through.',
};

function actionButton(action, label, inc, body, refresh, cls) {
  return el('button', { type: 'button', class: cls || null, 'data-action': action,
    onclick: () => confirmAction({ action, label, inc, body, refresh }) }, label);
}

// The confirmation dialog: a reason is required before onConfirm(reason) runs; an error it
// throws is shown in the dialog, which stays open.
function openConfirm({ title, text, note, okLabel, okClass, extra, onConfirm }) {
  const dlg = document.getElementById('confirm');
  const form = document.getElementById('confirm-form');
  const reason = document.getElementById('confirm-reason');
  const error = document.getElementById('confirm-error');
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-note').textContent = note;
  document.getElementById('confirm-extra').replaceChildren(...(extra ? [extra] : []));
  reason.value = '';
  error.textContent = '';
  ok.textContent = okLabel;
  ok.disabled = false;
  ok.className = okClass || 'primary';
  const close = () => {
    form.onsubmit = null;
    cancel.onclick = null;
    document.getElementById('confirm-extra').replaceChildren();
    dlg.close();
  };
  cancel.onclick = close;
  form.onsubmit = async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) { error.textContent = 'A reason is required.'; reason.focus(); return; }
    ok.disabled = true;
    try {
      await onConfirm(reason.value.trim(), close);
    } catch (err) {
      error.textContent = err.status === 410 ? `Refused: ${err.message}` : err.message;
      ok.disabled = false;
    }
  };
  dlg.showModal();
  reason.focus();
}

// An operator action; the reason goes with it where the API takes one, and the page says so
// when the server does not record it.
function confirmAction({ action, label, inc, body, refresh }) {
  let extra = null;
  let build = () => body;
  let query = () => '';
  if (action === 'addAccounts') {
    const upns = el('textarea', { id: 'confirm-upns', rows: '3', 'aria-describedby': 'confirm-upns-hint' });
    extra = el('div', {}, el('label', { for: 'confirm-upns' }, 'Accounts to add'), upns,
      el('p', { class: 'muted small', id: 'confirm-upns-hint' }, 'One UPN a line.'));
    build = () => {
      const list = upns.value.split(/[\s,;]+/).map((u) => u.trim()).filter(Boolean);
      if (!list.length) throw new Error('Name at least one account.');
      return { ...body, accounts: list.map((upn) => ({ upn })) };
    };
  } else if (action === 'cancel' && CANCEL_CAN_RELEASE) {
    const release = el('input', { id: 'confirm-release', type: 'checkbox' });
    extra = el('p', {}, el('label', { for: 'confirm-release' }, release, ' Also release the emergency block'));
    query = () => (release.checked ? '?release=true' : '');
  }
  openConfirm({
    title: `${label}?`,
    text: `${inc.title || inc.external_ref || inc.id}: ${ACTION_TEXT[action] || ''}`,
    note: 'Your token\u2019s name is recorded with the action.',
    okLabel: label,
    okClass: action === 'cancel' ? 'danger' : 'primary',
    extra,
    onConfirm: async (reason, close) => {
      const recorded = await runAction(action, inc.id, build(), reason, query());
      close();
      announce(`${label}: done.${recorded ? '' : ' This server does not record a reason for it.'}`);
      refresh();
    },
  });
}

// POSTs the action with {reason}; when the API refuses the reason as an unknown field (its 400
// comes before anything happens), sends it again without. Returns whether the reason was taken.
async function runAction(action, id, body, reason, query = '') {
  const path = `/v1/incidents/${enc(id)}/${ROUTES[action]}${query}`;
  try {
    await api(path, { method: 'POST', body: { ...body, reason } });
    return true;
  } catch (err) {
    const errors = err.problem && err.problem.errors;
    if (err.status !== 400 || !Array.isArray(errors) || !errors.length || !errors.every((x) => x.field === 'reason')) throw err;
  }
  await api(path, { method: 'POST', body: { ...body } });
  return false;
}

function revealButton(inc, cred, refresh) {
  return el('button', { type: 'button', 'data-action': 'reveal', 'data-upn': cred.upn, 'data-kind': cred.kind,
    onclick: () => confirmReveal(inc, cred, refresh) }, `Reveal ${cred.kind === 'tap' ? 'TAP' : cred.kind}`);
}

function confirmReveal(inc, cred, refresh) {
  openConfirm({
    title: `Reveal the ${cred.kind} of ${cred.upn}?`,
    text: 'It is shown once, then wiped from the server: a second reveal is refused. Have a way to hand it over ready.',
    note: 'The audit trail records who revealed it and when; this server does not store the reason.',
    okLabel: 'Reveal once',
    onConfirm: async (reason, close) => {
      const q = new URLSearchParams({ kind: cred.kind });
      const path = `/v1/incidents/${enc(inc.id)}/credentials/${enc(cred.upn)}/reveal?${q}`;
      // A TAP is issued by its first reveal: 202 while Graph issues it, then the TAP (a minute at most).
      let res = await api(path, { method: 'POST' });
      for (let tries = 0; res && res.status === 'tap_issuing' && tries < 60; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        res = await api(path, { method: 'POST' });
      }
      if (!res || typeof res.value !== 'string') throw new ApiError(504, { detail: 'The TAP is still being issued; try again in a moment.' });
      close();
      showSecret(res.upn, res.kind, res.value);
      refresh();
    },
  });
}

// The credential: in the dialog only while it is open; removed from the DOM when it closes.
function showSecret(upn, kind, value) {
  const dlg = document.getElementById('reveal');
  const code = document.getElementById('reveal-value');
  const copied = document.getElementById('reveal-copied');
  const copy = document.getElementById('reveal-copy');
  document.getElementById('reveal-who').textContent = `${kind === 'tap' ? 'Temporary Access Pass' : 'Temporary password'} of ${upn}`;
  code.textContent = value;
  copied.textContent = '';
  copy.onclick = async () => {
    try {
      await navigator.clipboard.writeText(code.textContent);
      copied.textContent = 'Copied to the clipboard.';
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      copied.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  };
  // Wiped as the dialog closes, not after: the 'close' event comes a task later, when the
  // dialog is already hidden (Escape fires 'cancel' first, the Close button wipes itself).
  const wipe = () => {
    code.textContent = '';
    copied.textContent = '';
    copy.onclick = null;
    const sel = getSelection();
    if (sel) sel.removeAllRanges();
    dlg.removeEventListener('cancel', wipe);
    dlg.removeEventListener('close', wipe);
  };
  dlg.addEventListener('cancel', wipe);
  dlg.addEventListener('close', wipe);
  document.getElementById('reveal-close').onclick = () => { wipe(); dlg.close(); };
  dlg.showModal();
  copy.focus();
}

// ---- view: the report -------------------------------------------------------------------------

// The server's HTML report, shown in the page: its body's nodes are imported (never run; the
// report has no script), its own inline style is dropped (this page's CSP allows none) and
// app.css styles it instead.
async function viewReport(id) {
  document.title = 'Report · containd';
  const signal = controller();
  const back = el('p', { class: 'small' }, el('a', { href: `#/incidents/${id}` }, '← The incident'));
  const box = el('article', { class: 'report', id: 'report', 'aria-label': 'Report' }, loading('the report'));
  const save = el('button', { type: 'button', id: 'report-save' }, 'Save as HTML');
  show(back, el('div', { class: 'actions' }, save), box);
  try {
    const res = await api(`/v1/incidents/${enc(id)}/report?format=html`, { signal, accept: 'text/html', raw: true });
    const html = await res.text();
    // Its <style> never reaches a parser here: even an inert document's style would be refused
    // (and reported) under this page's CSP.
    const doc = new DOMParser().parseFromString(html.replace(/<style[^>]*>[\s\S]*?<\/style>/gi, ''), 'text/html');
    for (const n of doc.querySelectorAll('style, script, link, meta')) n.remove();
    for (const n of doc.querySelectorAll('[style]')) n.removeAttribute('style');
    for (const h of doc.body.querySelectorAll('h1')) { const h2 = el('h1', {}, h.textContent); h.replaceWith(h2); }
    box.replaceChildren(...[...doc.body.childNodes].map((n) => document.importNode(n, true)));
    document.title = `${doc.title || 'Report'} · containd`;
    save.onclick = () => {
      const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
      const a = el('a', { href: url, download: `containd-report-${id}.html` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    };
  } catch (err) {
    if (err.name !== 'AbortError') box.replaceChildren(failure(err));
  }
}

// ---- view: the attention queue ----------------------------------------------------------------

async function viewAttention() {
  document.title = 'Attention · containd';
  const signal = controller();
  const body = el('div', { id: 'queue' }, loading('the attention queue'));
  show(el('h1', {}, 'Attention queue'),
    el('p', { class: 'muted' }, 'Every incident that needs a human, with the action each item needs.'), body);
  const load = async () => {
    try {
      const all = await listAll('', signal);
      const candidates = all.filter((i) => i.status === 'needs_attention' || i.status === 'waiting_approval' ||
        (i.attention && i.attention.length));
      const docs = [];
      for (const c of candidates.slice(0, 100)) docs.push(await api(`/v1/incidents/${enc(c.id)}`, { signal }));
      const rows = [];
      for (const inc of docs) {
        for (const item of attentionItems(inc)) {
          rows.push(el('tr', { 'data-id': inc.id },
            el('td', {}, el('a', { href: `#/incidents/${inc.id}` }, inc.external_ref || inc.title || inc.id)),
            el('td', {}, badge(inc.status)), el('td', {}, item.text),
            el('td', {}, item.action ? (session.operator ? actionButton(item.action, item.label, inc, item.body, load)
              : el('span', { class: 'muted' }, `${item.label} (operator)`)) : el('a', { href: `#/incidents/${inc.id}` }, 'Review'))));
        }
      }
      body.replaceChildren(rows.length ? table('Attention queue', ['Incident', 'Status', 'What', 'Action'], rows, { id: 'attention-queue' })
        : el('p', { class: 'muted', id: 'attention-empty' }, 'Nothing needs a human right now.'));
    } catch (err) {
      if (err.name !== 'AbortError') body.replaceChildren(failure(err));
    }
  };
  await load();
  const timer = setInterval(() => { if (!document.hidden && !body.contains(document.activeElement)) load(); }, LIST_REFRESH_MS);
  teardown.push(() => clearInterval(timer));
}

// ---- view: tenant health ----------------------------------------------------------------------

async function viewHealth() {
  document.title = 'Tenant health · containd';
  const signal = controller();
  const body = el('div', { id: 'health' }, loading('health'));
  show(el('h1', {}, 'Tenant health'), body);
  const load = async () => {
    const probe = async (path) => {
      try {
        const r = await fetch(path, { signal, cache: 'no-store', headers: { Accept: 'application/json' } });
        let doc = null;
        try { doc = await r.json(); } catch (e) { /* not JSON */ }
        return { code: r.status, doc };
      } catch (err) {
        if (err.name === 'AbortError') throw err;
        return { code: 0, doc: { status: 'unreachable' } };
      }
    };
    try {
      const [health, ready, incidents] = await Promise.all([probe('/healthz'), probe('/readyz'), listAll('', signal)]);
      const byTenant = new Map();
      for (const i of incidents) {
        const t = byTenant.get(i.tenant) || { total: 0, open: 0, attention: 0 };
        t.total++;
        if (i.status !== 'contained' && i.status !== 'cancelled') t.open++;
        if (i.status === 'needs_attention' || (i.attention && i.attention.length)) t.attention++;
        byTenant.set(i.tenant, t);
      }
      // Per-tenant readiness, where the daemon reports it (an object or an array under "tenants").
      const readyTenants = new Map();
      const rt = ready.doc && ready.doc.tenants;
      if (Array.isArray(rt)) for (const t of rt) readyTenants.set(t.name || t.tenant, t);
      else if (rt && typeof rt === 'object') for (const [k, v] of Object.entries(rt)) readyTenants.set(k, v);
      for (const k of readyTenants.keys()) if (!byTenant.has(k)) byTenant.set(k, { total: 0, open: 0, attention: 0 });
      const service = el('dl', { class: 'summary', id: 'service' },
        el('div', {}, el('dt', {}, 'Process'), el('dd', {}, badge(health.code === 200 ? 'ok' : 'failed'))),
        el('div', {}, el('dt', {}, 'Readiness'), el('dd', {}, badge(ready.doc && ready.doc.status ? ready.doc.status : String(ready.code)))),
        el('div', {}, el('dt', {}, 'Checked'), el('dd', {}, when(new Date().toISOString()))));
      const rows = [...byTenant.entries()].sort().map(([name, t]) => {
        const r = readyTenants.get(name);
        return el('tr', { 'data-tenant': name }, el('td', {}, name),
          el('td', {}, r === undefined ? el('span', { class: 'muted' }, 'not reported') : tenantReadiness(r)),
          el('td', { class: 'num' }, t.open), el('td', { class: 'num' }, t.attention), el('td', { class: 'num' }, t.total));
      });
      body.replaceChildren(el('h2', {}, 'Service'), service, el('h2', {}, 'Tenants'),
        rows.length ? table('Tenants', ['Tenant', 'Readiness', 'Open incidents', 'Need attention', 'All incidents'], rows, { id: 'tenants' })
          : el('p', { class: 'muted' }, 'No tenant has an incident yet, and the daemon reports no tenant readiness.'));
    } catch (err) {
      if (err.name !== 'AbortError') body.replaceChildren(failure(err));
    }
  };
  await load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, LIST_REFRESH_MS);
  teardown.push(() => clearInterval(timer));
}

// A tenant's entry in /readyz: {healthy, ...} as a badge and the other fields as they come.
function tenantReadiness(r) {
  if (!r || typeof r !== 'object' || typeof r.healthy !== 'boolean') return plain(r);
  const rest = { ...r };
  delete rest.healthy;
  return [badge(r.healthy ? 'healthy' : 'unhealthy'), Object.keys(rest).length ? plain(rest) : null];
}

// ---- start ------------------------------------------------------------------------------------

window.addEventListener('hashchange', route);
document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));
(async () => {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) { renderSignIn(); return; }
  try {
    await startSession(token, await detectRole(token));
  } catch (err) {
    signOut(err.message);
  }
})();
