import { describe, expect, it } from 'vitest';
import { parseCatalogJsonl, parseIsoTime, pointerToField, type CatalogIssue } from '../src/catalog/jsonl.js';

const NOW = Date.UTC(2025, 5, 15, 12);

const tenant = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: 'tenant',
    id: 'freshmart',
    name: 'FreshMart',
    currency: 'USD',
    placements: [{ id: 'checkout', name: 'Checkout', slots: 3 }],
    ...over,
  });

const offer = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: 'offer',
    id: 'o1',
    tenant: 'freshmart',
    advertiser: 'acme',
    campaign: 'acme-spring',
    category: 'beverages/coffee/ground',
    title: 'Save $2 on Acme Cold Brew 32oz',
    creative: { headline: 'Save $2', image_url: 'https://cdn.example/a.jpg' },
    bid: { type: 'cpc', amount: 0.8 },
    price: 6.99,
    status: 'active',
    start: '2025-06-01',
    end: '2025-07-01T00:00:00Z',
    ...over,
  });

function errorsOf(text: string): CatalogIssue[] {
  const r = parseCatalogJsonl(text, NOW);
  if (r.ok) throw new Error('expected the catalog to be refused');
  return r.errors;
}

function has(errors: CatalogIssue[], line: number, field: string, message?: RegExp): void {
  const hit = errors.find((e) => e.line === line && e.field === field && (message === undefined || message.test(e.message)));
  expect(hit, `no issue at line ${line} field "${field}" in ${JSON.stringify(errors, null, 1)}`).toBeDefined();
}

describe('parseCatalogJsonl: valid input', () => {
  it('parses tenants and offers, converts times to ms and drops kind', () => {
    const r = parseCatalogJsonl([tenant(), offer()].join('\n'), NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.tenants).toEqual([
      {
        id: 'freshmart',
        name: 'FreshMart',
        currency: 'USD',
        placements: [
          {
            id: 'checkout',
            name: 'Checkout',
            slots: 3,
            floorCpm: 0,
            minRelevance: 0,
            pricing: 'gsp',
            exploration: { epsilon: 0, pool: 10 },
            categoryExclusivity: false,
            holdout: 0,
            blockedAdvertisers: [],
            blockedCategories: [],
          },
        ],
        blockedAdvertisers: [],
        blockedCategories: [],
      },
    ]);
    expect(r.offers).toHaveLength(1);
    const o = r.offers[0];
    expect(o.start).toBe(Date.UTC(2025, 5, 1));
    expect(o.end).toBe(Date.UTC(2025, 6, 1));
    expect('kind' in o).toBe(false);
    expect(o.bid).toEqual({ type: 'cpc', amount: 0.8 });
  });

  it('ignores blank lines, comments, CRLF and a BOM; accepts ms numbers; price is optional and absent', () => {
    const text =
      '\ufeff# a comment\r\n\r\n' +
      tenant() +
      '\r\n   \r\n  # indented comment\r\n' +
      offer({ price: undefined, start: Date.UTC(2025, 0, 1), end: Date.UTC(2025, 11, 31) }) +
      '\r\n';
    const r = parseCatalogJsonl(text, NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.offers[0].start).toBe(Date.UTC(2025, 0, 1));
    expect('price' in r.offers[0]).toBe(false);
  });

  it('sorts offers by (tenant, id) so each tenant is one contiguous block, and tenants by id', () => {
    const lines = [
      tenant({ id: 'zeta' }),
      tenant({ id: 'alpha' }),
      offer({ id: 'b', tenant: 'zeta' }),
      offer({ id: 'c', tenant: 'alpha' }),
      offer({ id: 'a', tenant: 'zeta' }),
      offer({ id: 'a2', tenant: 'alpha' }),
      offer({ id: 'B', tenant: 'alpha' }),
    ];
    const r = parseCatalogJsonl(lines.join('\n'), NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.tenants.map((t) => t.id)).toEqual(['alpha', 'zeta']);
    // Code-unit order: upper case sorts before lower case, whatever the machine's locale.
    expect(r.offers.map((o) => `${o.tenant}/${o.id}`)).toEqual(['alpha/B', 'alpha/a2', 'alpha/c', 'zeta/a', 'zeta/b']);
  });

  it('accepts offers that precede their tenant in the file', () => {
    expect(parseCatalogJsonl([offer(), tenant()].join('\n'), NOW).ok).toBe(true);
  });
});

describe('parseCatalogJsonl: every problem, with its line and field', () => {
  it('reports every invalid record, not just the first, in line order', () => {
    const lines = [
      tenant(), // 1
      offer({ id: 'o1', bid: { type: 'cpc', amount: 0 } }), // 2
      offer({ id: 'o2' }), // 3 valid
      offer({ id: 'o3', status: 'live' }), // 4
      '{not json', // 5
      offer({ id: 'o4', price: -1 }), // 6
    ];
    const errors = errorsOf(lines.join('\n'));
    expect(errors.map((e) => e.line)).toEqual([2, 4, 5, 6]);
    has(errors, 2, 'bid.amount', /greater than 0/);
    has(errors, 4, 'status', /"active", "paused", "archived"/);
    has(errors, 5, '', /invalid JSON/);
    has(errors, 6, 'price', /greater or equal to 0/);
  });

  it('reports several bad fields of one record', () => {
    const errors = errorsOf([tenant(), offer({ bid: { type: 'cpx', amount: 'one' }, title: '', extra: 1 })].join('\n'));
    has(errors, 2, 'bid.type', /"cpm", "cpc", "cpa"/);
    has(errors, 2, 'bid.amount', /number/);
    has(errors, 2, 'title');
    has(errors, 2, 'extra', /unknown field/);
  });

  it('reports missing required fields by name', () => {
    const o = JSON.parse(offer()) as Record<string, unknown>;
    delete o.advertiser;
    delete o.end;
    const errors = errorsOf([tenant(), JSON.stringify(o)].join('\n'));
    has(errors, 2, 'advertiser', /missing/);
    has(errors, 2, 'end', /missing/);
  });

  it('reports unknown and missing kinds, non-object lines', () => {
    const errors = errorsOf([tenant(), '{"kind":"coupon","id":"x"}', '{"id":"x"}', '[1,2]', '42'].join('\n'));
    has(errors, 2, 'kind', /unknown kind; must be one of "tenant", "offer", "campaign", "rule"/);
    has(errors, 3, 'kind', /missing/);
    has(errors, 4, '', /JSON object/);
    has(errors, 5, '', /JSON object/);
  });

  it('reports duplicate offer ids and duplicate tenant ids at the later line, naming the first', () => {
    const errors = errorsOf([tenant(), offer({ id: 'dup' }), tenant(), offer({ id: 'dup' })].join('\n'));
    has(errors, 3, 'id', /duplicate tenant id \(first defined on line 1\)/);
    has(errors, 4, 'id', /duplicate offer id \(first defined on line 2\)/);
  });

  it('reports offers whose tenant is not in the file', () => {
    const errors = errorsOf([tenant(), offer({ id: 'a', tenant: 'ghost' }), offer({ id: 'b' })].join('\n'));
    expect(errors).toHaveLength(1);
    has(errors, 2, 'tenant', /"ghost" is not defined/);
  });

  it('reports duplicate placement ids, bad slots and unsupported currencies', () => {
    const errors = errorsOf(
      [
        tenant({
          placements: [
            { id: 'checkout', name: 'A', slots: 3 },
            { id: 'checkout', name: 'B', slots: 2 },
          ],
        }),
        tenant({ id: 't2', placements: [{ id: 'p', name: 'P', slots: 21 }] }),
        tenant({ id: 't3', currency: 'XYZ' }),
        tenant({ id: 't4', currency: 'usd' }),
        tenant({ id: 't5', placements: [] }),
        tenant({ id: 't6', placements: [{ id: 'p', name: 'P', slots: 2.5 }] }),
      ].join('\n'),
    );
    has(errors, 1, 'placements[1].id', /duplicate placement id/);
    has(errors, 2, 'placements[0].slots', /less or equal to 20/);
    has(errors, 3, 'currency', /unsupported currency/);
    has(errors, 4, 'currency', /ISO 4217/);
    has(errors, 5, 'placements', /greater or equal to 1/);
    has(errors, 6, 'placements[0].slots', /integer/);
  });

  it('checks creative: a JSON object of at most 4 KiB', () => {
    const errors = errorsOf(
      [
        tenant(),
        offer({ id: 'a', creative: ['not', 'an', 'object'] }),
        offer({ id: 'b', creative: null }),
        offer({ id: 'c', creative: { body: 'x'.repeat(4100) } }),
        offer({ id: 'd', creative: { body: 'x'.repeat(4000) } }),
      ].join('\n'),
    );
    has(errors, 2, 'creative', /object/);
    has(errors, 3, 'creative', /object/);
    has(errors, 4, 'creative', /at most 4096/);
    expect(errors.some((e) => e.line === 5)).toBe(false);
  });

  it('checks times: ISO-8601 or integer ms, end after start, a plausible window', () => {
    const errors = errorsOf(
      [
        tenant(),
        offer({ id: 'a', start: '2025-07-01', end: '2025-06-01' }), // 2 end before start
        offer({ id: 'b', start: '2025-06-01', end: '2025-06-01' }), // 3 end == start
        offer({ id: 'c', start: 'June 1st', end: '2025-07-01' }), // 4 not ISO
        offer({ id: 'd', start: '2025-06-01T10:00:00', end: '2025-07-01' }), // 5 date-time without offset
        offer({ id: 'e', start: 1_717_200_000, end: '2025-07-01' }), // 6 seconds, not ms
        offer({ id: 'f', start: '2025-02-30', end: '2025-07-01' }), // 7 no such day
        offer({ id: 'g', start: 1.5e12 + 0.5, end: '2025-07-01' }), // 8 fractional ms
        offer({ id: 'h', start: true, end: '2025-07-01' }), // 9 wrong type
        offer({ id: 'i', start: '2025-06-01', end: '9999-12-31' }), // 10 far future
      ].join('\n'),
    );
    has(errors, 2, 'end', /after start/);
    has(errors, 3, 'end', /after start/);
    has(errors, 4, 'start', /ISO-8601/);
    has(errors, 5, 'start', /ISO-8601/);
    has(errors, 6, 'start', /seconds instead of milliseconds/);
    has(errors, 7, 'start', /ISO-8601/);
    has(errors, 8, 'start', /whole number/);
    has(errors, 9, 'start', /ISO-8601 date string or a number/);
    has(errors, 10, 'end', /100 years/);
  });

  it('caps ids at 128 characters and refuses whitespace in ids', () => {
    const errors = errorsOf([tenant(), offer({ id: 'x'.repeat(129) }), offer({ id: 'has space' })].join('\n'));
    has(errors, 2, 'id', /128/);
    has(errors, 3, 'id', /whitespace/);
  });

  it('keeps checking a record after its schema fails: duplicate id, unknown tenant, bad times all reported', () => {
    const errors = errorsOf(
      [tenant(), offer({ id: 'x' }), offer({ id: 'x', tenant: 'ghost', bid: { type: 'cpc', amount: -1 }, start: 1_717_200_000 })].join('\n'),
    );
    has(errors, 3, 'bid.amount');
    has(errors, 3, 'id', /duplicate offer id/);
    has(errors, 3, 'tenant', /"ghost"/);
    has(errors, 3, 'start', /seconds instead of milliseconds/);
  });

  it('refuses a catalog without tenants and reports it at line 0', () => {
    const errors = errorsOf('# only a comment\n');
    has(errors, 0, '', /no tenant/);
  });

  it('does not blame offers when their tenant record itself is invalid', () => {
    const errors = errorsOf([tenant({ currency: 'XYZ' }), offer()].join('\n'));
    expect(errors).toEqual([expect.objectContaining({ line: 1, field: 'currency' })]);
  });
});

describe('helpers', () => {
  it('parseIsoTime handles offsets and fractions', () => {
    expect(parseIsoTime('2025-06-01T10:00:00+02:00')).toBe(Date.UTC(2025, 5, 1, 8));
    expect(parseIsoTime('2025-06-01T10:00-0130')).toBe(Date.UTC(2025, 5, 1, 11, 30));
    expect(parseIsoTime('2025-06-01T10:00:00.123456Z')).toBe(Date.UTC(2025, 5, 1, 10, 0, 0, 123));
    expect(parseIsoTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoTime('2023-02-29')).toBeNull();
    expect(parseIsoTime('2025-13-01')).toBeNull();
  });

  it('pointerToField reads like code', () => {
    expect(pointerToField('/bid/amount')).toBe('bid.amount');
    expect(pointerToField('/placements/0/slots')).toBe('placements[0].slots');
    expect(pointerToField('/a~1b')).toBe('a/b');
    expect(pointerToField('')).toBe('');
  });
});
