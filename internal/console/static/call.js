// The call page: the call's facts, controls for its simulated phones, the
// ladder diagram with the webhook detail panel, and its recordings.

import { h, api, fmtTime, fmtDate, fmtDuration, durationNode, phoneNumber, throttled } from './util.js';
import { stateBadge, causeBadge } from './list.js';
import { buildLadder } from './ladder.js';
import { webhookPanel } from './panel.js';

export function callPage(ctx, callId) {
  let data = null; // the last /console/api/calls/{callId} answer
  let groups = new Map(); // webhook groups of the ladder shown
  let ladderSig = '';
  let controlsSig = '';
  let fetchSeq = 0;
  let gone = false;

  const heading = h('h1', { tabindex: '-1' }, 'Call ', h('span', { class: 'call-id', 'data-testid': 'call-id' }, callId));
  const error = h('div', { class: 'error', role: 'alert', 'data-testid': 'call-error', hidden: true });
  const facts = h('div', { class: 'card facts-card', 'data-testid': 'call-facts' }, h('p', { class: 'muted' }, 'Loading…'));
  const controls = h('div', { class: 'controls-area', 'data-testid': 'phone-controls-area' });
  const ladderBox = h('div', { class: 'ladder-box' });
  const panel = webhookPanel(callId, closePanel);
  const ladderCard = h('section', { class: 'card ladder-card', 'aria-labelledby': 'ladder-heading' },
    h('h2', { id: 'ladder-heading' }, 'What happened'),
    h('p', { class: 'legend muted small' },
      'Solid arrows: a request or a sound; dashed: the app’s reply; red: a failure. ',
      'Choose a webhook (voicehook → App) to see the request and the reply.'),
    ladderBox);
  const layout = h('div', { class: 'call-layout' }, ladderCard, panel.el);
  const recordingsBox = h('div');
  const recordings = h('section', { class: 'card', 'data-testid': 'recordings', 'aria-labelledby': 'rec-heading' },
    h('h2', { id: 'rec-heading' }, 'Recordings'), recordingsBox);
  let recordingsSig = null;
  const transcriptionsBox = h('div');
  const transcriptions = h('section', { class: 'card', 'data-testid': 'transcriptions', 'aria-labelledby': 'tx-heading' },
    h('h2', { id: 'tx-heading' }, 'Transcriptions'), transcriptionsBox);
  let transcriptionsSig = null;
  const el = h('section', { class: 'page call-page', 'data-testid': 'call-page', 'data-call-id': callId },
    h('p', { class: 'crumbs' }, h('a', { href: '#/', 'data-testid': 'back-link' }, '← All calls')),
    heading, error, facts, controls, layout, recordings, transcriptions);

  const onKey = (e) => {
    if (e.key === 'Escape' && !panel.el.hidden) {
      e.preventDefault();
      closePanel();
    }
  };
  document.addEventListener('keydown', onKey);
  load();

  async function load() {
    const seq = ++fetchSeq;
    try {
      const d = await api(`/console/api/calls/${encodeURIComponent(callId)}`);
      if (seq !== fetchSeq || gone) return;
      error.hidden = true;
      data = d;
      render();
    } catch (err) {
      if (seq !== fetchSeq || gone) return;
      if (err.status === 404 && !data) {
        facts.replaceChildren(h('p', {}, `There is no call ${callId} here. `, h('a', { href: '#/' }, 'See all calls'), '.'));
        el.dataset.loaded = 'missing';
        return;
      }
      error.textContent = `Could not load the call: ${err.message}`;
      error.hidden = false;
    }
  }

  function render() {
    renderFacts();
    renderControls();
    renderLadder();
    renderRecordings();
    renderTranscriptions();
    el.dataset.loaded = 'true';
    el.dataset.state = data.call.state;
  }

  function renderFacts() {
    const c = data.call;
    const item = (label, value, attrs = {}) => (value === null || value === undefined || value === '' ? [] : [h('dt', {}, label), h('dd', attrs, value)]);
    const time = (iso) => (iso ? h('time', { datetime: iso, title: fmtDate(iso) }, fmtTime(iso)) : null);
    const legs = data.legs ?? [];
    facts.replaceChildren(h('dl', { class: 'facts' },
      item('Direction', c.direction),
      item('From → To', h('span', { class: 'num' }, `${c.from} → ${c.to}`)),
      item('State', stateBadge(c.state, { 'data-testid': 'call-state' })),
      item('Cause', c.cause ? causeBadge(c.cause, { 'data-testid': 'call-cause' }) : null),
      item('Error', c.errorMessage, { class: 'error-text wrap', 'data-testid': 'call-error-message' }),
      item('Started', time(c.startTime)),
      item('Answered', time(c.answerTime)),
      item('Ended', time(c.endTime)),
      item('Duration', c.answerTime ? durationNode(c, { 'data-testid': 'call-duration' }) : null),
      item('Tag', c.tag, { class: 'wrap' }),
      item('Account', c.accountId),
      item('Part of', c.parentCallId ? h('a', { href: `#/calls/${encodeURIComponent(c.parentCallId)}` }, c.parentCallId) : null),
      item('Legs', legs.length ? h('ul', { class: 'plain' }, legs.map((l) => h('li', {},
        h('a', { href: `#/calls/${encodeURIComponent(l.callId)}` }, phoneNumber(l)), ' ', stateBadge(l.state),
        l.cause ? [' ', causeBadge(l.cause)] : null))) : null)));
  }

  // Controls for each phone still up: press digits, say something, hang up.
  function renderControls() {
    const live = [data.call, ...(data.legs ?? [])].filter((c) => c.state !== 'disconnected');
    const sig = live.map((c) => c.callId).join(',');
    if (sig === controlsSig) return;
    controlsSig = sig;
    if (live.length === 0) {
      // Keep focus somewhere sensible when the controls vanish.
      if (controls.contains(document.activeElement)) heading.focus();
      controls.replaceChildren();
      return;
    }
    controls.replaceChildren(h('section', { class: 'card', 'aria-labelledby': 'controls-heading' },
      h('h2', { id: 'controls-heading' }, 'Simulated phone'),
      h('div', { class: 'phones-grid' }, live.map((c) => phoneControls(c, c.callId !== data.call.callId)))));
  }

  function phoneControls(c, isLeg) {
    const id = c.callId;
    const status = h('p', { class: 'small muted', 'aria-live': 'polite', 'data-testid': 'phone-status' });
    const err = h('p', { class: 'error', role: 'alert', 'data-testid': 'phone-error', hidden: true });
    const digits = h('input', { id: `dtmf-${id}`, type: 'text', inputmode: 'tel', autocomplete: 'off', pattern: '[0-9*#A-Da-d]+',
      required: true, placeholder: '12#', 'data-testid': 'dtmf-input', size: '6' });
    const text = h('input', { id: `say-${id}`, type: 'text', autocomplete: 'off', required: true, placeholder: 'Hello',
      'data-testid': 'say-input' });
    const post = async (what, path, body, done) => {
      err.hidden = true;
      status.textContent = `${what}…`;
      try {
        await api(`/console/api/calls/${encodeURIComponent(id)}/${path}`, { method: 'POST', body });
        status.textContent = done;
        return true;
      } catch (e) {
        status.textContent = '';
        err.textContent = `${what} failed: ${e.message}`;
        err.hidden = false;
        return false;
      }
    };
    const dtmfForm = h('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      const v = digits.value.trim();
      if (await post('Pressing', 'dtmf', { digits: v }, `Pressed ${v}.`)) digits.value = '';
    } },
    h('label', { for: digits.id }, 'Digits'), digits, h('button', { type: 'submit', 'data-testid': 'dtmf-submit' }, 'Press'));
    const sayForm = h('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      const v = text.value.trim();
      if (await post('Saying', 'speech', { text: v }, `Said “${v}”.`)) text.value = '';
    } },
    h('label', { for: text.id }, 'Say'), text, h('button', { type: 'submit', 'data-testid': 'say-submit' }, 'Say'));
    const hangup = h('button', { type: 'button', class: 'danger', 'data-testid': 'hangup',
      onclick: () => post('Hanging up', 'hangup', undefined, 'Hung up.') }, 'Hang up');
    return h('fieldset', { class: 'phone-controls', 'data-testid': 'phone-controls', 'data-call-id': id },
      h('legend', {}, `${isLeg ? 'Leg phone' : 'Phone'} ${phoneNumber(c)}`),
      dtmfForm, sayForm, h('div', { class: 'inline' }, hangup), status, err);
  }

  function renderLadder() {
    const sig = JSON.stringify([data.call.callId, (data.legs ?? []).map((l) => l.callId), data.entries]);
    const t0 = data.entries?.length ? Date.parse(data.entries[0].time) : 0;
    if (sig !== ladderSig) {
      ladderSig = sig;
      const focusedKey = document.activeElement?.closest?.('[data-key]')?.dataset.key;
      const ladder = buildLadder(data, { selected: panel.key, onOpen: openPanel });
      groups = ladder.groups;
      ladderBox.replaceChildren(ladder.el);
      if (focusedKey) ladderBox.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
    }
    if (panel.key) {
      const g = groups.get(panel.key);
      if (g) panel.show(g, t0);
    }
  }

  function openPanel(group) {
    const t0 = Date.parse(data.entries[0].time);
    panel.open(group, t0);
    layout.classList.add('with-panel');
    for (const b of ladderBox.querySelectorAll('[data-key]')) {
      const on = b.dataset.key === group.key;
      b.classList.toggle('selected', on);
      if (b.tagName === 'BUTTON') b.setAttribute('aria-expanded', on ? 'true' : 'false');
    }
    panel.title.focus({ preventScroll: true });
    panel.el.scrollIntoView({ block: 'nearest' });
  }

  function closePanel() {
    const key = panel.key;
    panel.close();
    layout.classList.remove('with-panel');
    for (const b of ladderBox.querySelectorAll('[data-key]')) {
      b.classList.remove('selected');
      if (b.tagName === 'BUTTON') b.setAttribute('aria-expanded', 'false');
    }
    if (key) ladderBox.querySelector(`button[data-key="${CSS.escape(key)}"]`)?.focus();
  }

  function renderRecordings() {
    const list = data.recordings ?? [];
    // Redraw only when the list changed, so a playing player keeps playing.
    const sig = JSON.stringify(list);
    if (sig === recordingsSig) return;
    recordingsSig = sig;
    const body = list.length === 0 ? h('p', { class: 'muted' }, 'No recordings.') : h('ul', { class: 'recordings' }, list.map((r) => {
      const t = r.transcription;
      const texts = (t?.texts ?? []).filter((x) => typeof x === 'string' && x.trim() !== '');
      let noText = 'no transcription';
      if (t && t.status && t.status !== 'available') noText = `transcription ${t.status}`;
      else if (t) noText = 'transcription: nothing was said';
      return h('li', { class: 'recording', 'data-testid': 'recording', 'data-recording-id': r.recordingId },
        h('div', { class: 'rec-media' },
          r.mediaUrl ? h('audio', { controls: true, preload: 'none', src: r.mediaUrl, 'aria-label': `Recording ${r.recordingId}` })
            : h('p', { class: 'muted' }, 'The media file was deleted.'),
          h('p', { class: 'small' },
            h('span', { class: 'num' }, fmtDuration(r.durationSeconds)), ' · ',
            `${r.channels} channel${r.channels === 1 ? '' : 's'}`, ' · ', r.status,
            h('br'), h('span', { class: 'muted' }, r.recordingId),
            r.callId !== data.call.callId ? h('span', { class: 'muted' }, ` (leg ${r.callId})`) : null)),
        h('div', { class: 'rec-text', 'data-testid': 'transcription' },
          texts.length ? texts.map((x) => h('blockquote', {}, x)) : h('p', { class: 'muted' }, noText)));
    }));
    recordingsBox.replaceChildren(body);
  }

  // The real-time transcriptions (<StartTranscription>) kept once they
  // ended: each utterance with its track and time.
  function renderTranscriptions() {
    const list = data.transcriptions ?? [];
    const sig = JSON.stringify(list);
    if (sig === transcriptionsSig) return;
    transcriptionsSig = sig;
    const body = list.length === 0 ? h('p', { class: 'muted' }, 'No transcriptions.') : h('ul', { class: 'transcriptions' }, list.map((t) =>
      h('li', { class: 'transcription', 'data-testid': 'live-transcription', 'data-transcription-id': t.transcriptionId },
        h('p', { class: 'small' }, h('strong', {}, t.name), ' · ', (t.tracks ?? []).join(' and '),
          h('br'), h('span', { class: 'muted' }, t.transcriptionId),
          t.callId !== data.call.callId ? h('span', { class: 'muted' }, ` (leg ${t.callId})`) : null),
        (t.utterances ?? []).length === 0 ? h('p', { class: 'muted' }, 'Nothing was said.')
          : h('ol', { class: 'utterances' }, t.utterances.map((u) =>
            h('li', { 'data-track': u.track },
              h('span', { class: 'num muted' }, `${fmtDuration(u.startSeconds)} ${u.track} `),
              u.error ? h('span', { class: 'error' }, u.error) : u.text))))));
    transcriptionsBox.replaceChildren(body);
  }

  // A refetch at most every 200 ms while events come in.
  const refreshSoon = throttled(() => load(), 200);

  function onCall(row) {
    const mine = row.callId === callId || row.parentCallId === callId ||
      (data && (data.legs ?? []).some((l) => l.callId === row.callId));
    if (mine) refreshSoon();
  }

  return {
    el,
    heading,
    onCall,
    onReconnect: load,
    destroy() {
      gone = true;
      refreshSoon.cancel();
      document.removeEventListener('keydown', onKey);
    },
  };
}

