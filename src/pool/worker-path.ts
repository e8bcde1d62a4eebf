/**
 * Where the compiled inference worker lives. Worker threads run JavaScript, never TypeScript (Node 20 has no
 * TS loader), so whether this module runs compiled (dist/src/pool/*.js) or from source under vitest
 * (src/pool/*.ts), the worker is always dist/workers/inference/worker.js; `npm test` builds it first.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function inferenceWorkerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = here.includes(`${'/'}dist${'/'}`);
  const root = compiled ? resolve(here, '../../..') : resolve(here, '../..');
  const file = resolve(root, 'dist/workers/inference/worker.js');
  if (!existsSync(file)) {
    throw new Error(`inference worker not built: ${file} is missing; run \`npm run build\``);
  }
  return file;
}
