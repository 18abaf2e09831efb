// Keeps a SyncClient's document in a storage between page loads (see the
// README, "Persistence"). One record per (document, replica), an index of
// those replicas, and Web Locks so that two live clients never edit as the
// same replica. scripts/build-wasm appends it to both glue files (so no
// import/export); SyncClient finds it on globalThis.
(() => {
  const HOOK = Symbol.for('quire.persist.v1');
  if (globalThis[HOOK]) return;

  const MAGIC = 'quire1';
  const SAVE_DELAY_MS = 200;
  // How long a starting client waits for a record with unsent operations
  // whose lock is held: a reloading page releases it as it unloads.
  const HANDOVER_MS = 1500;

  const error = (code, message, cause) =>
    Object.assign(new Error(message, { cause }), { name: 'QuireError', code });

  const toBase64 = (bytes) => {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  };
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

  // A record: "quire1 <epoch:seq or -> <pending> " then the encoded
  // document, raw (binary storages) or in base64 (string storages).
  function pack(doc, resume, pending, binary) {
    const head = `${MAGIC} ${resume ?? '-'} ${pending} `;
    if (!binary) return head + toBase64(doc);
    const h = new TextEncoder().encode(head);
    const out = new Uint8Array(h.length + doc.length);
    out.set(h);
    out.set(doc, h.length);
    return out;
  }

  // The record in `value`, null if there is none; throws if unreadable.
  function unpack(value) {
    if (value === null || value === undefined) return null;
    let text = value;
    let body = null;
    if (typeof value !== 'string') {
      if (!ArrayBuffer.isView(value)) throw new Error('not a string or bytes');
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      let at = -1;
      for (let spaces = 0, i = 0; i < Math.min(bytes.length, 64) && spaces < 3; i++) {
        if (bytes[i] === 0x20 && ++spaces === 3) at = i + 1;
      }
      if (at < 0) throw new Error('no record header');
      text = new TextDecoder().decode(bytes.subarray(0, at));
      body = bytes.slice(at);
    }
    const [magic, resume, pending, rest] = text.split(' ', 4);
    if (magic !== MAGIC || !/^\d+$/.test(pending ?? '') || (body === null && !rest)) {
      throw new Error('not a quire record');
    }
    return {
      resume: resume === '-' ? null : resume,
      pending: Number(pending),
      doc: body ?? fromBase64(rest),
    };
  }

  const seqOf = (resume) => (resume ? Number(resume.split(':')[1]) : -1);

  // Holds the lock `name` until the returned function is called; null when
  // another client holds it (after waiting up to `waitMs` for it). Without
  // locks the storage is assumed to be this client's alone.
  function claim(locks, name, waitMs = 0) {
    if (!locks) return Promise.resolve(() => {});
    const options = waitMs > 0 ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true };
    return new Promise((resolve) => {
      let release;
      const held = new Promise((r) => { release = r; });
      Promise.resolve(
        locks.request(name, options, (lock) => {
          resolve(lock ? release : null);
          return lock ? held : undefined;
        }),
      ).catch(() => resolve(null));
    });
  }

  // IndexedDB as a storage: database "quire", object store "records".
  function indexedDBStorage(name = 'quire') {
    const idb = globalThis.indexedDB;
    if (!idb) return null;
    let db = null;
    const open = () => (db ??= new Promise((ok, fail) => {
      const r = idb.open(name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore('records');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    }).catch((e) => { db = null; throw e; }));
    const run = async (mode, f) => {
      const d = await open();
      return new Promise((ok, fail) => {
        const tx = d.transaction('records', mode);
        const req = f(tx.objectStore('records'));
        tx.oncomplete = () => ok(req.result);
        tx.onerror = tx.onabort = () => fail(tx.error);
      });
    };
    return {
      binary: true,
      get: (k) => run('readonly', (s) => s.get(k)),
      set: (k, v) => run('readwrite', (s) => s.put(v, k)),
      delete: (k) => run('readwrite', (s) => s.delete(k)),
    };
  }

  // Called by SyncClient: `storage` is options.storage (undefined: the
  // default), `doc` a handle on its document, `adopt(bytes, replicaId)`
  // makes the document that stored replica (false once it has edits of its
  // own), `report(error)` surfaces storage problems. Null: no storage.
  function open(storage, docId, doc, locks, adopt, report) {
    if (storage === undefined) storage = indexedDBStorage();
    if (!storage) return null;
    locks ??= globalThis.navigator?.locks ?? null;
    const binary = storage.binary === true;
    const index = `quire:doc:${docId}`;
    const key = (id) => `${index}:${id}`;
    const lockName = (id) => `quire:${docId}:${id}`;
    let replica = String(doc.replicaId);
    let resume = null;
    let pending = 0;
    let held = [];
    let orphans = [];
    let loaded = false;
    let closed = false;
    let dirty = false;
    let indexed = false;
    let timer = null;
    let writing = Promise.resolve();

    const fail = (what, e) => {
      console.warn(`quire: ${what}`, e);
      try {
        report(error('STORAGE', `${what}: ${e?.message ?? e}`, e));
      } catch { /* the client is gone */ }
    };
    const readIndex = async () => String((await storage.get(index)) ?? '').split(' ').filter(Boolean);
    // Read-modify-write of the index, one client at a time.
    const editIndex = (edit) => {
      const run = async () => {
        const ids = await readIndex();
        const next = edit(ids);
        if (next.join(' ') !== ids.join(' ')) await storage.set(index, next.join(' '));
      };
      return locks ? locks.request(`quire:${docId}`, run) : run();
    };
    // Records merged into ours, with nothing left to send: gone once ours is saved.
    const dropOrphans = async () => {
      const gone = orphans;
      orphans = [];
      if (gone.length === 0) return;
      await editIndex((ids) => ids.filter((id) => !gone.some((g) => g.id === id)));
      for (const g of gone) {
        await storage.delete?.(key(g.id));
        g.release();
      }
    };

    const save = () => {
      clearTimeout(timer);
      timer = null;
      if (!loaded || !dirty) return writing;
      dirty = false;
      let value;
      try {
        value = pack(doc.encode(), resume, pending, binary);
      } catch (e) {
        fail('could not encode the document', e);
        return writing;
      }
      const id = replica;
      writing = writing
        .then(async () => {
          await storage.set(key(id), value);
          if (!indexed) {
            await editIndex((ids) => (ids.includes(id) ? ids : [...ids, id]));
            indexed = true;
          }
          await dropOrphans();
        })
        .catch((e) => {
          dirty = true; // retried at the next change
          fail(`could not save ${key(id)}`, e);
        });
      return writing;
    };
    const changed = () => {
      dirty = true;
      if (closed || timer !== null) return;
      timer = setTimeout(save, SAVE_DELAY_MS);
    };
    const off = doc.onChange(changed);
    const hidden = () => {
      if (globalThis.document?.visibilityState === 'hidden') save();
    };
    globalThis.addEventListener?.('pagehide', save);
    globalThis.document?.addEventListener?.('visibilitychange', hidden);

    async function load() {
      const own = await claim(locks, lockName(replica));
      if (own) held.push(own);
      const records = [];
      let ids = [];
      try {
        ids = await readIndex();
      } catch (e) {
        fail(`could not read ${index}`, e);
      }
      for (const id of ids) {
        const release = id === replica ? null : await claim(locks, lockName(id));
        try {
          const rec = unpack(await storage.get(key(id)));
          if (rec) records.push({ id, rec, release });
          else release?.();
        } catch (e) {
          release?.();
          fail(`ignoring the unreadable record ${key(id)}`, e);
        }
      }
      // Unsent operations are sent only by a client of their replica. If no
      // free record has any but a held one does, its holder may be a page
      // that is reloading: wait for it, then read the record it left.
      const others = records.filter((r) => r.id !== replica);
      const busy = others.filter((r) => !r.release && r.rec.pending > 0);
      if (busy.length && !others.some((r) => r.release && r.rec.pending > 0)) {
        const best = busy.reduce((a, b) => (b.rec.pending > a.rec.pending ? b : a));
        best.release = await claim(locks, lockName(best.id), HANDOVER_MS);
        if (best.release) {
          try {
            best.rec = unpack(await storage.get(key(best.id))) ?? best.rec;
          } catch (e) {
            fail(`could not read ${key(best.id)} again`, e);
          }
        }
      }
      // Adopt the free record with the most unsent operations; merge the
      // others in.
      records.sort((a, b) => Boolean(b.release) - Boolean(a.release) || b.rec.pending - a.rec.pending);
      let adopted = false;
      for (const { id, rec, release } of records) {
        if (closed) break;
        try {
          if (!adopted && release && adopt(rec.doc, id)) {
            adopted = true;
            for (const f of held) f();
            held = [release];
            replica = id;
          } else {
            doc.applyDelta(rec.doc);
            if (release && rec.pending === 0) orphans.push({ id, release });
            else release?.();
          }
        } catch (e) {
          release?.();
          fail(`ignoring the unreadable record ${key(id)}`, e);
          continue;
        }
        if (seqOf(rec.resume) > seqOf(resume)) resume = rec.resume;
      }
      loaded = true;
      if (closed) shut();
      else if (dirty || orphans.length) changed();
      return resume;
    }

    function shut() {
      save().finally(() => {
        for (const f of held) f();
        for (const o of orphans) o.release();
        held = [];
        orphans = [];
      });
    }

    return {
      load,
      // The session's resume point and unacknowledged operations moved.
      note(r, p) {
        resume = r ?? resume;
        pending = p;
        changed();
      },
      close() {
        if (closed) return;
        closed = true;
        off();
        globalThis.removeEventListener?.('pagehide', save);
        globalThis.document?.removeEventListener?.('visibilitychange', hidden);
        if (loaded) shut();
      },
    };
  }

  globalThis[HOOK] = { open, indexedDBStorage };
})();
