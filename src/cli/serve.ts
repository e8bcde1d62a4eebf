/**
 * `npm start`: runs the engine. With no flags it serves the embedded defaults: the LMDB catalog in ./data
 * (seeded with the demo catalog when empty) and the shipped model in models/shipped.
 */
import { optionsMarkdown, resolveOptions } from '../config/options.js';
import { describeAllocator } from '../runtime/allocator.js';
import { TxrankServer, type Logger } from '../server.js';
import { parseServeArgs } from './args.js';

const log: Logger = {
  info: (m) => console.log(`txrank: ${m}`),
  warn: (m) => console.warn(`txrank: warning: ${m}`),
};

async function main(): Promise<void> {
  let args;
  try {
    args = parseServeArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`txrank: ${err instanceof Error ? err.message : String(err)} (see --help)`);
    process.exit(2);
  }
  if (args.help || args.helpMarkdown) {
    if (args.help) console.log('usage: txrank-serve [options]\n\nEvery option is also an environment variable.\n');
    console.log(optionsMarkdown());
    return;
  }
  let server: TxrankServer;
  try {
    const options = resolveOptions(args.overrides, process.env);
    server = await TxrankServer.start(options, log);
  } catch (err) {
    console.error(`txrank: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    log.info(`${signal}: draining`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`txrank: shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  await server.waitReady(60_000).catch((err: unknown) => log.warn(String(err instanceof Error ? err.message : err)));
  log.info(`listening on ${server.url} (HTTP: http://${server.options.host}:${server.port}/readyz, /v1/info, /metrics)`);
  log.info(`model ${server.modelVersion}; pool of ${server.options.poolSize} inference worker(s)`);
  const allocator = describeAllocator(server.allocator, process.env);
  (allocator.warn ? log.warn : log.info)(allocator.message);
  const keys = server.developmentKeys;
  if (keys) {
    for (const [tenant, key] of Object.entries(keys.tenantKeys)) log.info(`development key for tenant ${tenant}: ${key}`);
    log.info(`development admin key: ${keys.adminKey}`);
    const [tenant, key] = Object.entries(keys.tenantKeys)[0] ?? [];
    if (tenant && key) {
      log.info(`try it: node dist/src/cli/try.js --url ${server.url} --key ${key} --tenant ${tenant}`);
    }
  }
}

void main();
