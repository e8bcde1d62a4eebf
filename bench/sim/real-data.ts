/**
 * Real shopping data from ../shared/datasets, reduced to what the transaction generator draws from:
 *
 *   - Instacart (1,000-user subset): basket composition (department and aisle of every line), basket size,
 *     order hour and weekday. It has no prices.
 *   - Complete Journey (transactions sample): unit prices per department and line quantities, and whole
 *     lines from the non-grocery departments Instacart does not sell (health, beauty, electronics, ...).
 *
 * Both are mapped onto the engine's DEPARTMENTS here. Nothing from these files is copied into the repo; they
 * are read at training time from the path given on the command line.
 */
import path from 'node:path';
import { DEPARTMENTS, type Department } from '../../src/features/taxonomy.js';
import { readCsv } from './csv.js';

const DEPT_INDEX = new Map<string, number>(DEPARTMENTS.map((d, i) => [d, i]));
function dept(name: Department): number {
  return DEPT_INDEX.get(name) as number;
}

/** Instacart's 21 departments -> the engine's. ("babies" and "deli" are not taxonomy aliases.) */
export const INSTACART_DEPARTMENTS: Readonly<Record<string, Department>> = {
  frozen: 'frozen',
  other: 'other',
  bakery: 'bakery',
  produce: 'produce',
  alcohol: 'alcohol',
  international: 'pantry',
  beverages: 'beverages',
  pets: 'pets',
  'dry goods pasta': 'pantry',
  bulk: 'pantry',
  'personal care': 'personal_care',
  'meat seafood': 'meat_seafood',
  pantry: 'pantry',
  breakfast: 'pantry',
  'canned goods': 'pantry',
  'dairy eggs': 'dairy_eggs',
  household: 'household',
  babies: 'baby',
  snacks: 'snacks',
  deli: 'meat_seafood',
  missing: 'other',
};

/**
 * Complete Journey (department, product_category) -> the engine's department. Ordered rules, first match
 * wins: the category text decides before the store department, because "GROCERY" holds everything from cat
 * food to beer.
 */
const CJ_RULES: ReadonlyArray<readonly [RegExp, Department]> = [
  [/BABY|DIAPER|INFANT/, 'baby'],
  [/CAT FOOD|DOG FOOD|CAT LITTER|PET |BIRD SEED/, 'pets'],
  [/^SPIRITS|BEER|WINE|LIQUOR|MALT/, 'alcohol'],
  [/FRZN|FROZEN|ICE CREAM/, 'frozen'],
  [/^PASTRY/, 'bakery'],
  [/^(MEAT|MEAT-PCKGD|SEAFOOD|SEAFOOD-PCKGD|DELI) /, 'meat_seafood'],
  [/^(PRODUCE|SALAD BAR) /, 'produce'],
  [/^COSMETICS/, 'beauty'],
  [/SOFT DRINK|JUICE|DRNK|DRINK|WATER|COFFEE|TEAS|COCOA|ISOTONIC/, 'beverages'],
  [/MILK|CHEESE|YOGURT|EGGS|BUTTER|MARGARINE|DAIRY/, 'dairy_eggs'],
  [/BREAD|BAKED|ROLLS|DOUGH/, 'bakery'],
  [/CANDY|SNACK|CHIPS|COOKIE|CRACKER|NUTS|POPCORN/, 'snacks'],
  [/TISS|TOWEL|LAUNDRY|DETERGENT|CLEAN|BLEACH|TRSH|WRAPS|AIR CARE|PAPER HOUSEWARES|BROOMS|DISPOSABLE|FOIL/, 'household'],
  [/HAIR|ORAL|DEODORANT|SOAP|SHAV|FEMININE|SKIN|HAND|BATH|COTTON/, 'personal_care'],
  [/MAKEUP|FRAGRANCE|NAIL|COSMETIC/, 'beauty'],
  [/COLD AND FLU|ANALGESIC|VITAMIN|ANTACID|FIRST AID|PHARM|DIET|EYE|FOOT|LAXATIVE|SMOKING CESS/, 'health'],
  [/ELECTR|BATTER|PHOTO|VIDEO|CAMERA|AUDIO|PHONE|COMPUTER/, 'electronics'],
  [/TOY|GAMES/, 'toys_games'],
  [/KITCHEN|HOUSEWARE|COOKWARE|GLASSWARE|CANDLE|HOME|DECOR|STORAGE/, 'home_kitchen'],
  [/HOSIERY|APPAREL|SOCKS|SHOES|SLEEPWEAR|GLOVES/, 'apparel'],
  [/SPORT|OUTDOOR|AUTOMOTIVE|CHARCOAL|LAWN|GARDEN|CAMPING|FISHING/, 'sports_outdoors'],
  [/CIGARETTE|TOBACCO|MAGAZINE|NEWSPAPER|GREETING|STATIONERY|COUPON|FUEL|LOTTERY|FLORAL/, 'other'],
  [/^(GROCERY|NUTRITION) /, 'pantry'],
];

export function completeJourneyDepartment(department: string, productCategory: string): number {
  const text = `${department} ${productCategory}`;
  for (const [re, d] of CJ_RULES) if (re.test(text)) return dept(d);
  return dept('other');
}

export interface RealLine {
  department: number;
  /** Slug of the aisle (Instacart) or product category (Complete Journey), used as the category path tail. */
  aisle: string;
  sku: string;
}

export interface RealOrder {
  /** 0 = Sunday (Instacart's order_dow). */
  weekday: number;
  hour: number;
  lines: RealLine[];
}

export interface RealPricedLine extends RealLine {
  unitPrice: number;
}

export interface RealData {
  /** Instacart prior orders that have at least one line. */
  orders: RealOrder[];
  /** Complete Journey unit prices (USD) per engine department, in file order. */
  pricesByDepartment: number[][];
  /** Complete Journey line quantities (1..12). */
  quantities: number[];
  /** Complete Journey lines of departments Instacart does not carry (health, beauty, electronics, ...). */
  nonGroceryLines: RealPricedLine[];
  /** Human-readable description of what was read. */
  sources: string[];
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** Departments Instacart has no lines for; the generator takes them from Complete Journey. */
const NON_GROCERY = new Set(['health', 'beauty', 'electronics', 'home_kitchen', 'apparel', 'sports_outdoors', 'toys_games'].map((d) => dept(d as Department)));

export async function loadRealData(dataDir: string): Promise<RealData> {
  const ic = path.join(dataDir, 'instacart_subset_1000users');
  const cj = path.join(dataDir, 'completejourney_sample');

  const [aisles, departments, products, orders, items] = await Promise.all([
    readCsv(path.join(ic, 'aisles.csv')),
    readCsv(path.join(ic, 'departments.csv')),
    readCsv(path.join(ic, 'products.csv')),
    readCsv(path.join(ic, 'orders_demo.csv')),
    readCsv(path.join(ic, 'order_items_demo.csv')),
  ]);
  const aisleName = new Map(aisles.map((r) => [r.aisle_id, slug(r.aisle)]));
  const deptOf = new Map<string, number>();
  for (const r of departments) {
    const mapped = INSTACART_DEPARTMENTS[r.department];
    if (mapped === undefined) throw new Error(`instacart department ${r.department} has no mapping`);
    deptOf.set(r.department_id, dept(mapped));
  }
  const productLine = new Map<string, RealLine>();
  for (const r of products) {
    productLine.set(r.product_id, {
      department: deptOf.get(r.department_id) ?? dept('other'),
      aisle: aisleName.get(r.aisle_id) ?? 'misc',
      sku: `ic-${r.product_id}`,
    });
  }
  const byOrder = new Map<string, RealOrder>();
  for (const r of orders) {
    if (r.eval_set !== 'prior') continue;
    byOrder.set(r.order_id, { weekday: Number(r.order_dow), hour: Number(r.order_hour_of_day), lines: [] });
  }
  // Items come in file order sorted by add_to_cart_order within each order; keeping file order keeps the
  // result deterministic.
  for (const r of items) {
    const o = byOrder.get(r.order_id);
    const line = productLine.get(r.product_id);
    if (o && line) o.lines.push(line);
  }
  const realOrders = [...byOrder.values()].filter((o) => o.lines.length > 0);

  const [cjProducts, cjTx] = await Promise.all([
    readCsv(path.join(cj, 'products.csv.gz')),
    readCsv(path.join(cj, 'transactions_sample.csv.gz')),
  ]);
  const cjProduct = new Map(cjProducts.map((r) => [r.product_id, r]));
  const pricesByDepartment: number[][] = DEPARTMENTS.map(() => []);
  const quantities: number[] = [];
  const nonGroceryLines: RealPricedLine[] = [];
  for (const r of cjTx) {
    const p = cjProduct.get(r.product_id);
    const q = Number(r.quantity);
    const value = Number(r.sales_value);
    // Quantity 0 rows are returns/adjustments; very large quantities are fuel gallons or bulk weights.
    if (!p || !(q >= 1) || q > 12 || !(value > 0) || p.department === 'FUEL') continue;
    const d = completeJourneyDepartment(p.department, p.product_category);
    const unitPrice = Math.round((value / q) * 100) / 100;
    if (unitPrice <= 0) continue;
    pricesByDepartment[d].push(unitPrice);
    quantities.push(q);
    if (NON_GROCERY.has(d)) {
      nonGroceryLines.push({ department: d, aisle: slug(p.product_category || p.department), sku: `cj-${r.product_id}`, unitPrice });
    }
  }

  const lineCount = realOrders.reduce((s, o) => s + o.lines.length, 0);
  return {
    orders: realOrders,
    pricesByDepartment,
    quantities,
    nonGroceryLines,
    sources: [
      `instacart_subset_1000users: ${realOrders.length} prior orders, ${lineCount} lines (composition, size, hour, weekday)`,
      `completejourney_sample/transactions_sample: ${quantities.length} priced lines (unit prices per department, quantities), ` +
        `${nonGroceryLines.length} non-grocery lines`,
    ],
  };
}

/**
 * loadRealData when `dataDir` is given and holds the two data sets; otherwise null and a note saying why, so
 * callers can fall back to the synthetic generator and report it.
 */
export async function loadRealDataIfPresent(dataDir: string | undefined): Promise<{ data: RealData | null; note: string }> {
  if (!dataDir) return { data: null, note: 'no --data directory given: using the synthetic transaction generator' };
  try {
    return { data: await loadRealData(dataDir), note: `real data from ${dataDir}` };
  } catch (err) {
    return {
      data: null,
      note: `could not read real data from ${dataDir} (${(err as Error).message}): using the synthetic transaction generator`,
    };
  }
}
