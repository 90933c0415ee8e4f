// Small helpers shared by the console's pages: building DOM nodes,
// formatting times, and talking to the JSON API.

// h builds an element. attrs: "class", "text", "on<event>" handlers,
// booleans (true sets an empty attribute, false/null/undefined skips it),
// anything else is set as an attribute. Children may be nodes, strings,
// numbers, arrays of those, or null (skipped). Text always goes in as text,
// never as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name === 'value') el.value = value;
    else if (name === 'style') el.style.cssText = value; // CSSOM: fine under a strict CSP
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === '') continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    else el.append(document.createTextNode(String(c)));
  }
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// fmtTime shows an ISO time as local HH:MM:SS.mmm ("" for null).
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// fmtDate shows the local date, for tooltips next to fmtTime.
export function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toString();
}

// fmtOffset shows milliseconds since the first entry: "+1.300 s".
export function fmtOffset(ms) {
  return `+${(Math.max(0, ms) / 1000).toFixed(3)} s`;
}

// fmtDuration shows seconds: "4.2 s", "2:05", "1:02:05".
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '';
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.floor(s);
  const hh = Math.floor(whole / 3600);
  const mm = Math.floor((whole % 3600) / 60);
  const ss = whole % 60;
  return hh > 0 ? `${hh}:${pad(mm)}:${pad(ss)}` : `${mm}:${pad(ss)}`;
}

// fmtLatency shows a latency in milliseconds: "3 ms", "0.4 ms", "1.25 s".
export function fmtLatency(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

// callDuration is a row's duration in seconds: the server's for ended
// calls, answer → now for a live answered call, else null.
export function callDuration(row, now = Date.now()) {
  if (row.durationSeconds !== null && row.durationSeconds !== undefined) return row.durationSeconds;
  if (row.answerTime && !row.endTime && row.state !== 'disconnected') {
    return (now - new Date(row.answerTime).getTime()) / 1000;
  }
  return null;
}

// durationNode shows a row's duration; a live one is ticked by tickDurations.
export function durationNode(row, attrs = {}) {
  const live = row.durationSeconds == null && row.answerTime && !row.endTime && row.state !== 'disconnected';
  return h('span', { ...attrs, class: live ? 'live-duration' : null, 'data-answer': live ? row.answerTime : null },
    fmtDuration(callDuration(row)));
}

// tickDurations refreshes every live duration on the page.
export function tickDurations() {
  const now = Date.now();
  for (const el of document.querySelectorAll('.live-duration[data-answer]')) {
    el.textContent = fmtDuration((now - new Date(el.dataset.answer).getTime()) / 1000);
  }
}

// ApiError carries the server's description of a failed request.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// api calls the JSON API. It returns the parsed body (null for 204) or
// throws an ApiError with the server's description.
export async function api(path, { method = 'GET', body } = {}) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `Cannot reach the server (${err.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const why = data?.description || data?.message || text.trim() || res.statusText;
    throw new ApiError(res.status, `${res.status}: ${why}`);
  }
  return data;
}

// urlPath is the path (and query) of a URL, or the URL itself if it will
// not parse.
export function urlPath(url) {
  try {
    const u = new URL(url, location.href);
    return u.pathname + u.search;
  } catch {
    return String(url ?? '');
  }
}

// phoneNumber is the number at the far end of a call: "to" for outbound,
// "from" for inbound.
export function phoneNumber(row) {
  return row.direction === 'inbound' ? row.from : row.to;
}

// throttled returns a function that runs fn once, ms after the first of a
// burst of calls: live events come in bursts, one refetch is enough. Its
// cancel method drops a run still to come.
export function throttled(fn, ms) {
  let timer = null;
  const run = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
  run.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return run;
}
