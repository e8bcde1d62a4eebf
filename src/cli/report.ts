/**
 * `txrank report`: the delivery report (docs/REPORTS.md) from a data directory, as a table or JSON. It opens
 * the storage read-only, so it runs beside a live server (LMDB readers never block the writer) and sees the
 * latest commit: events are counted exactly as committed, decisions up to the server's last flush (1 s).
 */
import { openStorage, type Storage } from '../catalog/store.js';
import { CounterReader } from '../reporting/layout.js';
import { renderJson, renderText } from '../reporting/render.js';
import { buildReport, resolveReportQuery, type ReportQuery } from '../reporting/report.js';
import { UsageError, dataDir, guarded, parseCommand, runIfMain, type CliIo } from './cli.js';

export const REPORT_USAGE = `usage:
  report [--data-dir <dir>] [--tenant <id>] [--placement <id>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
Per arm (ai model vs rules holdout), per campaign and per advertiser: impressions, clicks, conversions, CTR,
CVR, spend, RPM, ROAS and the AI lift with 95% confidence intervals (docs/REPORTS.md). Days are UTC days of
the decisions, both ends included. --json prints the report object instead of tables.
The data directory (--data-dir, or --data as in the other CLIs) defaults to $TXRANK_DATA_DIR, else ./data.`;

/** The tenants' currencies of the serving catalog, read without decoding its offers. */
function currencies(storage: Storage): Map<string, string> {
  const out = new Map<string, string>();
  const version = storage.catalog.currentVersion();
  if (version === null) return out;
  for (const t of storage.catalog.readTenants(version) ?? []) out.set(t.id, t.currency);
  return out;
}

/** Runs the report; resolves with the exit code (0 ok, 1 failed, 2 usage). */
export async function runReportCli(argv: string[], io: CliIo): Promise<number> {
  // The report has no sub-commands; parseCommand wants one, so it gets a fixed one (and --help works as
  // in the other CLIs).
  const parsed = parseCommand('report', REPORT_USAGE, ['show', ...argv], io, {
    'data-dir': { type: 'string' },
    data: { type: 'string' },
    tenant: { type: 'string' },
    placement: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (typeof parsed === 'number') return parsed;
  const { rest, values } = parsed;
  return guarded('report', REPORT_USAGE, io, async () => {
    if (rest.length === 1 && rest[0] === 'help') {
      io.out(REPORT_USAGE);
      return 0;
    }
    if (rest.length !== 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    if (values['data-dir'] !== undefined && values.data !== undefined) throw new UsageError('give --data-dir or --data, not both');
    const query: ReportQuery = { tenant: values.tenant, placement: values.placement, from: values.from, to: values.to };
    try {
      resolveReportQuery(query);
    } catch (err) {
      // A bad date or id is a mistake in the command line: usage and exit code 2.
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const storage = openStorage(dataDir(values['data-dir'] ?? values.data, io.env), { readOnly: true });
    try {
      const byTenant = currencies(storage);
      const report = buildReport(
        CounterReader.of(storage.root),
        query,
        { currencyOf: (t) => byTenant.get(t) },
      );
      if (values.json === true) io.out(renderJson(report, true));
      else io.out(renderText(report).trimEnd());
      return 0;
    } finally {
      await storage.close();
    }
  });
}

runIfMain(import.meta.url, 'report', runReportCli);
