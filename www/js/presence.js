// Remote carets and selections drawn over the textarea, and the list of
// people with idle badges. Uses the package's presence (`doc.presence`);
// without it the list shows only this tab.
const COLORS = ['#e0556b', '#2f6fdb', '#1f8a4c', '#b7791f', '#8e44ad', '#00838f', '#d35400'];
const NAMES = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances'];
const pick = (list) => list[Math.floor(Math.random() * list.length)];

// One name and colour per tab, kept across reloads.
function identity() {
  const saved = sessionStorage.getItem('quire:me');
  if (saved) return JSON.parse(saved);
  const me = { name: pick(NAMES), color: pick(COLORS) };
  sessionStorage.setItem('quire:me', JSON.stringify(me));
  return me;
}

const escapeHtml = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

// The mirror layer: the same text, invisible, with carets and selection
// marks at the users' UTF-16 positions; it wraps exactly like the textarea.
function drawCarets(layer, text, users) {
  const marks = [];
  for (const u of users) {
    if (u.local || u.cursor == null) continue;
    if (u.selection && u.selection.start !== u.selection.end) {
      marks.push({ at: u.selection.start, kind: 'sel-start', u });
      marks.push({ at: u.selection.end, kind: 'sel-end', u });
    }
    marks.push({ at: u.cursor, kind: 'caret', u });
  }
  marks.sort((a, b) => a.at - b.at || (a.kind === 'sel-end' ? -1 : 1));
  let html = '';
  let pos = 0;
  const open = new Set();
  const chunk = (s) => {
    if (!s) return;
    let piece = escapeHtml(s);
    for (const u of open) piece = `<span class="sel" style="--c:${u.color}">${piece}</span>`;
    html += piece;
  };
  for (const m of marks) {
    const at = Math.min(Math.max(m.at, 0), text.length);
    chunk(text.slice(pos, at));
    pos = Math.max(pos, at);
    if (m.kind === 'sel-start') open.add(m.u);
    else if (m.kind === 'sel-end') open.delete(m.u);
    else html += `<span class="caret" style="--c:${m.u.color}"><span class="who">${escapeHtml(m.u.name)}</span></span>`;
  }
  chunk(text.slice(pos));
  // A trailing newline needs content after it to take up a line.
  layer.innerHTML = `${html}\u200b`;
}

function drawList(list, users) {
  list.replaceChildren(
    ...users.map((u) => {
      const li = document.createElement('li');
      li.style.setProperty('--c', u.color);
      li.dataset.idle = String(!!u.idle);
      const dot = document.createElement('span');
      dot.className = 'dot';
      const name = document.createElement('span');
      name.textContent = u.local ? `${u.name} (you)` : u.name;
      li.append(dot, name);
      if (u.line != null && !u.local) {
        const where = document.createElement('span');
        where.className = 'where';
        where.textContent = `${u.line + 1}:${u.column + 1}`;
        li.append(where);
      }
      if (u.idle) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'idle';
        li.append(badge);
      }
      return li;
    }),
  );
}

export function showPresence({ doc, editor, list, layer }) {
  const me = identity();
  const presence = doc.presence;
  if (!presence) {
    drawList(list, [{ ...me, local: true }]);
    return;
  }

  const publish = () => {
    const { selectionStart: start, selectionEnd: end, selectionDirection: dir } = editor;
    const cursor = dir === 'backward' ? start : end;
    try {
      presence.setLocal({ ...me, cursor, selection: start !== end ? { start, end } : undefined });
    } catch (err) {
      console.warn('presence refused', err.code, err.message);
    }
  };

  let frame = 0;
  const render = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const users = presence.users();
      const others = users.filter((u) => !u.local);
      drawList(list, [{ ...me, local: true }, ...others]);
      drawCarets(layer, editor.value, others);
      layer.scrollTop = editor.scrollTop;
    });
  };

  for (const type of ['select', 'keyup', 'mouseup', 'input', 'focus']) {
    editor.addEventListener(type, publish);
  }
  document.addEventListener('selectionchange', () => {
    if (document.activeElement === editor) publish();
  });
  editor.addEventListener('scroll', () => { layer.scrollTop = editor.scrollTop; });
  addEventListener('resize', render);
  presence.onPresence(render);
  doc.onChange(render);
  // Idle badges change with time alone.
  setInterval(render, 5000);
  publish();
  render();
}
