// cli/process-check.ts: what `profile --pid` can say about a process before
// profiling it: gone, a kernel thread, not readable by this user.
import { ProfileError } from '../profile/errors';
import { ProcTarget } from '../profile/procfs';
import { failed } from './options';

/** Checks that PID is a user process whose memory map this user may read; returns its page size. */
export function checkProcess(pid: number): { pageSize: number } {
  if (process.platform !== 'linux') return { pageSize: 4096 }; // the profiler says it needs Linux
  try {
    const t = new ProcTarget(pid);
    t.maps();
    return { pageSize: t.pageSize() };
  } catch (err) {
    if (err instanceof ProfileError) throw failed(err.message);
    throw err;
  }
}
