// Pretty-printing for the detail panel: JSON and BXML, indented and
// coloured. Everything is built as DOM text nodes, so nothing the app sent
// is ever parsed as HTML.

import { h } from './util.js';

// jsonNode shows a value as indented JSON with coloured tokens. The
// element's textContent is exactly JSON.stringify(value, null, 2).
export function jsonNode(value, attrs = {}) {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  const pre = h('pre', { ...attrs, class: `code json ${attrs.class ?? ''}`.trim() });
  const token = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  let last = 0;
  for (const m of text.matchAll(token)) {
    if (m.index > last) pre.append(text.slice(last, m.index));
    if (m[1] && m[2]) pre.append(h('span', { class: 'tok-key' }, m[1]), m[2]);
    else if (m[1]) pre.append(h('span', { class: 'tok-str' }, m[1]));
    else if (m[3]) pre.append(h('span', { class: 'tok-lit' }, m[0]));
    else pre.append(h('span', { class: 'tok-num' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) pre.append(text.slice(last));
  return pre;
}

// tokenize splits XML into tokens: {type: "decl"|"comment"|"cdata"|
// "open"|"close"|"text", raw, name?, attrs?, selfClosing?}. It throws on
// markup it cannot read.
export function tokenize(xml) {
  const tokens = [];
  let i = 0;
  const need = (end, from) => {
    const at = xml.indexOf(end, from);
    if (at < 0) throw new Error(`unterminated markup at offset ${from}`);
    return at + end.length;
  };
  while (i < xml.length) {
    if (xml[i] !== '<') {
      const next = xml.indexOf('<', i);
      const end = next < 0 ? xml.length : next;
      tokens.push({ type: 'text', raw: xml.slice(i, end) });
      i = end;
      continue;
    }
    let end;
    if (xml.startsWith('<!--', i)) {
      end = need('-->', i + 4);
      tokens.push({ type: 'comment', raw: xml.slice(i, end) });
    } else if (xml.startsWith('<![CDATA[', i)) {
      end = need(']]>', i + 9);
      tokens.push({ type: 'cdata', raw: xml.slice(i, end) });
    } else if (xml.startsWith('<?', i) || xml.startsWith('<!', i)) {
      end = need('>', i + 2);
      tokens.push({ type: 'decl', raw: xml.slice(i, end) });
    } else if (xml.startsWith('</', i)) {
      end = need('>', i + 2);
      const name = xml.slice(i + 2, end - 1).trim();
      if (!/^[\w:.-]+$/.test(name)) throw new Error(`bad end tag at offset ${i}`);
      tokens.push({ type: 'close', raw: xml.slice(i, end), name });
    } else {
      const tag = readStartTag(xml, i);
      tokens.push(tag);
      end = i + tag.raw.length;
    }
    i = end;
  }
  return tokens;
}

// readStartTag reads "<Name a='1' b="2"/>" starting at i.
function readStartTag(xml, i) {
  const nameMatch = /^<([\w:.-]+)/.exec(xml.slice(i, i + 200));
  if (!nameMatch) throw new Error(`bad tag at offset ${i}`);
  let j = i + nameMatch[0].length;
  const attrs = [];
  for (;;) {
    while (j < xml.length && /\s/.test(xml[j])) j++;
    if (j >= xml.length) throw new Error(`unterminated tag at offset ${i}`);
    if (xml.startsWith('/>', j)) return { type: 'open', raw: xml.slice(i, j + 2), name: nameMatch[1], attrs, selfClosing: true };
    if (xml[j] === '>') return { type: 'open', raw: xml.slice(i, j + 1), name: nameMatch[1], attrs, selfClosing: false };
    const a = /^([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')/.exec(xml.slice(j));
    if (!a) throw new Error(`bad attribute at offset ${j}`);
    attrs.push({ name: a[1], value: a[2] });
    j += a[0].length;
  }
}

// parseTree turns tokens into a tree of {tag, children} nodes (tag is the
// "open" token) and leaf tokens. It throws on mismatched tags.
function parseTree(tokens) {
  const root = { children: [] };
  const stack = [root];
  for (const t of tokens) {
    const top = stack[stack.length - 1];
    if (t.type === 'open') {
      const node = { tag: t, children: [], close: null };
      top.children.push(node);
      if (!t.selfClosing) stack.push(node);
    } else if (t.type === 'close') {
      if (stack.length < 2 || top.tag.name !== t.name) throw new Error(`unexpected </${t.name}>`);
      top.close = t;
      stack.pop();
    } else {
      top.children.push(t);
    }
  }
  if (stack.length > 1) throw new Error(`<${stack[stack.length - 1].tag.name}> is not closed`);
  return root;
}

// Coloured pieces of one token.
function tokenNodes(t) {
  switch (t.type) {
    case 'open': {
      const out = [h('span', { class: 'tok-punct' }, '<'), h('span', { class: 'tok-tag' }, t.name)];
      for (const a of t.attrs) {
        out.push(' ', h('span', { class: 'tok-attr' }, a.name), h('span', { class: 'tok-punct' }, '='),
          h('span', { class: 'tok-str' }, a.value));
      }
      out.push(h('span', { class: 'tok-punct' }, t.selfClosing ? '/>' : '>'));
      return out;
    }
    case 'close':
      return [h('span', { class: 'tok-punct' }, '</'), h('span', { class: 'tok-tag' }, t.name), h('span', { class: 'tok-punct' }, '>')];
    case 'comment':
    case 'decl':
      return [h('span', { class: 'tok-comment' }, t.raw)];
    case 'cdata':
      return [h('span', { class: 'tok-text' }, t.raw)];
    default:
      return [h('span', { class: 'tok-text' }, t.raw)];
  }
}

// An element whose children include text is kept on one line as sent,
// so SSML and spoken text read naturally.
function hasText(node) {
  return node.children.some((c) => (c.type === 'text' && c.raw.trim() !== '') || c.type === 'cdata');
}

function inlineNodes(node) {
  if (node.type) return tokenNodes(node);
  const out = tokenNodes(node.tag);
  if (node.tag.selfClosing) return out;
  for (const c of node.children) out.push(...inlineNodes(c));
  if (node.close) out.push(...tokenNodes(node.close));
  return out;
}

// prettyLines lays the tree out as lines of [indent, nodes].
function prettyLines(node, depth, lines) {
  for (const c of node.children) {
    if (c.type === 'text') {
      if (c.raw.trim() !== '') lines.push([depth, [h('span', { class: 'tok-text' }, c.raw.trim())]]);
      continue;
    }
    if (c.type) {
      lines.push([depth, tokenNodes(c)]);
      continue;
    }
    if (c.tag.selfClosing || c.children.length === 0 || hasText(c)) {
      lines.push([depth, inlineNodes(c)]);
      continue;
    }
    lines.push([depth, tokenNodes(c.tag)]);
    prettyLines(c, depth + 1, lines);
    lines.push([depth, tokenNodes(c.close)]);
  }
}

// bxmlNode shows XML indented and coloured. Markup it cannot read is
// shown as sent.
export function bxmlNode(xml, attrs = {}) {
  const pre = h('pre', { ...attrs, class: `code xml ${attrs.class ?? ''}`.trim() });
  let lines;
  try {
    lines = [];
    prettyLines(parseTree(tokenize(xml)), 0, lines);
  } catch {
    pre.append(xml);
    return pre;
  }
  lines.forEach(([depth, nodes], i) => {
    if (i > 0) pre.append('\n');
    pre.append('  '.repeat(depth), ...nodes);
  });
  return pre;
}

// rawLinesNode shows text as sent, one numbered line each; the line
// `mark` (1-based) is highlighted, with `note` under it.
export function rawLinesNode(text, mark = 0, note = '', attrs = {}) {
  const ol = h('ol', { ...attrs, class: `code raw-lines ${attrs.class ?? ''}`.trim() });
  const lines = text.split(/\r\n|\r|\n/);
  lines.forEach((line, i) => {
    const n = i + 1;
    const marked = n === mark;
    ol.append(h('li', { class: marked ? 'marked' : null, 'data-line': n, 'aria-current': marked ? 'true' : null },
      h('span', { class: 'line-no', 'aria-hidden': 'true' }, String(n)),
      h('span', { class: 'line-text' }, line === '' ? '\u200b' : line),
      marked && note ? h('span', { class: 'line-note' }, note) : null));
  });
  return ol;
}
