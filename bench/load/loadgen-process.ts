/**
 * The load generator as its own process: the coordinator forks this file (child_process.fork) and drives it
 * over IPC, one step at a time, so that neither the coordinator nor the server shares its event loop or its
 * CPU accounting with the generator.
 *
 *   coordinator -> {type:'run', seq, config, trafficFile}   runs one step, answers {type:'result', seq, result}
 *   coordinator -> {type:'exit'}                             exits
 */
import type { Transaction } from '../../src/protocol/messages.js';
import { runLoad, type LoadConfig, type LoadResult } from './loadgen.js';
import { readTraffic } from './traffic.js';

export type ToLoadgen = { type: 'run'; seq: number; config: LoadConfig; trafficFile: string } | { type: 'exit' };
export type FromLoadgen =
  | { type: 'ready' }
  | { type: 'result'; seq: number; result: LoadResult }
  | { type: 'failed'; seq: number; message: string };

const traffic = new Map<string, Transaction[]>();

async function onMessage(msg: ToLoadgen): Promise<void> {
  switch (msg.type) {
    case 'run': {
      try {
        let txns = traffic.get(msg.trafficFile);
        if (!txns) {
          txns = (await readTraffic(msg.trafficFile)).txns;
          traffic.set(msg.trafficFile, txns);
        }
        const result = await runLoad(msg.config, txns);
        send({ type: 'result', seq: msg.seq, result });
      } catch (err) {
        send({ type: 'failed', seq: msg.seq, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case 'exit':
      process.disconnect?.();
      process.exit(0);
      return;
    default: {
      const never: never = msg;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}

function send(m: FromLoadgen): void {
  process.send?.(m);
}

if (!process.send) {
  console.error('loadgen-process: run me through child_process.fork (the coordinator does)');
  process.exit(2);
}
process.on('message', (m) => void onMessage(m as ToLoadgen));
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
