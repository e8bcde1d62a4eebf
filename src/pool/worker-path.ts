/**
 * Where the compiled worker of a role lives. Worker threads run JavaScript, never TypeScript (Node 20 has no
 * TS loader), so whether this module runs compiled (dist/src/pool/*.js) or from source under vitest
 * (src/pool/*.ts), a worker is always dist/workers/<role>/worker.js; `npm test` builds it first.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type WorkerRole = 'inference' | 'catalog-loader' | 'trainer' | 'model-manager';

export function workerPath(role: WorkerRole): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = here.includes(`${'/'}dist${'/'}`);
  const root = compiled ? resolve(here, '../../..') : resolve(here, '../..');
  const file = resolve(root, `dist/workers/${role}/worker.js`);
  if (!existsSync(file)) {
    throw new Error(`${role} worker not built: ${file} is missing; run \`npm run build\``);
  }
  return file;
}
