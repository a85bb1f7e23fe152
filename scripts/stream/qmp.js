// qmp.js: a minimal QMP client (QEMU's JSON control protocol) over a unix socket.
'use strict';
const net = require('node:net');

class Qmp {
  /** Connects, reads the greeting and enters command mode. */
  static async connect(socketPath, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const q = new Qmp(await dial(socketPath));
        await q.greeting;
        await q.execute('qmp_capabilities');
        return q;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`QMP at ${socketPath}: ${err.message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  constructor(sock) {
    this.sock = sock;
    this.pending = [];
    this.events = [];
    this.buf = '';
    this.greeting = new Promise((resolve, reject) => {
      this.onGreeting = resolve;
      sock.once('error', reject);
      sock.once('close', () => reject(new Error('QMP socket closed before the greeting')));
    });
    sock.setEncoding('utf8');
    sock.on('data', (d) => this.onData(d));
    sock.on('close', () => {
      for (const p of this.pending.splice(0)) p.reject(new Error('QMP socket closed'));
    });
  }

  onData(d) {
    this.buf += d;
    let nl;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line);
      if (msg.QMP) this.onGreeting(msg);
      else if (msg.event) this.events.push(msg);
      else {
        const p = this.pending.shift();
        if (!p) continue;
        if (msg.error) p.reject(new Error(`${p.cmd}: ${msg.error.class}: ${msg.error.desc}`));
        else p.resolve(msg.return);
      }
    }
  }

  /** Runs one command; resolves to its "return" value. */
  execute(cmd, args) {
    return new Promise((resolve, reject) => {
      this.pending.push({ cmd, resolve, reject });
      this.sock.write(JSON.stringify(args ? { execute: cmd, arguments: args } : { execute: cmd }) + '\n');
    });
  }

  close() {
    this.sock.destroy();
  }
}

function dial(socketPath) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

module.exports = { Qmp };
