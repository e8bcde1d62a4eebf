/**
 * `txrank keys`: mint, list and revoke API keys in the LMDB environment. Works while the server runs: the
 * server verifies against the same LMDB DB, so a minted key works and a revoked one stops working at once.
 */
import { openStorage } from '../catalog/store.js';
import { MIN_REVOKE_PREFIX } from '../tenants/keys.js';
import { UsageError, dataDir, guarded, parseCommand, runIfMain, type CliIo } from './cli.js';

export const KEYS_USAGE = `usage:
  keys mint (--tenant <id> | --admin) [--label <text>] [--data <dir>]
                                   mint a key; its plaintext is printed once and never stored
  keys list [--data <dir>]         list keys (hash prefix, role, tenant, label, created)
  keys revoke <label|hash-prefix> [--data <dir>]
                                   revoke by exact label, or by a hash prefix of at least ${MIN_REVOKE_PREFIX} hex digits
The data directory defaults to $TXRANK_DATA_DIR, else ./data.`;

export async function runKeysCli(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('keys', KEYS_USAGE, argv, io, {
    data: { type: 'string' },
    tenant: { type: 'string' },
    admin: { type: 'boolean' },
    label: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { command, rest, values } = parsed;
  return guarded('keys', KEYS_USAGE, io, async () => {
    switch (command) {
      case 'mint': {
        if (rest.length !== 0) throw new UsageError('keys mint takes no positional arguments');
        const admin = values.admin === true;
        if (admin === (values.tenant !== undefined)) throw new UsageError('give exactly one of --tenant <id> or --admin');
        const storage = openStorage(dataDir(values.data, io.env));
        try {
          const tenant = values.tenant ?? null;
          if (tenant !== null) {
            const snapshot = storage.catalog.readCurrent();
            if (snapshot !== null && !snapshot.tenants.some((t) => t.id === tenant)) {
              io.err(`keys: warning: tenant "${tenant}" is not in the serving catalog (v${snapshot.version}); the key works once it is`);
            }
          }
          const label = values.label ?? (admin ? 'admin' : `tenant:${tenant ?? ''}`);
          const key = await storage.keys.mint(admin ? 'admin' : 'tenant', tenant, label);
          io.out(key);
          io.err(`keys: minted ${admin ? 'an admin' : `a tenant "${tenant ?? ''}"`} key labelled "${label}"; it is shown only this once`);
          return 0;
        } finally {
          await storage.close();
        }
      }
      case 'list': {
        if (rest.length !== 0) throw new UsageError('keys list takes no positional arguments');
        const storage = openStorage(dataDir(values.data, io.env));
        try {
          const keys = storage.keys.list();
          if (keys.length === 0) io.out('no keys');
          for (const k of keys) {
            io.out(`${k.hash.slice(0, 12)}  ${k.role.padEnd(6)}  ${(k.tenant ?? '-').padEnd(16)}  ${new Date(k.createdAt).toISOString()}  ${k.label}`);
          }
          return 0;
        } finally {
          await storage.close();
        }
      }
      case 'revoke': {
        if (rest.length !== 1) throw new UsageError('keys revoke takes exactly one label or hash prefix');
        const storage = openStorage(dataDir(values.data, io.env));
        try {
          const n = await storage.keys.revoke(rest[0]);
          if (n === 0) {
            io.err(`keys: no key has label "${rest[0]}" or a hash starting with it`);
            return 1;
          }
          io.out(`revoked ${n} key(s)`);
          return 0;
        } finally {
          await storage.close();
        }
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  });
}

runIfMain(import.meta.url, 'keys', runKeysCli);
