// profile/errors.ts: the failures an operator can act on, with what to do.
import * as fs from 'node:fs';
import { ProfileError } from '../util/errors';

export { ProfileError, type ProfileErrorReason } from '../util/errors';
/** The old name of ProfileErrorReason (the value is now `reason`; `code` is ERR_XBZRLE_PROFILE). */
export type { ProfileErrorReason as ProfileErrorCode } from '../util/errors';

function ptraceScope(): string {
  try {
    const v = fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim();
    return v === '0' ? '' : ` (kernel.yama.ptrace_scope is ${v} here: at 1 only a parent may read a process; set it to 0 with "sysctl kernel.yama.ptrace_scope=0", or run as root)`;
  } catch {
    return '';
  }
}

/** The error for a process that is not there. */
export function noProcess(pid: number): ProfileError {
  return new ProfileError('no-process', `no process with PID ${pid}: it does not exist or has exited`);
}

/**
 * The error for a process whose maps are empty: a kernel thread (it has no
 * user memory at all), else one that has exited (a zombie).
 */
export function noMemory(pid: number, dir: string): ProfileError {
  try {
    const stat = fs.readFileSync(`${dir}/stat`, 'latin1');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const PF_KTHREAD = 0x00200000;
    if (fields[0] === 'Z') return new ProfileError('no-process', `PID ${pid} (${comm}) has exited (a zombie has no memory)`);
    if ((Number(fields[6]) & PF_KTHREAD) !== 0) {
      return new ProfileError('no-region', `PID ${pid} (${comm}) is a kernel thread: it has no user memory to profile; give the PID of a QEMU (or other user) process`);
    }
  } catch {
    /* gone meanwhile */
  }
  return noProcess(pid);
}

/** The error for a /proc file this user may not read or write. */
export function noPermission(pid: number, file: string): ProfileError {
  const who = typeof process.getuid === 'function' ? ` (running as uid ${process.getuid()})` : '';
  return new ProfileError(
    'no-permission',
    `permission denied on ${file}${who}: reading another process's memory needs ptrace access to PID ${pid}. ` +
      `Run as root, or give node CAP_SYS_PTRACE (e.g. "sudo setcap cap_sys_ptrace+ep $(command -v node)"), ` +
      `or run as the same user as the process where kernel.yama.ptrace_scope allows it${ptraceScope()}.`,
  );
}

/**
 * Turns an fs error on /proc/PID/... into a ProfileError when it means the
 * process is gone or access is denied; rethrows anything else.
 */
export function procError(err: unknown, pid: number, file: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ESRCH') throw noProcess(pid);
  if (code === 'EACCES' || code === 'EPERM') throw noPermission(pid, file);
  throw err;
}
