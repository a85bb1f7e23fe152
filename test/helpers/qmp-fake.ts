// A scripted fake QMP server on a unix socket, for the QMP client and
// governor tests.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const GREETING = { QMP: { version: { qemu: { major: 9, minor: 0, micro: 0 }, package: '' }, capabilities: ['oob'] } };

export type Handler = (cmd: { execute: string; arguments?: Record<string, unknown>; id?: unknown }, sock: net.Socket) => void;

/** A fake QMP server; `handler` answers every command after qmp_capabilities. */
export async function fakeServer(handler: Handler, opts: { greeting?: string | null } = {}): Promise<{ path: string; close(): Promise<void>; sockets: net.Socket[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-qmp-'));
  const p = path.join(dir, 'qmp.sock');
  const sockets: net.Socket[] = [];
  const server = net.createServer((sock) => {
    sockets.push(sock);
    if (opts.greeting !== null) sock.write((opts.greeting ?? JSON.stringify(GREETING)) + '\r\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (cmd.execute === 'qmp_capabilities') sock.write(JSON.stringify({ return: {}, id: cmd.id }) + '\r\n');
        else handler(cmd, sock);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(p, r));
  return {
    path: p,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          fs.rmSync(dir, { recursive: true, force: true });
          r();
        });
      }),
  };
}

export const reply = (sock: net.Socket, id: unknown, body: object) => sock.write(JSON.stringify({ ...body, id }) + '\r\n');
