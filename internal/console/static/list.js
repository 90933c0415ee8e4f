// The calls list page: a "Place a call" form, filters, a live table of
// calls, and keyset paging.

import { h, api, fmtTime, fmtDate, durationNode, throttled } from './util.js';

export const STATES = ['queued', 'initiated', 'answered', 'disconnected'];
export const CAUSES = ['hangup', 'busy', 'timeout', 'cancel', 'rejected', 'callback-error', 'invalid-bxml',
  'application-error', 'account-limit', 'node-capacity-exceeded', 'error', 'unknown'];
const PAGE_SIZE = 50;

// What the page remembers while the user looks at a call and comes back.
const saved = {
  filters: { number: '', state: '', cause: '' },
  before: null, // cursor of the page shown; null is the first page
  stack: [], // cursors of the newer pages, for "Newer"
  place: null, // the form's values, once edited
  placed: null, // the last call placed from the form
};

// A cause that means something went wrong, shown in red.
export function isBadCause(cause) {
  return cause !== '' && cause !== 'hangup' && cause !== undefined && cause !== null;
}

export function stateBadge(state, attrs = {}) {
  return h('span', { ...attrs, class: `badge state-${state}` }, state);
}

export function causeBadge(cause, attrs = {}) {
  if (!cause) return h('span', { ...attrs, class: 'muted' }, '');
  return h('span', { ...attrs, class: `badge ${isBadCause(cause) ? 'bad' : 'cause'}` }, cause);
}

// listPage builds the page. ctx.info is a promise of /console/api/info.
export function listPage(ctx) {
  let rows = []; // rows shown, newest first
  let next = null; // cursor of the older page
  let fetchSeq = 0; // ignores answers to superseded requests
  let rendered = false; // rows were shown once: changes may flash
  const trs = new Map(); // callId → <tr>

  // Place a call.
  const placeTo = h('input', { id: 'place-to', name: 'to', type: 'text', inputmode: 'tel', autocomplete: 'off',
    required: true, list: 'phones', 'data-testid': 'place-to', value: '+15550000200' });
  const placeFrom = h('input', { id: 'place-from', name: 'from', type: 'text', inputmode: 'tel', autocomplete: 'off',
    required: true, 'data-testid': 'place-from', value: '+15550001000' });
  const placeAnswer = h('input', { id: 'place-answer', name: 'answerUrl', type: 'url', required: true,
    'data-testid': 'place-answer-url', placeholder: 'http://…/answer' });
  const placeDisconnect = h('input', { id: 'place-disconnect', name: 'disconnectUrl', type: 'url',
    'data-testid': 'place-disconnect-url', placeholder: 'http://…/disconnect' });
  const phones = h('datalist', { id: 'phones' });
  const phoneList = h('ul', { class: 'phone-list' });
  const placeButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'place-submit' }, 'Place call');
  const placeResult = h('div', { class: 'result', 'data-testid': 'place-result', 'aria-live': 'polite' });
  const placeError = h('div', { class: 'error', role: 'alert', 'data-testid': 'place-error', hidden: true });
  const field = (label, input, hint) => h('div', { class: 'field' },
    h('label', { for: input.id }, label), input, hint ? h('small', { class: 'hint' }, hint) : null);
  const placeForm = h('form', { class: 'place-form', 'data-testid': 'place-form', onsubmit: place },
    h('div', { class: 'fields' },
      field('To', placeTo, 'a simulated phone: pick one below'),
      field('From', placeFrom),
      field('Answer URL', placeAnswer, 'your app gets the answer webhook here'),
      field('Disconnect URL', placeDisconnect)),
    h('div', { class: 'actions' }, placeButton, placeResult),
    placeError,
    h('details', { class: 'phones' }, h('summary', {}, 'Simulated phones'), phoneList),
    phones);
  for (const input of [placeTo, placeFrom, placeAnswer, placeDisconnect]) {
    input.addEventListener('input', rememberPlace);
  }

  // Filters.
  const fNumber = h('input', { id: 'f-number', type: 'search', inputmode: 'tel', placeholder: '+1555…',
    'data-testid': 'filter-number', value: saved.filters.number, autocomplete: 'off' });
  const option = (v, label = v) => h('option', { value: v }, label);
  const fState = h('select', { id: 'f-state', 'data-testid': 'filter-state' }, option('', 'any'), STATES.map((s) => option(s)));
  const fCause = h('select', { id: 'f-cause', 'data-testid': 'filter-cause' }, option('', 'any'), CAUSES.map((c) => option(c)));
  fState.value = saved.filters.state;
  fCause.value = saved.filters.cause;
  let numberTimer = null;
  fNumber.addEventListener('input', () => {
    clearTimeout(numberTimer);
    numberTimer = setTimeout(applyFilters, 400);
  });
  fState.addEventListener('change', applyFilters);
  fCause.addEventListener('change', applyFilters);
  const clearButton = h('button', { type: 'button', 'data-testid': 'filter-clear', onclick: clearFilters }, 'Clear');
  const filterForm = h('form', { class: 'filters', 'data-testid': 'filters', role: 'search',
    onsubmit: (e) => { e.preventDefault(); applyFilters(); } },
  field('Number', fNumber), field('State', fState), field('Cause', fCause),
  h('div', { class: 'filter-buttons' }, h('button', { type: 'submit' }, 'Filter'), clearButton));

  // The table.
  const tbody = h('tbody', { 'data-testid': 'calls-body' });
  const table = h('table', { class: 'calls', 'data-testid': 'calls-table' },
    h('caption', { class: 'visually-hidden' }, 'Calls, newest first'),
    h('thead', {}, h('tr', {}, ['Direction', 'From', 'To', 'State', 'Cause', 'Duration', 'Tag', 'Start time']
      .map((t) => h('th', { scope: 'col' }, t)))),
    tbody);
  const status = h('p', { class: 'status', 'data-testid': 'calls-status', 'aria-live': 'polite' });
  const listError = h('div', { class: 'error', role: 'alert', 'data-testid': 'calls-error', hidden: true });
  const newer = h('button', { type: 'button', 'data-testid': 'page-newer', onclick: goNewer }, '← Newer');
  const older = h('button', { type: 'button', 'data-testid': 'page-older', onclick: goOlder }, 'Older →');
  const pageLabel = h('span', { class: 'muted' });

  const heading = h('h1', { tabindex: '-1' }, 'Calls');
  const el = h('section', { class: 'page list-page', 'data-testid': 'calls-list' },
    heading,
    h('section', { class: 'card', 'aria-labelledby': 'place-heading' },
      h('h2', { id: 'place-heading' }, 'Place a call'), placeForm),
    h('section', { class: 'card', 'aria-labelledby': 'calls-heading' },
      h('div', { class: 'list-head' }, h('h2', { id: 'calls-heading' }, 'Recent calls'), status),
      filterForm, listError,
      h('div', { class: 'table-wrap' }, table),
      h('nav', { class: 'pager', 'aria-label': 'Pages' }, newer, pageLabel, older)));

  restorePlace();
  ctx.info.then(fillFromInfo, (err) => {
    placeError.textContent = `Could not load the server's settings: ${err.message}`;
    placeError.hidden = false;
  });
  load();

  // rememberPlace keeps the form's values for when the user comes back.
  function rememberPlace() {
    saved.place = { to: placeTo.value, from: placeFrom.value, answerUrl: placeAnswer.value, disconnectUrl: placeDisconnect.value };
  }

  function restorePlace() {
    if (saved.place) {
      placeTo.value = saved.place.to;
      placeFrom.value = saved.place.from;
      placeAnswer.value = saved.place.answerUrl;
      placeDisconnect.value = saved.place.disconnectUrl;
    }
    if (saved.placed) showPlaced(saved.placed);
  }

  function fillFromInfo(info) {
    if (!info) return;
    if (!saved.place) {
      placeAnswer.value = info.demoAnswerUrl ?? '';
      placeDisconnect.value = info.demoDisconnectUrl ?? '';
    }
    phones.replaceChildren();
    phoneList.replaceChildren();
    for (const [number, note] of info.phones ?? []) {
      phones.append(h('option', { value: number }, note));
      phoneList.append(h('li', {},
        h('button', { type: 'button', class: 'link-button', 'aria-label': `Call ${number}: ${note}`,
          onclick: () => { placeTo.value = number; rememberPlace(); placeTo.focus(); } }, number),
        ' ', h('span', { class: 'muted' }, note)));
    }
    placeForm.dataset.ready = 'true';
  }

  async function place(e) {
    e.preventDefault();
    placeError.hidden = true;
    placeButton.disabled = true;
    placeResult.replaceChildren('Placing…');
    const body = { to: placeTo.value.trim(), from: placeFrom.value.trim(), answerUrl: placeAnswer.value.trim() };
    if (placeDisconnect.value.trim() !== '') body.disconnectUrl = placeDisconnect.value.trim();
    try {
      const call = await api('/console/api/calls', { method: 'POST', body });
      saved.placed = call.callId;
      showPlaced(call.callId);
    } catch (err) {
      placeResult.replaceChildren();
      placeError.textContent = err.message;
      placeError.hidden = false;
    } finally {
      placeButton.disabled = false;
    }
  }

  function showPlaced(callId) {
    placeResult.replaceChildren('Placed ',
      h('a', { href: `#/calls/${encodeURIComponent(callId)}`, 'data-testid': 'placed-link', 'data-call-id': callId }, callId));
  }

  function applyFilters() {
    clearTimeout(numberTimer);
    const f = { number: fNumber.value.trim(), state: fState.value, cause: fCause.value };
    if (f.number === saved.filters.number && f.state === saved.filters.state && f.cause === saved.filters.cause) return;
    saved.filters = f;
    saved.before = null;
    saved.stack = [];
    load();
  }

  function clearFilters() {
    fNumber.value = '';
    fState.value = '';
    fCause.value = '';
    applyFilters();
  }

  function goOlder() {
    if (!next) return;
    saved.stack.push(saved.before);
    saved.before = next;
    load(true);
  }

  function goNewer() {
    if (saved.stack.length === 0) return;
    saved.before = saved.stack.pop();
    load(true);
  }

  // load fetches the page shown. top: scroll the table into view after;
  // live: a refresh for live events, which flashes the rows that changed.
  async function load(top = false, live = false) {
    const seq = ++fetchSeq;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(saved.filters)) if (v) q.set(k, v);
    if (saved.before) q.set('before', saved.before);
    q.set('limit', String(PAGE_SIZE));
    try {
      const data = await api(`/console/api/calls?${q}`);
      if (seq !== fetchSeq) return;
      listError.hidden = true;
      show(data.calls ?? [], data.next ?? null, live);
      if (top) table.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      if (seq !== fetchSeq) return;
      listError.textContent = `Could not load calls: ${err.message}`;
      listError.hidden = false;
      status.textContent = '';
    }
  }

  // show replaces the rows, keeping focus on the row that had it.
  function show(list, cursor, live) {
    const focused = document.activeElement?.closest?.('tr[data-call-id]')?.dataset.callId;
    const before = new Map(rows.map((r) => [r.callId, JSON.stringify(r)]));
    rows = list;
    next = cursor;
    trs.clear();
    tbody.replaceChildren();
    for (const r of rows) {
      const old = before.get(r.callId);
      const tr = rowNode(r, live && rendered && old !== JSON.stringify(r));
      trs.set(r.callId, tr);
      tbody.append(tr);
    }
    if (rows.length === 0) {
      const any = saved.filters.number || saved.filters.state || saved.filters.cause;
      tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '8' },
        any ? 'No calls match these filters.' : 'No calls yet. Place one above: the call appears here as it happens.')));
    }
    if (focused && trs.has(focused)) trs.get(focused).querySelector('a')?.focus();
    rendered = true;
    el.dataset.loaded = 'true';
    const pageNo = saved.stack.length + 1;
    status.textContent = `${rows.length} call${rows.length === 1 ? '' : 's'}${pageNo > 1 ? ` · page ${pageNo}` : ''}`;
    pageLabel.textContent = `page ${pageNo}`;
    newer.disabled = saved.stack.length === 0;
    older.disabled = !next;
  }

  function rowNode(r, flash) {
    const label = `${r.direction} call from ${r.from} to ${r.to}, ${r.state}`;
    const leg = r.parentCallId ? h('span', { class: 'leg-mark', title: `leg of ${r.parentCallId}` }, ' (leg)') : null;
    const tr = h('tr', { 'data-testid': 'call-row', 'data-call-id': r.callId, 'data-state': r.state, 'data-cause': r.cause ?? '',
      class: flash ? 'flash' : null },
    h('td', { 'data-label': 'Direction' },
      h('a', { href: `#/calls/${encodeURIComponent(r.callId)}`, 'data-testid': 'call-link', 'aria-label': label, title: r.callId },
        r.direction === 'inbound' ? '↙ inbound' : '↗ outbound'), leg),
    h('td', { 'data-label': 'From', class: 'num' }, r.from),
    h('td', { 'data-label': 'To', class: 'num' }, r.to),
    h('td', { 'data-label': 'State' }, stateBadge(r.state, { 'data-testid': 'cell-state' })),
    h('td', { 'data-label': 'Cause' }, causeBadge(r.cause, { 'data-testid': 'cell-cause', title: r.errorMessage || null })),
    h('td', { 'data-label': 'Duration', class: 'num' }, durationNode(r)),
    h('td', { 'data-label': 'Tag', class: 'tag' }, r.tag ?? ''),
    h('td', { 'data-label': 'Start time', class: 'num', title: fmtDate(r.startTime) || null }, fmtTime(r.startTime) || h('span', { class: 'muted' }, '—')));
    // A click anywhere on the row opens the call, as the link does.
    tr.addEventListener('click', (e) => {
      if (e.target.closest('a, button') || getSelection()?.toString()) return;
      location.hash = `#/calls/${encodeURIComponent(r.callId)}`;
    });
    return tr;
  }

  // A refetch of the page shown, at most every 200 ms.
  const refreshSoon = throttled(() => load(false, true), 200);

  // onCall takes a live row from the stream.
  function onCall(row) {
    const i = rows.findIndex((r) => r.callId === row.callId);
    if (i >= 0) {
      rows[i] = row;
      const tr = rowNode(row, true);
      const hadFocus = trs.get(row.callId)?.contains(document.activeElement);
      trs.get(row.callId)?.replaceWith(tr);
      trs.set(row.callId, tr);
      if (hadFocus) tr.querySelector('a')?.focus();
      const f = saved.filters;
      if ((f.state && row.state !== f.state) || (f.cause && row.cause !== f.cause)) refreshSoon();
      return;
    }
    // A call not shown: on the first page it may be new, so ask the server
    // (it filters and orders). Older pages keep still.
    if (saved.before === null) refreshSoon();
  }

  return {
    el,
    heading,
    onCall,
    onReconnect: () => load(false, true),
    destroy: () => {
      refreshSoon.cancel();
      clearTimeout(numberTimer);
      fetchSeq++;
    },
  };
}

