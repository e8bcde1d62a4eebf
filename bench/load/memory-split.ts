/**
 * Who holds a process's anonymous memory, from /proc/<pid>/smaps (Linux only), so that a benchmark can tell
 * memory that grows with model swaps from memory that grows with traffic:
 *
 *   mainHeap   the main thread's malloc heap (the "[heap]" mapping, grown by brk). On the server it holds
 *              the main thread's native allocations, above all the decision cache's entries (one small
 *              Buffer each, src/events/recent-decisions.ts): it grows with traffic until the cache is full.
 *   arenas     glibc's per-thread malloc arenas: each is mapped at a 64 MB-aligned address and never spans
 *              more than 64 MB. Worker threads' native allocations land here, ONNX Runtime sessions among
 *              them, so a model swap that leaked or fragmented native memory would show here.
 *   other      every other anonymous mapping: V8's heap pages, and blocks large enough that malloc maps them
 *              on their own.
 *
 * File-backed pages (LMDB's maps) are not split here: /proc/<pid>/status's RssFile has them.
 *
 * The arena test is a heuristic (a V8 page could happen to sit on a 64 MB boundary). And when the brk heap
 * cannot grow (a mapping sits above it), glibc's main arena goes on in mmapped memory, which lands in
 * "other": the 1,000-swap run of bench/RESULTS.md session 7 shows a 2 MB main heap for that reason. All
 * values in MB.
 */
import { readFileSync } from 'node:fs';

export interface MemorySplit {
  mainHeapMb: number;
  arenasMb: number;
  otherAnonMb: number;
}

const ARENA_BYTES = 64 * 1024 * 1024;
/** Thread arenas sit in the mmap area near the shared libraries (x86-64 Linux); V8 pages are placed far lower. */
const MMAP_AREA = 0x7f0000000000;

interface Mapping {
  start: number;
  end: number;
  name: string;
  anonKb: number;
}

function parse(text: string): Mapping[] {
  const maps: Mapping[] = [];
  let cur: Mapping | null = null;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1], 16), end: parseInt(head[2], 16), name: head[3].trim(), anonKb: 0 };
      maps.push(cur);
      continue;
    }
    const field = /^Anonymous:\s+(\d+) kB/.exec(line);
    if (field && cur) cur.anonKb = Number(field[1]);
  }
  return maps;
}

/** The split of `pid`'s memory, or null when /proc cannot be read (not Linux, or the process is gone). */
export function memorySplit(pid: number): MemorySplit | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  let mainHeap = 0;
  let arenas = 0;
  let other = 0;
  // An arena is one 64 MB region split into several mappings (its used part read-write, the rest reserved):
  // group unnamed mappings by region, then judge each region by its first mapping and its span.
  const regions = new Map<number, Mapping[]>();
  for (const m of parse(text)) {
    if (m.name === '[heap]') mainHeap += m.anonKb;
    else if (m.name === '') {
      const key = Math.floor(m.start / ARENA_BYTES);
      const list = regions.get(key);
      if (list) list.push(m);
      else regions.set(key, [m]);
    } else other += m.anonKb; // [stack], private copies of file pages and the like
  }
  for (const list of regions.values()) {
    let start = Infinity;
    let end = 0;
    let kb = 0;
    for (const m of list) {
      start = Math.min(start, m.start);
      end = Math.max(end, m.end);
      kb += m.anonKb;
    }
    if (start % ARENA_BYTES === 0 && end - start <= ARENA_BYTES && start >= MMAP_AREA) arenas += kb;
    else other += kb;
  }
  const mb = (kb: number): number => Math.round(kb / 1024);
  return { mainHeapMb: mb(mainHeap), arenasMb: mb(arenas), otherAnonMb: mb(other) };
}
