// qmp/errors.ts: the error every QMP failure raises. One class, one code;
// `reason` says which failure, and a command QEMU refused carries QEMU's own
// error class and description.

/** Why a QMP call failed. */
export type QmpReason =
  | 'command-failed' // QEMU answered with an error (see qmpClass, desc)
  | 'timeout' // no answer in time
  | 'closed' // the socket closed (QEMU exited, or close() was called)
  | 'connect-failed' // no QMP server at the path
  | 'protocol'; // the peer does not speak QMP (bad JSON, no greeting)

export class QmpError extends Error {
  readonly code = 'ERR_XBZRLE_QMP';
  readonly reason: QmpReason;
  /** The command, when the failure belongs to one. */
  readonly command?: string;
  /** QEMU's error class (e.g. "GenericError", "CommandNotFound"), for 'command-failed'. */
  readonly qmpClass?: string;
  /** QEMU's description, for 'command-failed'. */
  readonly desc?: string;

  constructor(reason: QmpReason, message: string, extra: { command?: string; qmpClass?: string; desc?: string; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'QmpError';
    this.reason = reason;
    if (extra.command !== undefined) this.command = extra.command;
    if (extra.qmpClass !== undefined) this.qmpClass = extra.qmpClass;
    if (extra.desc !== undefined) this.desc = extra.desc;
  }
}
