/**
 * The coordinator's handle on a load generator process (loadgen-process.ts): fork it, run one step at a time
 * over IPC, close it. A benchmark that drives two servers at once forks two, so that neither server's load
 * waits behind the other's in one generator's event loop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { LoadConfig, LoadResult } from './loadgen.js';
import type { FromLoadgen, ToLoadgen } from './loadgen-process.js';

export class LoadgenClient {
  private seq = 0;
  private readonly waiters = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromLoadgen) => {
      if (m.type === 'ready') return;
      const w = this.waiters.get(m.seq);
      if (!w) return;
      this.waiters.delete(m.seq);
      if (m.type === 'result') w.resolve(m.result);
      else w.reject(new Error(`load generator: ${m.message}`));
    });
    child.on('exit', (code) => {
      for (const w of this.waiters.values()) w.reject(new Error(`load generator exited (${code})`));
      this.waiters.clear();
    });
  }

  static async start(): Promise<LoadgenClient> {
    const child = fork(new URL('./loadgen-process.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((r) => child.once('message', () => r()));
    return new LoadgenClient(child);
  }

  run(config: LoadConfig, trafficFile: string): Promise<LoadResult> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiters.set(seq, { resolve, reject });
      this.child.send({ type: 'run', seq, config, trafficFile } satisfies ToLoadgen);
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  close(): void {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies ToLoadgen);
  }
}
