/**
 * CPU and memory of another process from /proc (Linux): utime + stime of /proc/<pid>/stat (all threads of
 * the process, in clock ticks) and VmRSS of /proc/<pid>/status. Sampled on an interval during a step so the
 * report can give the server's CPU (% of one core; 200% = both cores of this machine) and RSS beside
 * every latency figure. readThreads gives the same CPU per thread, with each thread's nice value.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLK_TCK = 100;

export interface ProcSample {
  /** utime + stime, ms of CPU. */
  cpuMs: number;
  rssKb: number;
  /** Page faults so far, all threads: minor (no disk read: a fresh page, zeroed, or one in the page cache)
   * and major (read from disk). */
  minorFaults: number;
  majorFaults: number;
  atMs: number;
}

export function readProc(pid: number): ProcSample | null {
  try {
    const rest = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return {
      cpuMs: ((utime + stime) * 1000) / CLK_TCK,
      rssKb: m ? Number(m[1]) : 0,
      minorFaults: Number(rest[7]),
      majorFaults: Number(rest[9]),
      atMs: performance.now(),
    };
  } catch {
    return null;
  }
}

/** The fields of a /proc stat line after the command name (which may hold spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export interface ThreadCpu {
  tid: number;
  /** The thread's nice value (Linux keeps one per thread). */
  nice: number;
  /** utime + stime, ms of CPU. */
  cpuMs: number;
}

/** Every thread of process `pid`, from /proc/<pid>/task/<tid>/stat (a thread that ends meanwhile is skipped). */
export function readThreads(pid: number): Map<number, ThreadCpu> {
  const out = new Map<number, ThreadCpu>();
  for (const name of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = statFields(readFileSync(`/proc/${pid}/task/${name}/stat`, 'utf8'));
      out.set(Number(name), { tid: Number(name), nice: Number(f[16]), cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

export interface ProcUsage {
  /** Mean CPU over the window, % of one core. */
  cpuPercent: number;
  rssMeanMb: number;
  rssMaxMb: number;
}

export class ProcSampler {
  private first: ProcSample | null = null;
  private last: ProcSample | null = null;
  private rss: number[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.first = readProc(this.pid);
    this.last = this.first;
    this.rss = this.first ? [this.first.rssKb] : [];
    this.timer = setInterval(() => {
      const s = readProc(this.pid);
      if (!s) return;
      this.last = s;
      this.rss.push(s.rssKb);
    }, this.intervalMs);
  }

  stop(): ProcUsage | null {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const end = readProc(this.pid) ?? this.last;
    if (!this.first || !end || end.atMs <= this.first.atMs) return null;
    if (end !== this.last) this.rss.push(end.rssKb);
    const wall = end.atMs - this.first.atMs;
    return {
      cpuPercent: ((end.cpuMs - this.first.cpuMs) / wall) * 100,
      rssMeanMb: this.rss.reduce((a, b) => a + b, 0) / this.rss.length / 1024,
      rssMaxMb: Math.max(...this.rss) / 1024,
    };
  }
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
export function readSystemCpu(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Whole-machine CPU over a window, in % of one core (200% = both cores of a 2-core machine busy). The report
 * subtracts the server and the load generator to show how much else was running: on a shared machine that
 * is what makes two runs disagree.
 */
export class SystemCpuWindow {
  private readonly first = readSystemCpu();
  constructor(private readonly cores: number) {}
  stop(): number | null {
    const end = readSystemCpu();
    if (!this.first || !end || end.total <= this.first.total) return null;
    return ((end.busy - this.first.busy) / (end.total - this.first.total)) * 100 * this.cores;
  }
}

/**
 * Time the threads of `pid` spent runnable but waiting for a CPU, summed, in ms (the second field of
 * /proc/<pid>/task/<tid>/schedstat; needs a kernel with schedstats, else null). Rising while CPU use stays
 * flat, it says the threads are crowding each other (or the machine) in bursts that averages hide. With
 * `onlyTid`, that one thread's (tid = pid: the main thread).
 */
export function readRunQueueWaitMs(pid: number, onlyTid?: number): number | null {
  let ns = 0;
  let any = false;
  try {
    for (const name of onlyTid === undefined ? readdirSync(`/proc/${pid}/task`) : [String(onlyTid)]) {
      try {
        const f = readFileSync(`/proc/${pid}/task/${name}/schedstat`, 'utf8').trim().split(' ');
        ns += Number(f[1]);
        any = true;
      } catch {
        // the thread ended between the listing and the read
      }
    }
  } catch {
    return null;
  }
  return any ? ns / 1e6 : null;
}

/**
 * RSS split (Linux): anonymous (JS heaps, ONNX Runtime, malloc) versus file-backed (LMDB's memory maps, whose
 * pages count once touched, so the decision log written during a run shows up here, not as a leak). MB.
 */
export function readRssSplit(pid: number): { anonMb: number; fileMb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? 0);
    return { anonMb: Math.round(kb('RssAnon') / 1024), fileMb: Math.round((kb('RssFile') + kb('RssShmem')) / 1024) };
  } catch {
    return { anonMb: 0, fileMb: 0 };
  }
}
