// Compiled with `tsc --noEmit -p wasm` against the built wasm/pkg/quire.d.ts:
// the public API is typed as documented (no `any` leaks into user code).
import { Doc, type ApplyResult, type ChangeEvent, type QuireError, type Snapshot } from 'quire';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T>(_value: T): void {}
const assertEqual = <A, B>(ok: Equal<A, B>): void => void ok;

const doc = new Doc();
const chosen = new Doc({ replicaId: 42n });
new Doc({ replicaId: '42' });
doc.insert(0, 'hi');
doc.delete(0, 1);
doc.setTitle('t');
doc.increment('likes');
doc.increment('likes', -1);

assertEqual<ReturnType<Doc['text']>, string>(true);
assertEqual<Doc['length'], number>(true);
assertEqual<Doc['title'], string>(true);
assertEqual<Doc['replicaId'], bigint>(true);
assertEqual<ReturnType<Doc['counter']>, number>(true);
assertEqual<ReturnType<Doc['version']>, Uint8Array>(true);
assertEqual<ReturnType<Doc['encode']>, Uint8Array>(true);
assertEqual<ReturnType<Doc['applyDelta']>, ApplyResult>(true);
assertEqual<ReturnType<Doc['snapshot']>, Snapshot>(true);

const delta: Uint8Array = doc.encodeDelta(chosen.version());
const all: Uint8Array = doc.encodeDelta();
const { applied, pending }: { applied: number; pending: number } = chosen.applyDelta(delta);
const copy: Doc = Doc.decode(doc.encode(), { replicaId: 7n });
const snap = copy.snapshot();
expectType<string>(snap.title);
expectType<Record<string, number>>(snap.counters);

const off: () => void = doc.onChange((e: ChangeEvent) => {
  expectType<'local' | 'remote'>(e.origin);
  for (const c of e.changes) {
    if (c.type === 'insert' || c.type === 'delete') expectType<number>(c.index + c.length);
    if (c.type === 'counter') expectType<string>(c.name);
  }
});
off();

try {
  doc.insert(99, 'x');
} catch (err) {
  const e = err as QuireError;
  if (e.code === 'INVALID_INDEX') console.log(e.message, applied, pending, all.length);
}

// @ts-expect-error insert takes a string
doc.insert(0, 5);
// @ts-expect-error replicaId is not an object
new Doc({ replicaId: {} });
doc.free();
