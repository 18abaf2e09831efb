// Replays a sequential editing trace (default: automerge-paper) as local
// edits through each library's JS API in this one Node process, and prints
// the median time of a few runs and the size of the saved document.
//
//   node wasm/bench/index.mjs [trace.json.gz] [runs]
//
// Needs wasm/pkg (scripts/build-wasm) and `npm ci` in wasm/bench.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import * as Y from 'yjs';
import { LoroDoc } from 'loro-crdt';
import * as Automerge from '@automerge/automerge';
import { Doc as QuireDoc } from '../pkg/node/index.mjs';

const tracePath =
  process.argv[2] ?? new URL('../../../shared/traces/automerge-paper.json.gz', import.meta.url);
const runs = Number(process.argv[3] ?? 5);
const trace = JSON.parse(gunzipSync(readFileSync(tracePath)).toString('utf8'));
const patches = trace.txns.flatMap((t) => t.patches);
// Positions are code points; the libraries below take UTF-16 (Quire, Yjs) or
// code points (Loro, Automerge's default), so only ASCII traces compare fairly.
if (/[^\x00-\x7f]/.test(trace.endContent)) {
  console.warn('warning: non-ASCII trace; UTF-16 and code point positions differ');
}

// Each adapter: replay() returns a finished document; text() and save()
// read it back, so every library is checked against endContent.
const adapters = {
  quire: {
    replay() {
      const doc = new QuireDoc({ replicaId: 1n });
      for (const [pos, del, ins] of patches) {
        if (del > 0) doc.delete(pos, del);
        if (ins) doc.insert(pos, ins);
      }
      return doc;
    },
    text: (doc) => doc.text(),
    save: (doc) => doc.encode(),
    free: (doc) => doc.free(),
  },
  yjs: {
    replay() {
      const doc = new Y.Doc();
      const text = doc.getText('text');
      for (const [pos, del, ins] of patches) {
        if (del > 0) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
      }
      return doc;
    },
    text: (doc) => doc.getText('text').toString(),
    save: (doc) => Y.encodeStateAsUpdate(doc),
    free: (doc) => doc.destroy(),
  },
  loro: {
    replay() {
      const doc = new LoroDoc();
      const text = doc.getText('text');
      for (const [pos, del, ins] of patches) {
        if (del > 0) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
      }
      doc.commit();
      return doc;
    },
    text: (doc) => doc.getText('text').toString(),
    save: (doc) => doc.export({ mode: 'snapshot' }),
    free: (doc) => doc.free(),
  },
  automerge: {
    // One change per trace transaction, like a user typing.
    replay() {
      let doc = Automerge.from({ text: '' });
      for (const { patches: ps } of trace.txns) {
        doc = Automerge.change(doc, (d) => {
          for (const [pos, del, ins] of ps) Automerge.splice(d, ['text'], pos, del, ins);
        });
      }
      return doc;
    },
    text: (doc) => doc.text,
    save: (doc) => Automerge.save(doc),
    free: (doc) => Automerge.free(doc),
  },
};

const only = process.env.BENCH_ONLY?.split(',');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [name, a] of Object.entries(adapters)) {
  if (only && !only.includes(name)) continue;
  // Automerge takes tens of seconds per run: fewer runs.
  const n = name === 'automerge' ? Math.min(runs, 1) : runs;
  const times = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const doc = a.replay();
    times.push(performance.now() - start);
    if (a.text(doc) !== trace.endContent) throw new Error(`${name}: wrong final text`);
    bytes = a.save(doc).length;
    a.free(doc);
  }
  rows.push({ library: name, 'local edits (ms, median)': Math.round(median(times)), runs: n, 'saved bytes': bytes });
}
console.log(`${patches.length} patches from ${String(tracePath).split('/').pop()}, node ${process.version}`);
console.table(rows);
