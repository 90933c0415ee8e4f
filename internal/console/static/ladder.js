// The ladder diagram: one lane per phone (the call, then its legs), one
// for voicehook and one for the app; one row per history entry, drawn as
// an arrow between lanes or a note on the voicehook lane.
//
// Layout: a CSS grid. Column 1 holds the time offsets; each lane then
// takes two half-columns, so a lane's centre is a grid line and an arrow
// from lane a to lane b simply spans the lines between their centres.

import { h, fmtOffset, fmtTime, fmtLatency, urlPath, phoneNumber } from './util.js';

// Verbs drawn as an arrow to the phone; the others are notes.
const PHONE_VERBS = new Set(['SpeakSentence', 'PlayAudio', 'Gather', 'Transfer', 'SendDtmf']);

// groupKey names a webhook entry: its call and sequence number.
export const groupKey = (e) => `${e.callId}:${e.seq}`;

// verbName is the BXML verb of a verb entry, from its detail or summary.
function verbName(e) {
  if (e.detail && typeof e.detail.verb === 'string') return e.detail.verb;
  if (/^transferring\b/i.test(e.summary)) return 'Transfer';
  return e.summary.split(/\s/, 1)[0];
}

// attemptFailed: no HTTP answer, or an HTTP error.
export function attemptFailed(a) {
  const s = a?.detail?.status ?? 0;
  return s === 0 || s >= 400;
}

// attemptLabel is "200 · 3 ms", or the error when there was no answer.
export function attemptLabel(a) {
  const d = a.detail ?? {};
  const status = d.status ? String(d.status) : (d.error || 'no answer');
  return `${status} · ${fmtLatency(d.latencyMs ?? 0)}`;
}

// groupWebhooks pairs each webhook entry with the attempt entries that
// follow it for the same call, until that call's next webhook.
export function groupWebhooks(entries) {
  const groups = new Map();
  const current = new Map(); // callId → its open group
  const owner = new Map(); // attempt entry → its group
  for (const e of entries) {
    if (e.kind === 'webhook') {
      const g = { key: groupKey(e), webhook: e, attempts: [] };
      groups.set(g.key, g);
      current.set(e.callId, g);
    } else if (e.kind === 'attempt' && current.has(e.callId)) {
      const g = current.get(e.callId);
      g.attempts.push(e);
      owner.set(e, g);
    }
  }
  return { groups, owner };
}

// buildLadder draws the call. opts.onOpen(group) opens a webhook's detail;
// opts.selected is the key of the open one.
export function buildLadder(data, opts) {
  const calls = [data.call, ...(data.legs ?? [])];
  const laneOf = new Map(calls.map((c, i) => [c.callId, i]));
  const VH = calls.length;
  const APP = calls.length + 1;
  const lanes = calls.length + 2;
  const entries = data.entries ?? [];
  const { groups, owner } = groupWebhooks(entries);

  const center = (lane) => 2 * lane + 3; // grid line at the lane's centre
  const laneName = (lane) => (lane === VH ? 'voicehook' : lane === APP ? 'App' : `Phone ${phoneNumber(calls[lane])}`);
  const grid = h('div', { class: 'ladder', 'data-testid': 'ladder', role: 'list', 'aria-label': 'What happened, in time order',
    // Right of the App lane there is only its short header: keep it narrow.
    style: `grid-template-columns: max-content repeat(${2 * lanes - 1}, minmax(0, 1fr)) minmax(0, .4fr)` });

  // Lane headers.
  const head = h('div', { class: 'ladder-row ladder-head', role: 'listitem', 'aria-hidden': 'true' },
    h('div', { class: 'lane-time', style: 'grid-row: 1; grid-column: 1' }, 'time'));
  calls.forEach((c, i) => {
    head.append(h('div', { class: 'lane-head lane-phone', 'data-testid': 'lane', 'data-lane': 'phone', 'data-call-id': c.callId,
      style: `grid-row: 1; grid-column: ${center(i) - 1} / ${center(i) + 1}` },
    h('span', { class: 'lane-kind' }, i === 0 ? 'Phone' : `Phone · leg ${i}`),
    h('span', { class: 'lane-name' }, phoneNumber(c))));
  });
  head.append(
    h('div', { class: 'lane-head lane-engine', 'data-testid': 'lane', 'data-lane': 'voicehook',
      style: `grid-row: 1; grid-column: ${center(VH) - 1} / ${center(VH) + 1}` },
    h('span', { class: 'lane-kind' }, 'engine'), h('span', { class: 'lane-name' }, 'voicehook')),
    h('div', { class: 'lane-head lane-app', 'data-testid': 'lane', 'data-lane': 'app',
      style: `grid-row: 1; grid-column: ${center(APP) - 1} / ${center(APP) + 1}` },
    h('span', { class: 'lane-kind' }, 'your app'), h('span', { class: 'lane-name' }, 'App')));
  grid.append(head);

  // Lifelines down each lane's centre.
  const rowsSpan = Math.max(entries.length, 1);
  const lines = h('div', { class: 'ladder-row', 'aria-hidden': 'true' });
  for (let lane = 0; lane < lanes; lane++) {
    lines.append(h('div', { class: `lifeline ${lane === VH ? 'engine' : lane === APP ? 'app' : 'phone'}`,
      style: `grid-row: 2 / span ${rowsSpan}; grid-column: ${center(lane)} / span 1` }));
  }
  grid.append(lines);

  if (entries.length === 0) {
    grid.append(h('div', { class: 'ladder-row', role: 'listitem' },
      h('p', { class: 'muted ladder-empty', style: `grid-row: 2; grid-column: 2 / -1` }, 'Nothing has happened yet.')));
  }

  const t0 = entries.length ? Date.parse(entries[0].time) : 0;
  entries.forEach((e, i) => {
    const row = i + 2;
    const legLane = laneOf.has(e.callId) ? laneOf.get(e.callId) : 0;
    const time = h('div', { class: 'entry-time', style: `grid-row: ${row}; grid-column: 1`, title: fmtTime(e.time) },
      fmtOffset(Date.parse(e.time) - t0));
    let item;
    const arrow = (from, to, cls, label, extra = {}, tag = 'div') => {
      const ltr = from < to;
      const a = Math.min(center(from), center(to));
      const b = Math.max(center(from), center(to));
      return h(tag, { ...extra, class: `msg ${ltr ? 'ltr' : 'rtl'} ${cls}`, style: `grid-row: ${row}; grid-column: ${a} / ${b}` },
        h('span', { class: 'visually-hidden' }, `${laneName(from)} to ${laneName(to)}: `),
        h('span', { class: 'msg-label' }, label),
        h('span', { class: 'msg-line', 'aria-hidden': 'true' }));
    };
    // A note sits on a lane's lifeline and may widen to the neighbours'.
    const note = (lane, cls, label) => h('div', { class: `note ${cls}`,
      style: `grid-row: ${row}; grid-column: ${lane > 0 ? center(lane - 1) : 2} / ${lane < lanes - 1 ? center(lane + 1) : -1}` },
    h('span', { class: 'visually-hidden' }, `${laneName(lane)}: `), label);

    switch (e.kind) {
      case 'phone': {
        // A real call's SIP messages: "→ INVITE" voicehook sent, "← 180 Ringing" it received.
        const sip = /^([→←]) (.*)$/.exec(e.summary);
        if (sip) {
          item = sip[1] === '→' ? arrow(VH, legLane, 'kind-phone kind-sip', sip[2]) : arrow(legLane, VH, 'kind-phone kind-sip', sip[2]);
        } else {
          item = arrow(legLane, VH, 'kind-phone', e.summary);
        }
        break;
      }
      case 'state': {
        const bad = /^disconnected:/.test(e.summary) && !/^disconnected: hangup\b/.test(e.summary);
        item = note(VH, `kind-state${/^disconnected/.test(e.summary) ? ' end' : ''}${bad ? ' bad' : ''}`, e.summary);
        break;
      }
      case 'verb': {
        const name = verbName(e);
        item = PHONE_VERBS.has(name) ? arrow(VH, legLane, 'kind-verb', e.summary) : note(VH, 'kind-verb', e.summary);
        if (e.detail?.bxml) item.title = e.detail.bxml;
        break;
      }
      case 'webhook': {
        const g = groups.get(groupKey(e));
        const w = e.webhook ?? {};
        const eventType = w.eventType ?? e.detail?.eventType ?? '';
        const retries = g.attempts.length > 1;
        const failed = g.attempts.length > 0 && attemptFailed(g.attempts[g.attempts.length - 1]);
        const label = [
          h('strong', {}, eventType), ` · ${w.method ?? 'POST'} ${urlPath(w.url ?? '')}`,
          retries ? h('span', { class: 'chip' }, `${g.attempts.length} attempts`) : null,
          g.attempts.some((a) => a.detail?.fallback) ? h('span', { class: 'chip' }, 'fallback') : null,
          failed ? h('span', { class: 'chip bad' }, 'failed') : null,
        ];
        item = arrow(VH, APP, `kind-webhook${failed ? ' bad' : ''}`, label, {
          type: 'button', 'data-testid': 'ladder-webhook', 'data-key': g.key, 'data-event-type': eventType,
          'aria-expanded': opts.selected === g.key ? 'true' : 'false', 'aria-controls': 'webhook-panel',
          title: `${w.method ?? 'POST'} ${w.url ?? ''}: show the request and the reply`,
          onclick: () => opts.onOpen(g),
        }, 'button');
        if (opts.selected === g.key) item.classList.add('selected');
        break;
      }
      case 'attempt': {
        const g = owner.get(e);
        const d = e.detail ?? {};
        const n = g ? g.attempts.indexOf(e) + 1 : 1;
        const label = [
          n > 1 ? h('span', { class: 'chip' }, `retry ${n - 1}`) : null,
          d.fallback ? h('span', { class: 'chip' }, 'fallback') : null,
          attemptLabel(e),
          e.bxmlError ? h('span', { class: 'chip bad' }, 'invalid BXML') : null,
        ];
        item = arrow(APP, VH, `kind-attempt${attemptFailed(e) ? ' bad' : ''}${e.bxmlError ? ' bad-bxml' : ''}`, label, {
          'data-testid': 'ladder-attempt', 'data-status': String(d.status ?? 0), title: e.summary,
        });
        if (g) {
          // Mouse shortcut; the keyboard way in is the webhook's button.
          item.classList.add('clickable');
          item.addEventListener('click', () => opts.onOpen(g));
          if (opts.selected === g.key) item.classList.add('selected');
        }
        break;
      }
      default:
        item = note(VH, `kind-${e.kind}`, e.summary);
    }
    if (item.classList.contains('note')) time.classList.add('at-note');
    grid.append(h('div', { class: 'ladder-row', role: 'listitem', 'data-testid': 'ladder-row', 'data-kind': e.kind,
      'data-call-id': e.callId, 'data-seq': e.seq }, time, item));
  });

  return { el: grid, groups };
}
