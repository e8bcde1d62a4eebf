/**
 * Prints, as shell assignments, what the launcher (src/cli/serve.sh) adds to the server's environment: the
 * malloc to preload and its settings, or nothing (src/runtime/allocator.ts decides). Exits 2 with a message on
 * an invalid TXRANK_ALLOCATOR, so the launcher stops instead of starting on an allocator nobody chose.
 */
import { planAllocator, planAsShell } from '../runtime/allocator.js';

try {
  process.stdout.write(planAsShell(planAllocator(process.env)));
} catch (err) {
  console.error(`txrank: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
