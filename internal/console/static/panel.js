// The webhook detail panel: what voicehook sent, every delivery attempt,
// what the app answered, and a Replay control that sends it again.

import { h, api, fmtTime, fmtLatency } from './util.js';
import { jsonNode, bxmlNode, rawLinesNode } from './pretty.js';
import { attemptFailed } from './ladder.js';

// replyNode shows a reply: pretty BXML, or, when it is not valid BXML, the
// reply as sent with the bad line marked; a failure's body (status not
// 2xx) as the app sent it.
function replyNode(reply, bxmlError, testid, status) {
  const box = h('div', { class: 'reply', 'data-testid': testid });
  if (reply === undefined || reply === null) {
    box.append(h('p', { class: 'muted' }, 'No reply body.'));
    return box;
  }
  if (status && (status < 200 || status > 299)) {
    box.append(h('p', { class: 'error' }, `The app answered ${status}, with:`),
      rawLinesNode(reply, 0, '', { 'data-testid': 'reply-raw' }));
    return box;
  }
  if (bxmlError) {
    const where = bxmlError.line ? ` (line ${bxmlError.line}${bxmlError.column ? `, column ${bxmlError.column}` : ''})` : '';
    box.append(
      h('p', { class: 'error', 'data-testid': 'bxml-error' }, h('strong', {}, 'Invalid BXML: '), `${bxmlError.message ?? ''}${where}`),
      h('p', { class: 'muted small' }, 'The reply as the app sent it:'),
      rawLinesNode(reply, bxmlError.line ?? 0, bxmlError.message ?? '', { 'data-testid': 'reply-raw' }));
    return box;
  }
  if (reply.trim() === '') {
    box.append(h('p', { class: 'muted' }, 'Empty reply: the call goes on with no new BXML.'));
    return box;
  }
  box.append(bxmlNode(reply, { 'data-testid': 'reply-bxml' }),
    h('details', { class: 'raw' }, h('summary', {}, 'As sent'), rawLinesNode(reply, 0, '', { 'data-testid': 'reply-raw' })));
  return box;
}

function statusChip(status, error) {
  const bad = !status || status >= 400;
  return h('span', { class: `badge ${bad ? 'bad' : 'ok'}` }, status ? String(status) : (error ? 'no answer' : '0'));
}

// webhookPanel makes the panel. pageCallId is the call the page shows
// (replays go through it); onClose runs when the user closes it.
export function webhookPanel(pageCallId, onClose) {
  const title = h('h2', { id: 'panel-title', tabindex: '-1' }, 'Webhook');
  const closeButton = h('button', { type: 'button', class: 'close', 'data-testid': 'panel-close',
    'aria-label': 'Close the webhook detail (Escape)', onclick: () => onClose() }, '✕');
  const body = h('div', { class: 'panel-body' });
  const replay = h('div', { class: 'panel-replay' });
  const el = h('aside', { id: 'webhook-panel', class: 'panel card', 'data-testid': 'webhook-panel',
    'aria-labelledby': 'panel-title', hidden: true },
  h('div', { class: 'panel-head' }, title, closeButton), body, replay);

  let key = null; // the group shown
  let sig = ''; // what the body was drawn from

  // show draws a group; the replay part is kept when it is the same group.
  function show(group, t0) {
    const s = JSON.stringify([group.webhook, group.attempts]);
    const same = key === group.key;
    if (same && s === sig) return;
    sig = s;
    const w = group.webhook.webhook ?? {};
    const eventType = w.eventType ?? group.webhook.detail?.eventType ?? 'webhook';
    title.textContent = `${eventType} webhook`;
    el.dataset.eventType = eventType;
    el.dataset.key = group.key;

    const attempts = group.attempts;
    const rows = attempts.map((a, i) => {
      const d = a.detail ?? {};
      return h('tr', { 'data-testid': 'attempt-row', 'data-status': String(d.status ?? 0), class: attemptFailed(a) ? 'bad' : null },
        h('td', { 'data-label': '#' }, String(i + 1)),
        h('td', { 'data-label': 'Status' }, statusChip(d.status, d.error)),
        h('td', { 'data-label': 'Latency' }, fmtLatency(d.latencyMs ?? 0)),
        h('td', { 'data-label': 'Error', class: 'wrap' }, d.error || ''),
        h('td', { 'data-label': 'Target', class: 'wrap' }, d.fallback ? h('span', { class: 'chip' }, 'fallback') : 'primary',
          d.url && d.url !== w.url ? h('div', { class: 'small muted' }, `${d.method ?? ''} ${d.url}`) : null));
    });
    const last = [...attempts].reverse().find((a) => a.detail && 'reply' in a.detail);
    const sentAt = Date.parse(group.webhook.time);

    body.replaceChildren(
      h('dl', { class: 'facts compact' },
        h('dt', {}, 'Method'), h('dd', { 'data-testid': 'webhook-method' }, w.method ?? 'POST'),
        h('dt', {}, 'URL'), h('dd', { class: 'wrap', 'data-testid': 'webhook-url' }, w.url ?? ''),
        h('dt', {}, 'Call'), h('dd', { class: 'wrap' }, group.webhook.callId),
        h('dt', {}, 'Sent'), h('dd', {}, `${fmtTime(group.webhook.time)} (+${((sentAt - t0) / 1000).toFixed(3)} s)`)),
      h('h3', {}, `Attempts (${attempts.length})`),
      attempts.length === 0
        ? h('p', { class: 'muted' }, 'No attempt recorded yet.')
        : h('table', { class: 'attempts', 'data-testid': 'attempts' },
          h('thead', {}, h('tr', {}, ['#', 'Status', 'Latency', 'Error', 'Target'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, rows)),
      h('h3', {}, 'Request body'),
      group.webhook.detail ? jsonNode(group.webhook.detail, { 'data-testid': 'webhook-request' })
        : h('p', { class: 'muted', 'data-testid': 'webhook-request' }, 'No body recorded.'),
      h('h3', {}, 'App’s reply'),
      last ? replyNode(last.detail.reply, last.bxmlError, 'webhook-reply', last.detail.status)
        : h('p', { class: 'muted', 'data-testid': 'webhook-reply' }, attempts.length ? 'No reply body recorded.' : 'Waiting for the app…'));

    if (!same) {
      key = group.key;
      replay.replaceChildren(...replayForm(group, w.url ?? ''));
    }
  }

  // replayForm sends the same request again, to the URL given.
  function replayForm(group, url) {
    const input = h('input', { id: 'replay-url', type: 'url', required: true, value: url, 'data-testid': 'replay-url' });
    const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'replay-submit' }, 'Replay');
    const result = h('div', { class: 'replay-result', 'data-testid': 'replay-result', 'aria-live': 'polite' });
    const form = h('form', { class: 'replay-form', 'data-testid': 'replay-form', onsubmit: send },
      h('label', { for: 'replay-url' }, 'URL'),
      h('div', { class: 'inline' }, input, button));

    async function send(e) {
      e.preventDefault();
      button.disabled = true;
      delete result.dataset.status;
      result.replaceChildren(h('p', { class: 'muted' }, 'Sending…'));
      try {
        const r = await api(`/console/api/calls/${encodeURIComponent(pageCallId)}/replay`, {
          method: 'POST', body: { callId: group.webhook.callId, seq: group.webhook.seq, url: input.value.trim() },
        });
        result.dataset.status = String(r.status ?? 0);
        result.replaceChildren(
          h('p', {}, statusChip(r.status, r.error), ' ', `${r.method ?? 'POST'} ${r.url ?? ''} · ${fmtLatency(r.latencyMs ?? 0)}`),
          ...(r.error ? [h('p', { class: 'error', 'data-testid': 'replay-error' }, r.error)] : []),
          replyNode(r.error && !r.reply ? null : r.reply, r.bxmlError, 'replay-reply', r.status));
      } catch (err) {
        result.dataset.status = 'error';
        result.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'replay-error' }, err.message));
      } finally {
        button.disabled = false;
      }
      result.scrollIntoView({ block: 'nearest' });
    }

    return [h('h3', {}, 'Replay'),
      h('p', { class: 'muted small' }, 'Send the same request body again, to this URL or another, and see what the app answers.'),
      form, result];
  }

  return {
    el,
    title,
    get key() { return key; },
    show,
    open(group, t0) {
      show(group, t0);
      el.hidden = false;
    },
    close() {
      el.hidden = true;
      key = null;
      sig = '';
      body.replaceChildren();
      replay.replaceChildren();
    },
  };
}
