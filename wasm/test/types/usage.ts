// Compiled with `tsc --noEmit -p wasm` against the built wasm/pkg/quire.d.ts:
// the public API is typed as documented (no `any` leaks into user code).
import {
  Doc,
  Presence,
  type ApplyResult,
  type ChangeEvent,
  type PresenceEvent,
  type PresenceUser,
  type QuireError,
  type Snapshot,
} from 'quire';

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

// Undo and presence.
const editor = new Doc({ undoCaptureMs: 0, presence: { idleAfterMs: 60_000, timeoutMs: 30_000 } });
const undone: boolean = editor.undo();
const redone: boolean = editor.redo();
assertEqual<Doc['canUndo'], boolean>(true);
assertEqual<Doc['canRedo'], boolean>(true);
const presence: Presence = editor.presence;
const body: Uint8Array = presence.setLocal({ name: 'Ann', color: '#e91e63', cursor: 0, selection: { start: 0, end: 0 } });
presence.setLocal({ name: 'Ann', color: '#e91e63', data: '{}', cursor: null, selection: null });
const changed: boolean = doc.presence.apply(body);
assertEqual<ReturnType<Presence['keepalive']>, Uint8Array | undefined>(true);
assertEqual<ReturnType<Presence['leave']>, Uint8Array>(true);
const users: PresenceUser[] = presence.users();
for (const u of users) {
  expectType<string>(u.id);
  expectType<number | null>(u.cursor);
  expectType<{ start: number; end: number } | null>(u.selection);
  expectType<number | null>(u.line ?? u.column);
  expectType<boolean>(u.idle && u.local);
}
const offPresence: () => void = presence.onPresence((e: PresenceEvent) => expectType<string[]>(e.changed));
offPresence();
console.log(undone, redone, changed);
// @ts-expect-error a cursor is a number
presence.setLocal({ name: 'Ann', color: 'red', cursor: '3' });
// @ts-expect-error name and color are required
presence.setLocal({ cursor: 3 });

// @ts-expect-error insert takes a string
doc.insert(0, 5);
// @ts-expect-error replicaId is not an object
new Doc({ replicaId: {} });
doc.free();
