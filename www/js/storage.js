// Keeps the document of this tab in sessionStorage, so a reload (even while
// offline) keeps every edit. sessionStorage is per tab: two tabs never share
// a replica id, which must stay unique.

const key = (docId) => `quire:doc:${docId}`;

const toBase64 = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
};
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

// Returns { doc, restored }: the saved document of this tab, or a new one.
// `options` go to the Doc (e.g. presence timings).
export function loadDoc(Doc, docId, options = {}) {
  const saved = sessionStorage.getItem(key(docId));
  if (saved) {
    try {
      const { replicaId, bytes } = JSON.parse(saved);
      return { doc: Doc.decode(fromBase64(bytes), { ...options, replicaId }), restored: true };
    } catch (err) {
      console.warn('discarding an unreadable saved document', err.code, err.message);
    }
  }
  return { doc: new Doc(options), restored: false };
}

// Saves soon after changes, and at once when the page is hidden or closed.
export function autosave(doc, docId, delayMs = 150) {
  let timer = null;
  const save = () => {
    clearTimeout(timer);
    timer = null;
    const value = JSON.stringify({
      replicaId: String(doc.replicaId),
      bytes: toBase64(doc.encode()),
    });
    try {
      sessionStorage.setItem(key(docId), value);
    } catch (err) {
      console.warn('could not save the document in this tab', err);
    }
  };
  doc.onChange(() => {
    if (timer === null) timer = setTimeout(save, delayMs);
  });
  addEventListener('pagehide', save);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save();
  });
  return save;
}
