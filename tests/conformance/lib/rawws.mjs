// A minimal WebSocket client over a raw TCP socket, with the same event interface as the
// global WebSocket (open/message/close/error, send, close) plus terminate(): drop the TCP
// connection without a close handshake, the way a phone entering a tunnel does. The
// built-in WebSocket cannot do that. Text frames only (and sendBinary for tests).

import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class RawWebSocket extends EventTarget {
  constructor(url) {
    super();
    const u = new URL(url);
    const tls = u.protocol === 'wss:';
    const port = Number(u.port || (tls ? 443 : 80));
    this.key = randomBytes(16).toString('base64');
    this.buf = Buffer.alloc(0);
    this.fragments = [];
    this.state = 'connecting';
    this.socket = (tls ? tlsConnect : connect)({ host: u.hostname, port, servername: u.hostname }, () => {
      this.socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on('data', (d) => this.#onData(d));
    this.socket.on('error', (e) => this.#emit('error', { message: e.message }));
    this.socket.on('close', () => this.#closed(1006, '', false));
  }

  #emit(type, props = {}) {
    const ev = new Event(type);
    Object.assign(ev, props);
    this.dispatchEvent(ev);
  }

  #closed(code, reason, wasClean) {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.#emit('close', { code, reason, wasClean });
  }

  #onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    if (this.state === 'connecting') {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      this.buf = this.buf.subarray(end + 4);
      const accept = createHash('sha1').update(this.key + GUID).digest('base64');
      if (!/^HTTP\/1\.1 101/.test(head) || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
        this.#emit('error', { message: `handshake failed: ${head.split('\r\n')[0]}` });
        this.socket.destroy();
        return;
      }
      this.state = 'open';
      this.#emit('open');
    }
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const op = this.buf[0] & 0x0f;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (op === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.subarray(2).toString('utf8');
        if (this.state === 'open') this.#frame(0x8, payload.subarray(0, 2));
        this.socket.end();
        this.#closed(code, reason, true);
        return;
      }
      if (op === 0x9) {
        this.#frame(0xa, payload);
        continue;
      }
      if (op === 0x1 || op === 0x2 || op === 0x0) {
        this.fragments.push({ op, payload: Buffer.from(payload) });
        if (!fin) continue;
        const first = this.fragments[0].op;
        const data = Buffer.concat(this.fragments.map((f) => f.payload));
        this.fragments = [];
        this.#emit('message', { data: first === 0x2 ? data : data.toString('utf8') });
      }
    }
  }

  #frame(op, payload) {
    const mask = randomBytes(4);
    let head;
    if (payload.length < 126) {
      head = Buffer.from([0x80 | op, 0x80 | payload.length]);
    } else if (payload.length < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | op;
      head[1] = 0x80 | 126;
      head.writeUInt16BE(payload.length, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | op;
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    const body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  send(text) {
    if (this.state !== 'open') throw new Error('RawWebSocket is not open');
    this.#frame(0x1, Buffer.from(String(text), 'utf8'));
  }

  sendBinary(bytes) {
    this.#frame(0x2, Buffer.from(bytes));
  }

  close(code = 1000) {
    if (this.state !== 'open') return;
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    this.#frame(0x8, p);
    this.state = 'closing';
  }

  /** Drops the TCP connection: no close frame, no FIN handshake (RST). */
  terminate() {
    this.socket.resetAndDestroy?.() ?? this.socket.destroy();
    this.#closed(1006, 'terminated by the test', false);
  }
}
