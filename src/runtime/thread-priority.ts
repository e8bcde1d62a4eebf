/**
 * OS scheduling priority for the calling thread: the background threads (the model manager, the online
 * trainer) lower theirs so that, when the cores are short, the scheduler runs the serving threads (main and
 * inference workers) first.
 *
 * Why: on a 2-core machine a model swap costs ~20 ms of the manager's CPU (load check, canary) and the trainer
 * runs continuously; at normal priority both take their fair share from the threads a decision waits on.
 * Linux keeps a nice value per thread, so this thread alone is lowered; threads it starts later inherit it.
 * An unprivileged process can always lower its priority but not raise it back, so this is done once, at the
 * thread's start, and never undone.
 *
 * Linux only (the thread id comes from /proc/thread-self); elsewhere, or when the call is refused, it does
 * nothing and says so in the result. It never throws: a priority is an optimisation, not a requirement.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export type PriorityResult = { applied: true; tid: number; nice: number } | { applied: false; reason: string };

/** Sets the calling thread's nice value to `nice` (0 = leave it as it is, 19 = lowest priority). */
export function lowerThreadPriority(nice: number): PriorityResult {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) return { applied: false, reason: `nice must be an integer 0..19, got ${nice}` };
  if (nice === 0) return { applied: false, reason: 'nice 0: priority left unchanged' };
  if (process.platform !== 'linux') return { applied: false, reason: `per-thread priority is not supported on ${process.platform}` };
  try {
    // "<pid>/task/<tid>": on Linux setpriority(PRIO_PROCESS, tid) applies to that one thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return { applied: false, reason: 'cannot read this thread id from /proc/thread-self' };
    setPriority(tid, nice);
    return { applied: true, tid, nice };
  } catch (err) {
    return { applied: false, reason: (err as Error).message };
  }
}
