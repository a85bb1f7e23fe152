// qmp/client.ts: a client of QEMU's machine protocol (QMP) over a unix
// socket, on node:net alone. QMP is one JSON object per line: a greeting,
// then `qmp_capabilities` enters command mode; each command gets exactly one
// reply ({return} or {error}), and events arrive in between. We tag every
// command with an `id`, which QEMU echoes, so replies match their commands
// even when several are in flight. Every wait has a deadline, and a socket
// that closes rejects whatever is pending: a dead QEMU is an error, never a
// hang.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { QmpError } from './errors';
import type { QmpCommands, QmpEvent, QmpGreeting } from './types';

export interface QmpConnectOptions {
  /** Milliseconds to reach the socket and finish the handshake (default 10000). Retries while the socket does not exist yet or refuses. */
  timeout?: number;
  /** Default deadline of each command, milliseconds (default 30000). */
  commandTimeout?: number;
}

export interface QmpExecuteOptions {
  /** Milliseconds before the command fails with reason 'timeout' (default: the client's commandTimeout). */
  timeout?: number;
}

interface Pending {
  command: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

type ArgsOf<K extends keyof QmpCommands> = QmpCommands[K]['args'];

/**
 * A connected QMP session. Emits 'event' (every QMP event), the event's own
 * name (e.g. 'MIGRATION' with the event), and 'close' (with the error that
 * closed it, if any).
 */
export class QmpClient extends EventEmitter {
  /** The greeting QEMU sent (its version and capabilities). */
  greeting!: QmpGreeting;
  /** Default command deadline, milliseconds. */
  commandTimeout: number;
  private readonly sock: net.Socket;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buf = '';
  private closedBy: QmpError | null = null;

  /** Connects to the QMP socket at `path`, reads the greeting and enters command mode. */
  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    if (typeof path !== 'string' || path === '') throw new TypeError(`path must be a non-empty string, received ${typeof path === 'string' ? '""' : typeof path}`);
    const timeout = options.timeout ?? 10_000;
    const commandTimeout = options.commandTimeout ?? 30_000;
    for (const [name, v] of [['timeout', timeout], ['commandTimeout', commandTimeout]] as const) {
      if (typeof v !== 'number' || !(v > 0)) throw new RangeError(`${name} must be a positive number of milliseconds, received ${String(v)}`);
    }
    const deadline = Date.now() + timeout;
    for (;;) {
      let sock: net.Socket;
      try {
        sock = await dial(path, deadline - Date.now());
      } catch (err) {
        if (err instanceof QmpError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        const retry = code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EAGAIN';
        if (retry && Date.now() + 50 < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        throw new QmpError('connect-failed', `QMP ${path}: cannot connect: ${(err as Error).message}`, { cause: err });
      }
      const client = new QmpClient(sock, commandTimeout);
      try {
        client.greeting = await client.waitGreeting(path, Math.max(1, deadline - Date.now()));
        await client.execute('qmp_capabilities', undefined, { timeout: Math.max(1, deadline - Date.now()) });
      } catch (err) {
        client.close();
        throw err;
      }
      return client;
    }
  }

  private greetingWaiter: ((g: QmpGreeting) => void) | null = null;

  private constructor(sock: net.Socket, commandTimeout: number) {
    super();
    this.sock = sock;
    this.commandTimeout = commandTimeout;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    // A QEMU that dies mid-command may reset the socket rather than close it.
    sock.on('error', (err) => this.shut(new QmpError('closed', `QMP socket failed (QEMU exited or closed the monitor): ${err.message}`, { cause: err })));
    sock.on('close', () => this.shut(new QmpError('closed', 'QMP socket closed (QEMU exited or closed the monitor)')));
  }

  /** True once the socket has closed. */
  get closed(): boolean {
    return this.closedBy !== null;
  }

  private waitGreeting(path: string, ms: number): Promise<QmpGreeting> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new QmpError('timeout', `QMP ${path}: no greeting within ${ms} ms`));
      }, ms);
      const onClose = (err: QmpError | null): void => {
        cleanup();
        reject(err ?? new QmpError('closed', `QMP ${path}: closed before the greeting`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.greetingWaiter = null;
        this.off('close', onClose);
      };
      this.once('close', onClose);
      this.greetingWaiter = (g) => {
        cleanup();
        resolve(g);
      };
    });
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.onMessage(line);
      if (this.closed) return;
    }
    if (this.buf.length > 64 << 20) this.fail(new QmpError('protocol', 'QMP: a message longer than 64 MiB without a newline'));
  }

  private onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.fail(new QmpError('protocol', `QMP: not JSON: ${line.slice(0, 80)}`));
      return;
    }
    if (msg === null || typeof msg !== 'object') {
      this.fail(new QmpError('protocol', `QMP: not an object: ${line.slice(0, 80)}`));
      return;
    }
    if ('QMP' in msg) {
      this.greetingWaiter?.(msg as unknown as QmpGreeting);
      return;
    }
    if (typeof msg.event === 'string') {
      const ev = msg as unknown as QmpEvent;
      this.emit('event', ev);
      this.emit(ev.event, ev);
      return;
    }
    const id = typeof msg.id === 'number' ? msg.id : null;
    const p = id === null ? undefined : this.pending.get(id);
    if (!p) return; // a reply to a command that already timed out
    this.pending.delete(id!);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = (msg.error ?? {}) as { class?: string; desc?: string };
      const cls = String(e.class ?? 'GenericError');
      const desc = String(e.desc ?? '');
      p.reject(new QmpError('command-failed', `QMP ${p.command}: ${cls}: ${desc}`, { command: p.command, qmpClass: cls, desc }));
    } else p.resolve(msg.return);
  }

  /**
   * Runs one command and resolves to its reply. Rejects with a QmpError:
   * 'command-failed' (QEMU's class and desc), 'timeout', or 'closed'.
   */
  execute<K extends keyof QmpCommands>(command: K, args?: ArgsOf<K>, options?: QmpExecuteOptions): Promise<QmpCommands[K]['ret']>;
  execute(command: string, args?: Record<string, unknown>, options?: QmpExecuteOptions): Promise<unknown>;
  execute(command: string, args?: object, options: QmpExecuteOptions = {}): Promise<unknown> {
    if (typeof command !== 'string' || command === '') return Promise.reject(new TypeError('command must be a non-empty string'));
    if (args !== undefined && (args === null || typeof args !== 'object')) return Promise.reject(new TypeError(`arguments of ${command} must be an object`));
    const timeout = options.timeout ?? this.commandTimeout;
    if (typeof timeout !== 'number' || !(timeout > 0)) return Promise.reject(new RangeError(`timeout must be a positive number of milliseconds, received ${String(timeout)}`));
    if (this.closedBy) return Promise.reject(new QmpError('closed', `QMP ${command}: ${this.closedBy.message}`, { command }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpError('timeout', `QMP ${command}: no reply within ${timeout} ms`, { command }));
      }, timeout);
      this.pending.set(id, { command, resolve, reject, timer });
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.sock.write(JSON.stringify(msg) + '\n');
    });
  }

  /** Resolves with the next event named `name` (and matching `filter`), or rejects on timeout or close. */
  waitEvent(name: string, timeout = this.commandTimeout, filter: (e: QmpEvent) => boolean = () => true): Promise<QmpEvent> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    return new Promise((resolve, reject) => {
      const onEvent = (e: QmpEvent): void => {
        if (!filter(e)) return;
        done();
        resolve(e);
      };
      const onClose = (err: QmpError | null): void => {
        done();
        reject(err ?? new QmpError('closed', 'QMP socket closed'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new QmpError('timeout', `QMP: no ${name} event within ${timeout} ms`));
      }, timeout);
      const done = (): void => {
        clearTimeout(timer);
        this.off(name, onEvent);
        this.off('close', onClose);
      };
      this.on(name, onEvent);
      this.once('close', onClose);
    });
  }

  /** Closes the socket; pending commands reject with reason 'closed'. */
  close(): void {
    this.shut(new QmpError('closed', 'QMP client closed'));
    this.sock.destroy();
  }

  private fail(err: QmpError): void {
    this.shut(err);
    this.sock.destroy();
  }

  private shut(err: QmpError): void {
    if (this.closedBy) return;
    this.closedBy = err;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new QmpError(err.reason === 'protocol' ? 'protocol' : 'closed', `QMP ${p.command}: ${err.message}`, { command: p.command, cause: err.cause }));
    }
    this.emit('close', err);
  }
}

function dial(path: string, ms: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new QmpError('timeout', `QMP ${path}: no connection within ${ms} ms`));
    }, Math.max(1, ms));
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
