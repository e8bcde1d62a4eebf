/**
 * The report as text: fixed-width tables for a terminal or a plain-text response. JSON is the report object
 * itself (report.ts); this is only for people. Money is shown to 2 decimals in the tenant's currency, rates
 * as percentages, ROAS as a multiple, lifts as signed percentages with their 95% interval.
 */
import type { LiftFigure } from './lift.js';
import type { Figures, Report, TenantReport } from './report.js';

type Align = 'left' | 'right';

interface Column<T> {
  title: string;
  align: Align;
  cell: (row: T) => string;
}

/** Columns padded to their widest cell, two spaces apart, a dashed line under the titles. */
export function table<T>(columns: readonly Column<T>[], rows: readonly T[]): string[] {
  const cells = rows.map((r) => columns.map((c) => c.cell(r)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (columns[i].align === 'left' ? v.padEnd(widths[i]) : v.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
}

const DASH = '-';

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatMoney(x: number | null): string {
  return x === null ? DASH : x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function formatPercent(x: number | null, digits = 2): string {
  return x === null ? DASH : `${(x * 100).toFixed(digits)}%`;
}

export function formatSignedPercent(x: number | null): string {
  if (x === null) return DASH;
  const p = (x * 100).toFixed(1);
  return x >= 0 && !p.startsWith('-') ? `+${p}%` : `${p}%`;
}

export function formatMultiple(x: number | null): string {
  return x === null ? DASH : `${x.toFixed(2)}x`;
}

export function formatInterval(ci: [number, number] | null): string {
  return ci === null ? DASH : `[${formatSignedPercent(ci[0])}, ${formatSignedPercent(ci[1])}]`;
}

/** Columns every breakdown shares, after its own key columns. */
function figureColumns<T extends Figures>(): Column<T>[] {
  return [
    { title: 'served', align: 'right', cell: (r) => formatCount(r.served) },
    { title: 'impr', align: 'right', cell: (r) => formatCount(r.impressions) },
    { title: 'clicks', align: 'right', cell: (r) => formatCount(r.clicks) },
    { title: 'conv', align: 'right', cell: (r) => formatCount(r.conversions) },
    { title: 'CTR', align: 'right', cell: (r) => formatPercent(r.ctr) },
    { title: 'CVR', align: 'right', cell: (r) => formatPercent(r.cvr) },
    { title: 'conv/impr', align: 'right', cell: (r) => formatPercent(r.conversionsPerImpression, 3) },
    { title: 'spend', align: 'right', cell: (r) => formatMoney(r.spend) },
    { title: 'RPM', align: 'right', cell: (r) => formatMoney(r.rpm) },
    { title: 'conv value', align: 'right', cell: (r) => formatMoney(r.conversionValue) },
    { title: 'ROAS', align: 'right', cell: (r) => formatMultiple(r.roas) },
  ];
}

const LIFT_ROWS: readonly { name: string; key: keyof TenantReport['lift']; money: boolean }[] = [
  { name: 'CTR (clicks / impressions)', key: 'ctr', money: false },
  { name: 'CVR (conversions / clicks)', key: 'cvr', money: false },
  { name: 'conversions / impression', key: 'conversionsPerImpression', money: false },
  { name: 'RPM (spend / 1000 impressions)', key: 'rpm', money: true },
];

function renderTenant(t: TenantReport): string[] {
  const out: string[] = [];
  out.push(`== ${t.tenant}${t.currency ? ` (money in ${t.currency})` : ''} ==`);
  const total = t.holdout.ai + t.holdout.rules;
  out.push(
    `holdout: rules served ${formatPercent(t.holdout.rulesShare, 1)} of ${formatCount(total)} decisions (ai ${formatCount(t.holdout.ai)}, rules ${formatCount(t.holdout.rules)})`,
  );
  out.push('');
  out.push(
    ...table(
      [
        { title: 'arm', align: 'left', cell: (r) => r.arm },
        { title: 'decisions', align: 'right', cell: (r) => formatCount(r.decisions) },
        ...figureColumns<TenantReport['arms'][number]>(),
      ],
      t.arms,
    ),
  );
  out.push('');
  out.push('AI lift (ai vs rules, 95% confidence interval)');
  out.push(
    ...table<{ name: string; money: boolean; f: LiftFigure }>(
      [
        { title: 'figure', align: 'left', cell: (r) => r.name },
        { title: 'ai', align: 'right', cell: (r) => (r.money ? formatMoney(r.f.ai) : formatPercent(r.f.ai, 3)) },
        { title: 'rules', align: 'right', cell: (r) => (r.money ? formatMoney(r.f.rules) : formatPercent(r.f.rules, 3)) },
        { title: 'lift', align: 'right', cell: (r) => formatSignedPercent(r.f.lift) },
        { title: '95% CI', align: 'left', cell: (r) => formatInterval(r.f.ci95) },
      ],
      LIFT_ROWS.map((l) => ({ name: l.name, money: l.money, f: t.lift[l.key] })),
    ),
  );
  if (t.campaigns.length > 0) {
    out.push('');
    out.push('by campaign');
    out.push(
      ...table(
        [
          { title: 'campaign', align: 'left', cell: (r) => r.campaign || '(none)' },
          { title: 'advertiser', align: 'left', cell: (r) => r.advertiser || '(none)' },
          { title: 'arm', align: 'left', cell: (r) => r.arm },
          ...figureColumns<TenantReport['campaigns'][number]>(),
        ],
        t.campaigns,
      ),
    );
  }
  if (t.advertisers.length > 0) {
    out.push('');
    out.push('by advertiser');
    out.push(
      ...table(
        [
          { title: 'advertiser', align: 'left', cell: (r) => r.advertiser || '(none)' },
          { title: 'arm', align: 'left', cell: (r) => r.arm },
          ...figureColumns<TenantReport['advertisers'][number]>(),
        ],
        t.advertisers,
      ),
    );
  }
  return out;
}

/** The report as text lines joined with newlines, ending with one. */
export function renderText(report: Report): string {
  const out: string[] = [];
  const span = report.from === null && report.to === null ? 'all days' : `${report.from ?? 'start'} .. ${report.to ?? 'today'}`;
  out.push(`txrank delivery report: ${span} (UTC days of the decisions); tenant ${report.tenant ?? 'all'}; placement ${report.placement ?? 'all'}`);
  out.push(`generated ${report.generatedAt}`);
  if (report.tenants.length === 0) {
    out.push('');
    out.push('no data for this selection');
  }
  for (const t of report.tenants) {
    out.push('');
    out.push(...renderTenant(t));
  }
  return `${out.join('\n')}\n`;
}

/** The report as JSON text (pretty when asked, for a terminal). */
export function renderJson(report: Report, pretty = false): string {
  return JSON.stringify(report, null, pretty ? 2 : undefined);
}
