// The voicehook console: hash routing between the calls list (#/) and a
// call's page (#/calls/{callId}), and one live event stream shared by both.

import { h, api, tickDurations } from './util.js';
import { listPage } from './list.js';
import { callPage } from './call.js';

const main = document.getElementById('main');
const liveBadge = document.getElementById('live');
const versionEl = document.getElementById('version');

// Server facts, fetched once: version, demo URLs, simulated phones.
const info = api('/console/api/info');
info.then((i) => {
  if (i?.version) versionEl.textContent = i.version;
}, () => {});

let page = null; // the page shown: {el, heading, onCall, onReconnect, destroy}
let firstRoute = true;

function route() {
  const hash = location.hash || '#/';
  const m = /^#\/calls\/([^/?#]+)$/.exec(hash);
  page?.destroy();
  if (hash === '#/' || hash === '#' || hash === '') {
    page = listPage({ info });
  } else if (m) {
    let id;
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      id = m[1];
    }
    page = callPage({ info }, id);
  } else {
    const heading = h('h1', { tabindex: '-1' }, 'Not found');
    page = {
      el: h('section', { class: 'page' }, heading, h('p', {}, 'There is no such page. ', h('a', { href: '#/' }, 'See all calls'), '.')),
      heading, onCall() {}, onReconnect() {}, destroy() {},
    };
  }
  main.replaceChildren(page.el);
  // Move focus to the new page's heading, as a page load would, except on
  // the first load.
  if (!firstRoute) {
    page.heading?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  firstRoute = false;
}

// The live stream. EventSource reconnects by itself after an error. Each
// time it (re)connects the page refetches what it shows: events may have
// been missed meanwhile, or before the first connection.
let source = null;
let retryTimer = null;

function setLive(state, text) {
  liveBadge.dataset.state = state;
  liveBadge.textContent = text;
}

function connect() {
  source = new EventSource('/console/api/stream');
  source.addEventListener('open', () => {
    setLive('on', 'live');
    page?.onReconnect();
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (say, a non-stream answer): try again later.
      setLive('off', 'offline: retrying');
      source.close();
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, 3000);
    } else {
      setLive('off', 'reconnecting…');
    }
  });
  source.addEventListener('call', (e) => {
    let row;
    try {
      row = JSON.parse(e.data);
    } catch {
      return;
    }
    if (row && typeof row.callId === 'string') page?.onCall(row);
  });
}

window.addEventListener('hashchange', route);
route();
connect();
setInterval(tickDurations, 1000);
