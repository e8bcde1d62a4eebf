/**
 * `txrank ope`: off-policy evaluation from the decision log's propensities (src/reporting/ope.ts): per tenant,
 * placement and arm, the observed slot-1 CTR and the estimated CTR had the placement never explored. Opens the
 * storage read-only, so it runs beside a live server.
 */
import { openStorage } from '../catalog/store.js';
import { offPolicyEstimate, renderOpe } from '../reporting/ope.js';
import { UsageError, dataDir, guarded, parseCommand, runIfMain, type CliIo } from './cli.js';

export const OPE_USAGE = `usage:
  ope [--data <dir>] [--tenant <id>] [--placement <id>] [--hours <n>] [--json]
Off-policy evaluation from logged propensities: per tenant, placement and arm, slot-1 CTR as served and as
the greedy policy (no exploration) would have had it, estimated by self-normalised inverse propensity
scoring with a 95% interval (docs/REPORTS.md). --hours limits to decisions of the last n hours (default:
all retained). The data directory defaults to $TXRANK_DATA_DIR, else ./data.`;

export async function runOpeCli(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('ope', OPE_USAGE, ['show', ...argv], io, {
    data: { type: 'string' },
    tenant: { type: 'string' },
    placement: { type: 'string' },
    hours: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (typeof parsed === 'number') return parsed;
  const { rest, values } = parsed;
  return guarded('ope', OPE_USAGE, io, async () => {
    if (rest.length !== 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    let fromMs: number | undefined;
    if (values.hours !== undefined) {
      const h = Number(values.hours);
      if (!(Number.isFinite(h) && h > 0)) throw new UsageError('--hours must be a positive number');
      fromMs = Date.now() - h * 3_600_000;
    }
    const storage = openStorage(dataDir(values.data, io.env), { readOnly: true });
    try {
      const rows = offPolicyEstimate(storage.root, { tenant: values.tenant, placement: values.placement, fromMs });
      io.out(values.json === true ? JSON.stringify(rows, null, 2) : renderOpe(rows));
      return 0;
    } finally {
      await storage.close();
    }
  });
}

runIfMain(import.meta.url, 'ope', runOpeCli);
