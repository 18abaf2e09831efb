// Binds a <textarea> to the document's text.
//
// Local typing: the textarea's new value is diffed against the last known
// text (one contiguous replace, never splitting a surrogate pair) and applied
// as delete + insert in UTF-16 units. Undo and redo go through the
// document's undo manager. Remote changes: the text is replaced and
// the local caret and selection are moved through each change, so they stay
// on the same characters.

const isHigh = (s, i) => i >= 0 && i < s.length && (s.charCodeAt(i) & 0xfc00) === 0xd800;

// The single replace turning `before` into `after`: { at, removed, inserted }.
export function diff(before, after) {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  // Never end the common prefix inside a surrogate pair.
  if (start > 0 && isHigh(before, start - 1)) start--;
  let end = 0;
  while (
    end < max - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  ) end++;
  // Nor start the common suffix inside one.
  if (end > 0 && isHigh(before, before.length - end - 1)) end--;
  return {
    at: start,
    removed: before.length - end - start,
    inserted: after.slice(start, after.length - end),
  };
}

// Where a caret at `pos` goes after a remote change. A remote insert exactly
// at the caret lands after it, so the local typist keeps their place.
export function moveThrough(pos, change) {
  if (change.type === 'insert') return pos > change.index ? pos + change.length : pos;
  if (change.type === 'delete') {
    if (pos <= change.index) return pos;
    return Math.max(change.index, pos - change.length);
  }
  return pos;
}

export function bindTextarea(textarea, doc, { onLocalEdit } = {}) {
  let known = doc.text();
  textarea.value = known;

  const applyLocal = () => {
    const now = textarea.value;
    if (now === known) return;
    const { at, removed, inserted } = diff(known, now);
    try {
      if (removed > 0) doc.delete(at, removed);
      if (inserted.length > 0) doc.insert(at, inserted);
    } catch (err) {
      // The document refused (e.g. a lone surrogate): show its text again.
      console.warn('edit refused', err.code, err.message);
    }
    known = doc.text();
    if (known !== now) textarea.value = known;
    onLocalEdit?.();
  };

  textarea.addEventListener('input', (e) => {
    if (!e.isComposing) applyLocal();
  });
  textarea.addEventListener('compositionend', applyLocal);

  // Ctrl/Cmd-Z, Shift-Ctrl/Cmd-Z and Ctrl-Y use the document's undo manager
  // (only this replica's own edits), not the textarea's.
  textarea.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
    const key = e.key.toLowerCase();
    if (key !== 'z' && key !== 'y') return;
    e.preventDefault();
    applyLocal();
    let caret = null;
    const watch = doc.onChange((event) => {
      for (const c of event.changes) {
        if (c.type === 'insert') caret = c.index + c.length;
        else if (c.type === 'delete') caret = c.index;
      }
    });
    try {
      if (key === 'y' || e.shiftKey) doc.redo();
      else doc.undo();
    } catch (err) {
      console.warn('undo refused', err.code, err.message);
    } finally {
      watch();
    }
    known = doc.text();
    textarea.value = known;
    if (caret !== null) textarea.setSelectionRange(caret, caret);
    onLocalEdit?.();
  });

  const off = doc.onChange((event) => {
    if (event.origin !== 'remote') return;
    const textChanges = event.changes.filter((c) => c.type === 'insert' || c.type === 'delete');
    if (textChanges.length === 0) return;
    let { selectionStart: a, selectionEnd: b, selectionDirection: dir } = textarea;
    for (const c of textChanges) {
      a = moveThrough(a, c);
      b = moveThrough(b, c);
    }
    const focused = document.activeElement === textarea;
    const scroll = textarea.scrollTop;
    known = doc.text();
    textarea.value = known;
    if (focused) textarea.setSelectionRange(a, b, dir);
    else textarea.setSelectionRange(a, b);
    textarea.scrollTop = scroll;
  });

  return {
    // Call after loading a saved document or merging outside onChange.
    refresh() {
      known = doc.text();
      textarea.value = known;
    },
    unbind: off,
  };
}
