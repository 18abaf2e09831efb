// The demo: one shared document per `?doc=` id, synced through the relay
// that serves this page.
import { Doc, SyncClient } from 'quire';
import { bindTextarea } from './binding.js';
import { showPresence } from './presence.js';

const $ = (id) => document.getElementById(id);
const ID_GRAMMAR = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const params = new URLSearchParams(location.search);
let docId = params.get('doc');
if (!docId || !ID_GRAMMAR.test(docId)) {
  docId = 'welcome';
  params.set('doc', docId);
  history.replaceState(null, '', `?${params}`);
}
$('doc-id').textContent = docId;
document.title = `${docId} · Quire`;
$('new-doc').href = `?doc=${crypto.getRandomValues(new Uint32Array(2)).join('').slice(0, 12)}`;

// `?idleMs=` shortens the idle threshold (5 minutes by default), for demos
// and the browser tests.
const idleAfterMs = Number(params.get('idleMs')) || undefined;
// SyncClient keeps it in IndexedDB and restores it before connecting; the
// restored content arrives as remote changes, like a peer's edits.
const doc = new Doc(idleAfterMs ? { presence: { idleAfterMs } } : {});
window.quireDoc = doc; // for the console and the browser tests

// --- text, title, counter ----------------------------------------------------
const editor = $('editor');
bindTextarea(editor, doc);

const title = $('title');
title.value = doc.title;
title.addEventListener('input', () => {
  try {
    doc.setTitle(title.value);
  } catch (err) {
    console.warn('title refused', err.code, err.message);
  }
});

const likes = $('likes');
likes.textContent = doc.counter('likes');
$('like').addEventListener('click', () => doc.increment('likes', 1));

doc.onChange((event) => {
  for (const c of event.changes) {
    if (c.type === 'title' && event.origin === 'remote' && title.value !== doc.title) {
      title.value = doc.title;
    }
    if (c.type === 'counter') likes.textContent = doc.counter('likes');
  }
});

// --- sync ----------------------------------------------------------------------
const relay = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
// With auth on, the relay needs a token for this document (`?token=`).
const token = params.get('token') ?? undefined;
const client = new SyncClient(relay, docId, doc, { token, backoff: { initialMs: 250, maxMs: 5000 } });
window.quireClient = client;

const status = $('status');
const banner = $('banner');
const online = $('online');
let unreachableTimer = null;

function render({ status: s, pending, serverSeq, readOnly }) {
  status.textContent = readOnly ? `${s}, read-only` : s;
  status.dataset.status = s;
  // A read token: the relay would refuse every edit, so none is offered.
  editor.readOnly = title.readOnly = readOnly;
  $('like').disabled = readOnly;
  $('pending').textContent = pending;
  $('server-seq').textContent = serverSeq ?? '–';
  clearTimeout(unreachableTimer);
  if (s === 'live') {
    banner.hidden = true;
  } else if (online.checked) {
    // Give a reconnect a moment before calling the relay unreachable.
    unreachableTimer = setTimeout(() => {
      banner.textContent = `Cannot reach the relay at ${relay}. Your edits are kept in this browser and will sync when it is back.`;
      banner.hidden = false;
    }, 3000);
  }
}
client.onStatus(render);
render({ status: client.status, pending: client.pending, serverSeq: client.serverSeq, readOnly: client.readOnly });

online.addEventListener('change', () => {
  if (online.checked) {
    client.connect();
  } else {
    client.disconnect();
    banner.textContent = 'Offline (simulated). Keep editing: changes sync when you go back online.';
    banner.hidden = false;
  }
});

showPresence({ doc, client, editor, list: $('users'), layer: $('carets') });
client.connect();
