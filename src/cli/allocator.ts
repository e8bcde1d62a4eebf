/**
 * Prints the library the launcher (src/cli/serve.sh) should preload as the server's malloc, or nothing:
 * src/runtime/allocator.ts decides. Exits 2 with a message on an invalid TXRANK_ALLOCATOR, so the launcher
 * stops instead of starting on an allocator nobody chose.
 */
import { planAllocator } from '../runtime/allocator.js';

try {
  const plan = planAllocator(process.env);
  if (plan.preload) process.stdout.write(`${plan.preload}\n`);
} catch (err) {
  console.error(`txrank: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
