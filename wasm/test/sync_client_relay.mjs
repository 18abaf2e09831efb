// A tiny stand-in for quire-relay, enough for SyncClient tests: it speaks
// the frames of core/src/sync/message.rs (hello -> hello_ack with catch-up,
// update -> ack + delta fan-out, ping -> pong, bye), keeps one server Doc and
// log per document, and has knobs to misbehave.
import { once } from 'node:events';
import { WebSocketServer } from 'ws';

const PROTOCOL_VERSION = 1;
export const TAG = {
  HELLO: 1, HELLO_ACK: 2, UPDATE: 3, ACK: 4, DELTA: 5,
  PING: 6, PONG: 7, ERROR: 8, BYE: 9, PRESENCE: 10,
};
const CATCH_UP_DELTAS = 0;
const CATCH_UP_SNAPSHOT = 1;
// Envelope of encoded objects: magic (4), format version, kind | body | crc32.
const ENVELOPE_HEAD = 6;
const ENVELOPE_TAIL = 4;

class Writer {
  constructor(tag) { this.out = [PROTOCOL_VERSION, tag]; }
  u8(x) { this.out.push(x); return this; }
  varint(n) {
    let v = BigInt(n);
    while (v >= 0x80n) { this.out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
    this.out.push(Number(v));
    return this;
  }
  raw(bytes) { for (const b of bytes) this.out.push(b); return this; }
  bytes(bytes) { return this.varint(bytes.length).raw(bytes); }
  str(s) { return this.bytes(new TextEncoder().encode(s)); }
  done() { return Uint8Array.from(this.out); }
}

class Reader {
  constructor(bytes) { this.b = bytes; this.i = 0; }
  u8() {
    if (this.i >= this.b.length) throw new Error('truncated frame');
    return this.b[this.i++];
  }
  varint() {
    let n = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const x = this.u8();
      n |= BigInt(x & 0x7f) << shift;
      if (!(x & 0x80)) return Number(n);
    }
  }
  raw(n) {
    if (this.i + n > this.b.length) throw new Error('truncated frame');
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }
  bytes() { return this.raw(this.varint()); }
  str() { return new TextDecoder().decode(this.bytes()); }
}

function readHello(r) {
  const docId = r.str();
  const replica = Buffer.from(r.raw(8)).readBigUInt64LE();
  const entries = r.varint();
  for (let i = 0; i < entries; i++) { r.raw(8); r.varint(); }
  const flags = r.u8();
  const resume = flags & 1 ? { serverSeq: r.varint(), epoch: r.varint() } : null;
  const token = flags & 2 ? r.str() : null;
  return { docId, replica, resume, token };
}

export class FakeRelay {
  // `Doc` is the package's class: the relay keeps one per document.
  constructor(Doc) {
    this.Doc = Doc;
    this.rooms = new Map();
    this.sockets = new Set();
    this.connections = 0;
    this.hellos = [];
    this.updates = [];
    // Knobs: close new connections with this code; answer no pings;
    // send this frame instead of the next delta.
    this.refuseWith = null;
    this.silent = false;
    this.garbage = null;
  }

  async start() {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(this.wss, 'listening');
    this.url = `ws://127.0.0.1:${this.wss.address().port}`;
    this.wss.on('connection', (ws, req) => this.accept(ws, req));
    return this;
  }

  room(docId) {
    let room = this.rooms.get(docId);
    if (!room) {
      room = { doc: new this.Doc({ replicaId: 1n }), log: [], epoch: 7, live: new Set() };
      this.rooms.set(docId, room);
    }
    return room;
  }

  accept(ws, req) {
    this.connections++;
    this.sockets.add(ws);
    ws.on('close', () => {
      this.sockets.delete(ws);
      for (const room of this.rooms.values()) room.live.delete(ws);
    });
    ws.on('error', () => {});
    if (this.refuseWith !== null) {
      ws.close(this.refuseWith, 'refused by the test');
      return;
    }
    const docId = decodeURIComponent(req.url.replace(/^\/ws\//, ''));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return ws.close(1002);
      try {
        this.frame(ws, this.room(docId), new Uint8Array(data));
      } catch (e) {
        ws.close(1002, String(e.message).slice(0, 100));
      }
    });
  }

  frame(ws, room, bytes) {
    const r = new Reader(bytes);
    if (r.u8() !== PROTOCOL_VERSION) throw new Error('version');
    switch (r.u8()) {
      case TAG.HELLO: return this.hello(ws, room, readHello(r));
      case TAG.UPDATE: return this.update(ws, room, r.varint(), r.bytes());
      case TAG.PING:
        if (!this.silent) ws.send(new Writer(TAG.PONG).varint(r.varint()).done());
        return;
      case TAG.PONG: return;
      case TAG.BYE: return ws.close(1000);
      default: throw new Error('unexpected message');
    }
  }

  hello(ws, room, hello) {
    this.hellos.push(hello);
    const seq = room.log.length;
    const version = room.doc.version();
    const w = new Writer(TAG.HELLO_ACK)
      .varint(seq)
      .varint(room.epoch)
      .raw(version.subarray(ENVELOPE_HEAD, version.length - ENVELOPE_TAIL));
    const r = hello.resume;
    const first = r && r.epoch === room.epoch ? r.serverSeq + 1 : 1;
    if (first > seq + 1) {
      w.u8(CATCH_UP_SNAPSHOT).bytes(room.doc.encode());
    } else {
      const deltas = room.log.slice(first - 1);
      w.u8(CATCH_UP_DELTAS).varint(deltas.length);
      deltas.forEach((d, i) => w.varint(first + i).bytes(d));
    }
    ws.send(w.done());
    room.live.add(ws);
  }

  update(ws, room, id, delta) {
    if (!room.live.has(ws)) throw new Error('update before hello');
    room.doc.applyDelta(delta);
    room.log.push(Uint8Array.from(delta));
    const seq = room.log.length;
    this.updates.push({ id, delta: Uint8Array.from(delta) });
    ws.send(new Writer(TAG.ACK).varint(id).varint(seq).u8(1).done());
    const frame = this.garbage ?? new Writer(TAG.DELTA).varint(seq).bytes(delta).done();
    for (const peer of room.live) if (peer !== ws) peer.send(frame);
  }

  // Ends every connection abruptly (no close frame: the client sees 1006).
  dropAll() {
    for (const ws of this.sockets) ws.terminate();
  }

  async stop() {
    this.dropAll();
    this.wss.close();
    await once(this.wss, 'close');
  }
}
