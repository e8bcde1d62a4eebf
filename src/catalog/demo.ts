/**
 * A realistic, deterministic demo catalog as JSONL: what the embedded default loads on first start, and what
 * the benchmarks scale to 10k and 100k offers. Realism matters because the demo drives the model and the
 * ranking: a catalog where every offer looks alike would make every score alike and hide ranking bugs.
 *
 * It also exercises every delivery setting: placement floors, holdout, exploration and blocked categories,
 * rules for the holdout arm, and campaign records. Almost every campaign has only a total budget of millions,
 * far beyond what a benchmark can spend (2 minutes at 5,000 decisions/s) and, paced evenly over a flight
 * centred on today, never throttled; one campaign in 40 has a small daily budget, frequency caps or
 * targeting, so those features show in a demo without starving the benchmarks.
 *
 * Deterministic for (seed, now's UTC day): `now` is floored to the day so that the same seed yields the same
 * bytes all day, while every live flight still spans the real current moment.
 */
import { Prng } from '../learning/prng.js';
import type { BidType, OfferStatus, PriceTierName } from './types.js';
import type { Department } from '../features/taxonomy.js';
import type { CHANNELS } from '../features/spec.js';

export interface DemoOptions {
  seed?: number;
  /** Total offers over all tenants. Default 4,000. */
  offers?: number;
  /** Number of tenants (retailers). Default 2. */
  tenants?: number;
  /** ms since the epoch; default Date.now(). */
  now?: number;
}

export const DEMO_DEFAULTS = { seed: 1, offers: 4000, tenants: 2 } as const;

const DAY_MS = 86_400_000;

interface Product {
  name: string;
  lo: number;
  hi: number;
}
type Shelf = Readonly<Record<string, readonly Product[]>>;

const p = (name: string, lo: number, hi: number): Product => ({ name, lo, hi });

/**
 * Sub-paths per department, each with products and a price band in major units. The first path segment is
 * always a DEPARTMENTS name, so every demo category maps to a real department and none to `other`.
 */
const SHELVES: Readonly<Partial<Record<Department, Shelf>>> = {
  produce: {
    'produce/fruit/berries': [p('Organic Strawberries 1lb', 3.49, 5.99), p('Blueberries 18oz', 4.99, 7.49)],
    'produce/fruit/citrus': [p('Mandarins 3lb Bag', 4.99, 6.99), p('Navel Oranges 4lb', 5.49, 7.99)],
    'produce/vegetables/salad': [p('Spring Mix 10oz', 3.99, 5.99), p('Chopped Caesar Salad Kit', 3.49, 4.99)],
    'produce/vegetables/fresh_cut': [p('Butternut Squash Cubes 20oz', 3.99, 5.49), p('Veggie Tray 28oz', 7.99, 11.99)],
  },
  dairy_eggs: {
    'dairy_eggs/yogurt/greek': [p('Greek Yogurt 32oz', 4.99, 7.49), p('Greek Yogurt Cups 4-Pack', 4.49, 5.99)],
    'dairy_eggs/milk/oat': [p('Oat Milk Barista Edition 64oz', 4.49, 5.99), p('Oat Milk Original 64oz', 3.99, 5.49)],
    'dairy_eggs/cheese/shredded': [p('Shredded Mozzarella 16oz', 3.99, 5.99), p('Mexican Blend Shredded Cheese 8oz', 2.79, 3.99)],
    'dairy_eggs/eggs/cage_free': [p('Cage-Free Large Eggs 12ct', 3.49, 6.49), p('Pasture-Raised Eggs 12ct', 5.99, 8.49)],
    'dairy_eggs/butter/salted': [p('Salted Butter 16oz', 4.49, 6.99)],
  },
  meat_seafood: {
    'meat_seafood/chicken/breast': [p('Boneless Chicken Breast 2lb', 7.99, 12.99)],
    'meat_seafood/beef/ground': [p('85% Lean Ground Beef 1lb', 5.49, 7.99)],
    'meat_seafood/seafood/salmon': [p('Atlantic Salmon Fillets 12oz', 9.99, 14.99)],
    'meat_seafood/deli/sliced_turkey': [p('Oven Roasted Turkey Breast 9oz', 4.49, 6.49), p('Uncured Black Forest Ham 7oz', 4.29, 5.99)],
    'meat_seafood/sausage/breakfast': [p('Breakfast Sausage Links 12oz', 3.99, 5.49)],
  },
  bakery: {
    'bakery/bread/sandwich': [p('Whole Wheat Sandwich Bread 20oz', 2.99, 4.99), p('Sourdough Loaf 24oz', 4.49, 6.49)],
    'bakery/bagels/plain': [p('Everything Bagels 6ct', 3.99, 5.49)],
    'bakery/tortillas/flour': [p('Flour Tortillas 10ct', 2.79, 3.99)],
    'bakery/sweet/muffins': [p('Blueberry Muffins 4ct', 4.49, 5.99)],
  },
  pantry: {
    'pantry/pasta/dry': [p('Penne Rigate 16oz', 1.49, 2.99), p('Protein Spaghetti 14.5oz', 2.49, 3.79)],
    'pantry/sauces/pasta_sauce': [p('Marinara Sauce 24oz', 3.49, 7.99), p('Vodka Sauce 24oz', 4.99, 8.49)],
    'pantry/breakfast/cereal': [p('Honey Oat Clusters Cereal 18oz', 3.99, 5.99), p('Frosted Flakes Family Size 24oz', 4.49, 6.49)],
    'pantry/breakfast/oatmeal': [p('Steel Cut Oats 30oz', 4.49, 6.99)],
    'pantry/canned/beans': [p('Organic Black Beans 15oz', 1.29, 2.29)],
    'pantry/condiments/hot_sauce': [p('Chipotle Hot Sauce 5oz', 3.49, 5.49)],
    'pantry/baking/flour': [p('All-Purpose Flour 5lb', 3.49, 5.49)],
  },
  snacks: {
    'snacks/chips/kettle': [p('Kettle Cooked Sea Salt Chips 8oz', 3.49, 4.99), p('Jalapeno Kettle Chips 8oz', 3.49, 4.99)],
    'snacks/bars/protein': [p('Protein Bars 12ct', 14.99, 24.99), p('Chocolate Peanut Butter Protein Bars 5ct', 7.49, 9.99)],
    'snacks/crackers/cheese': [p('Cheddar Crackers 12oz', 3.49, 4.99)],
    'snacks/nuts/trail_mix': [p('Trail Mix 26oz', 8.99, 12.99)],
    'snacks/candy/chocolate': [p('Dark Chocolate Sea Salt Bar 3.5oz', 2.99, 4.49)],
  },
  beverages: {
    'beverages/coffee/ground': [p('Medium Roast Ground Coffee 12oz', 7.99, 12.99), p('French Roast Ground Coffee 24oz', 12.99, 17.99)],
    'beverages/coffee/cold_brew': [p('Cold Brew 32oz', 4.99, 7.99), p('Cold Brew Concentrate 32oz', 6.99, 9.99)],
    'beverages/coffee/pods': [p('Breakfast Blend Coffee Pods 24ct', 13.99, 19.99)],
    'beverages/water/sparkling': [p('Sparkling Water 12-Pack', 4.99, 6.99), p('Lime Sparkling Water 8-Pack', 3.99, 5.49)],
    'beverages/juice/orange': [p('Not-From-Concentrate Orange Juice 52oz', 3.99, 5.99)],
    'beverages/energy/cans': [p('Zero Sugar Energy Drink 4-Pack', 6.99, 9.49)],
    'beverages/tea/bottled': [p('Unsweetened Green Tea 16oz', 1.99, 2.99)],
  },
  frozen: {
    'frozen/pizza/thin_crust': [p('Thin Crust Margherita Pizza', 5.99, 9.99)],
    'frozen/meals/bowls': [p('Chicken Burrito Bowl 10oz', 3.49, 4.99), p('Teriyaki Chicken Bowl 9.5oz', 3.29, 4.79)],
    'frozen/desserts/ice_cream': [p('Vanilla Bean Ice Cream 1.5qt', 4.99, 7.49), p('Salted Caramel Gelato Pint', 4.99, 6.49)],
    'frozen/vegetables/steam_bags': [p('Steamable Broccoli Florets 12oz', 2.29, 3.49)],
    'frozen/breakfast/waffles': [p('Homestyle Waffles 10ct', 2.99, 4.49)],
  },
  alcohol: {
    'alcohol/beer/ipa': [p('Hazy IPA 6-Pack', 10.99, 14.99)],
    'alcohol/wine/red': [p('Cabernet Sauvignon 750ml', 11.99, 24.99)],
    'alcohol/seltzer/variety': [p('Hard Seltzer Variety 12-Pack', 16.99, 21.99)],
  },
  household: {
    'household/laundry/detergent': [p('Laundry Detergent Pods 42ct', 12.99, 19.99), p('Free & Clear Liquid Detergent 92oz', 11.99, 15.99)],
    'household/paper/towels': [p('Paper Towels 6 Double Rolls', 9.99, 15.99)],
    'household/paper/toilet_paper': [p('Toilet Paper 12 Mega Rolls', 12.99, 18.99)],
    'household/cleaning/multi_surface': [p('Multi-Surface Cleaner Spray 32oz', 3.49, 5.49)],
    'household/dish/dishwasher_pods': [p('Dishwasher Pods 48ct', 11.99, 17.99)],
  },
  personal_care: {
    'personal_care/oral/toothpaste': [p('Whitening Toothpaste 2-Pack', 5.99, 8.99)],
    'personal_care/hair/shampoo': [p('Hydrating Shampoo 13.5oz', 6.99, 11.99)],
    'personal_care/deodorant/natural': [p('Aluminum-Free Deodorant 2.6oz', 7.99, 12.99)],
    'personal_care/shave/razors': [p('5-Blade Razor Refills 8ct', 17.99, 27.99)],
  },
  baby: {
    'baby/diapers/size_3': [p('Diapers Size 3 84ct', 24.99, 34.99)],
    'baby/wipes/sensitive': [p('Sensitive Baby Wipes 6-Pack', 11.99, 17.99)],
    'baby/food/pouches': [p('Organic Fruit Puree Pouches 6ct', 7.49, 9.99)],
  },
  pets: {
    'pets/dog/dry_food': [p('Grain-Free Dry Dog Food 24lb', 39.99, 64.99)],
    'pets/dog/treats': [p('Chicken Jerky Dog Treats 16oz', 9.99, 15.99)],
    'pets/cat/litter': [p('Clumping Cat Litter 20lb', 11.99, 18.99)],
    'pets/cat/wet_food': [p('Pate Wet Cat Food 12-Pack', 9.99, 14.99)],
  },
  health: {
    'health/vitamins/multivitamin': [p('Adult Multivitamin Gummies 90ct', 11.99, 17.99)],
    'health/pain_relief/ibuprofen': [p('Ibuprofen 200mg 100ct', 6.99, 10.99)],
    'health/allergy/antihistamine': [p('24-Hour Allergy Relief 30ct', 14.99, 24.99)],
    'health/first_aid/bandages': [p('Flexible Fabric Bandages 30ct', 3.99, 5.99)],
  },
  beauty: {
    'beauty/skincare/moisturizer': [p('Daily Moisturizer SPF 30 3oz', 12.99, 24.99)],
    'beauty/skincare/cleanser': [p('Gentle Foaming Cleanser 8oz', 8.99, 14.99)],
    'beauty/makeup/mascara': [p('Volumizing Mascara', 8.99, 13.99)],
    'beauty/nails/polish': [p('Gel-Look Nail Polish', 6.99, 9.99)],
  },
  electronics: {
    'electronics/audio/earbuds': [p('Wireless Earbuds', 29.99, 129.99), p('Noise Cancelling Headphones', 79.99, 249.99)],
    'electronics/accessories/chargers': [p('USB-C Fast Charger 30W', 14.99, 29.99), p('Braided USB-C Cable 6ft 2-Pack', 9.99, 17.99)],
    'electronics/accessories/power_banks': [p('Portable Power Bank 10000mAh', 19.99, 39.99)],
    'electronics/smart_home/plugs': [p('Smart Plug 4-Pack', 24.99, 39.99)],
    'electronics/batteries/aa': [p('AA Alkaline Batteries 24ct', 12.99, 19.99)],
  },
  home_kitchen: {
    'home_kitchen/cookware/skillets': [p('10-Inch Nonstick Skillet', 19.99, 44.99)],
    'home_kitchen/storage/containers': [p('Glass Food Storage Set 18pc', 24.99, 39.99)],
    'home_kitchen/small_appliances/air_fryers': [p('5-Quart Air Fryer', 59.99, 119.99)],
    'home_kitchen/bedding/sheets': [p('Microfiber Sheet Set Queen', 24.99, 49.99)],
    'home_kitchen/decor/candles': [p('3-Wick Scented Candle', 12.99, 24.99)],
  },
  apparel: {
    'apparel/basics/socks': [p('Athletic Crew Socks 6-Pack', 12.99, 19.99)],
    'apparel/basics/tees': [p('Cotton Crew Tee 3-Pack', 14.99, 24.99)],
    'apparel/outerwear/rain_jackets': [p('Packable Rain Jacket', 39.99, 79.99)],
    'apparel/shoes/running': [p('Everyday Running Shoes', 49.99, 99.99)],
  },
  sports_outdoors: {
    'sports_outdoors/fitness/yoga_mats': [p('Non-Slip Yoga Mat 6mm', 19.99, 39.99)],
    'sports_outdoors/hydration/bottles': [p('Insulated Water Bottle 32oz', 19.99, 39.99)],
    'sports_outdoors/camping/lanterns': [p('LED Camping Lantern', 14.99, 29.99)],
    'sports_outdoors/cycling/helmets': [p('Adult Bike Helmet', 29.99, 59.99)],
  },
  toys_games: {
    'toys_games/building/sets': [p('Classic Building Bricks 500pc', 24.99, 49.99)],
    'toys_games/games/board': [p('Family Strategy Board Game', 19.99, 39.99)],
    'toys_games/games/puzzles': [p('1000-Piece Jigsaw Puzzle', 12.99, 19.99)],
    'toys_games/outdoor/water': [p('Water Blaster 2-Pack', 14.99, 24.99)],
  },
};

/** Brand suffixes that sound like the department, so "Copper Kettle Creamery" sells yogurt, not chargers. */
const BRAND_SUFFIXES: Readonly<Partial<Record<Department, readonly string[]>>> = {
  produce: ['Farms', 'Orchards', 'Growers', 'Harvest', 'Fields', 'Greens', 'Valley Produce', 'Grove'],
  dairy_eggs: ['Creamery', 'Dairy', 'Farmstead', 'Hens', 'Pastures', 'Cultures', 'Milk Co.', 'Cheese Works'],
  meat_seafood: ['Butchers', 'Ranch', 'Smokehouse', 'Provisions', 'Fisheries', 'Meat Co.', 'Catch', 'Deli'],
  bakery: ['Bakehouse', 'Bakery', 'Ovens', 'Breadworks', 'Hearth', 'Crumb Co.', 'Mill', 'Bagel Co.'],
  pantry: ['Pantry', 'Kitchens', 'Provisions', 'Pasta Co.', 'Foods', 'Table', 'Larder', 'Mills'],
  snacks: ['Snacks', 'Crunch', 'Bites', 'Munch Co.', 'Kettle', 'Snack Works', 'Treats', 'Chips'],
  beverages: ['Roasters', 'Coffee Co.', 'Springs', 'Brew Co.', 'Tea Co.', 'Juicery', 'Sparkling', 'Beverage'],
  frozen: ['Frozen Kitchen', 'Freezer Co.', 'Creamery', 'Pizzeria', 'Bowls', 'Scoops', 'Chill Co.', 'Ice'],
  alcohol: ['Brewing', 'Cellars', 'Vineyards', 'Brewery', 'Seltzer Co.', 'Winery', 'Taproom', 'Estates'],
  household: ['Home', 'Clean Co.', 'Essentials', 'Laundry', 'Wash', 'Paper Co.', 'Fresh Home', 'Supply'],
  personal_care: ['Naturals', 'Care', 'Botanics', 'Grooming', 'Smile', 'Body Co.', 'Essentials', 'Labs'],
  baby: ['Baby', 'Little Ones', 'Nursery', 'Kids', 'Tots', 'Baby Co.', 'Bundle', 'Cradle'],
  pets: ['Pet Co.', 'Paws', 'Pet Kitchen', 'Tails', 'Whiskers', 'Kibble Co.', 'Pet Supply', 'Companions'],
  health: ['Health', 'Wellness', 'Vitamins', 'Pharma', 'Remedies', 'Nutrition', 'Care', 'Labs'],
  beauty: ['Beauty', 'Cosmetics', 'Skin', 'Glow', 'Studio', 'Apothecary', 'Botanicals', 'Lab'],
  electronics: ['Audio', 'Tech', 'Electronics', 'Power', 'Devices', 'Labs', 'Sound', 'Gear'],
  home_kitchen: ['Home', 'Kitchenware', 'Living', 'Cookware', 'Linens', 'House', 'Goods', 'Design'],
  apparel: ['Apparel', 'Outfitters', 'Threads', 'Wear', 'Clothing Co.', 'Supply', 'Denim', 'Athletics'],
  sports_outdoors: ['Outdoors', 'Sports', 'Trail', 'Athletics', 'Expedition', 'Gear', 'Adventure', 'Fitness'],
  toys_games: ['Toys', 'Games', 'Play', 'Toy Co.', 'Puzzles', 'Playworks', 'Kids', 'Fun Co.'],
};

const BRAND_PREFIXES = [
  'Blue Ridge', 'Golden Meadow', 'Sunny Acres', 'Harbor', 'Northfield', 'Maple Hollow', 'Copper Kettle',
  'Wild Fern', 'Summit', 'Brightwater', 'Evergreen', 'Red Barn', 'Silver Spoon', 'Oak & Ember', 'Little Pine',
  'True North', 'Clearbrook', 'Stonegate', 'Juniper', 'Hearthstone', 'Cedar Lane', 'Bluebird', 'Lakeshore',
  'Prairie Sky', 'Willow Creek', 'Three Rivers', 'Highland', 'Morning Star', 'Tidewater', 'Old Mill',
  'Fox Hollow', 'Sweetwater', 'Ironwood', 'Meadowlark', 'Bright Path', 'Greenleaf', 'Sierra', 'Kindred',
  'Pacific Coast', 'Hillside', 'Rosewood', 'Canyon', 'Seaside', 'Wildflower', 'Heritage', 'Birchwood',
  'Moonrise', 'Riverbend',
];

/** A placement as the JSONL file spells it (snake_case, optional settings). */
interface PlacementLine {
  id: string;
  name: string;
  slots: number;
  floor_cpm?: number;
  min_relevance?: number;
  pricing?: 'gsp' | 'first';
  exploration?: { epsilon: number; pool?: number };
  category_exclusivity?: boolean;
  holdout?: number;
  blocked_advertisers?: string[];
  blocked_categories?: string[];
}

/** A rules-policy rule: basket departments -> related offer category prefixes. */
interface DemoRule {
  id: string;
  when: readonly Department[];
  categories: readonly string[];
}

interface RetailerTemplate {
  id: string;
  name: string;
  currency: string;
  placements: readonly PlacementLine[];
  departments: Readonly<Partial<Record<Department, number>>>;
  rules: readonly DemoRule[];
  domain: string;
}

const GROCERY: Readonly<Partial<Record<Department, number>>> = {
  produce: 6, dairy_eggs: 9, meat_seafood: 5, bakery: 4, pantry: 14, snacks: 13, beverages: 14, frozen: 9,
  alcohol: 4, household: 8, personal_care: 6, baby: 3, pets: 4, health: 3, beauty: 2,
};
const GENERAL: Readonly<Partial<Record<Department, number>>> = {
  electronics: 14, home_kitchen: 14, apparel: 10, sports_outdoors: 8, toys_games: 9, household: 10,
  personal_care: 8, beauty: 7, pets: 6, health: 5, snacks: 5, beverages: 4, baby: 3,
};

const rule = (id: string, when: Department[], categories: string[]): DemoRule => ({ id, when, categories });

/** Complementary categories a grocer would cross-sell by hand: what the holdout arm serves. */
const GROCERY_RULES: readonly DemoRule[] = [
  rule('dairy-to-bakery-produce', ['dairy_eggs'], ['bakery', 'produce']),
  rule('produce-to-dairy', ['produce'], ['dairy_eggs', 'produce/vegetables/salad']),
  rule('pantry-restock', ['pantry'], ['pantry']),
  rule('meat-sides', ['meat_seafood'], ['pantry/sauces', 'bakery/bread', 'produce/vegetables']),
  rule('beverages-to-snacks', ['beverages'], ['snacks']),
  rule('snacks-to-beverages', ['snacks'], ['beverages/water', 'beverages/juice', 'beverages/tea']),
  rule('frozen-treats', ['frozen'], ['frozen/desserts', 'snacks/candy']),
  rule('home-care', ['household', 'personal_care'], ['household', 'personal_care']),
  rule('baby-care', ['baby'], ['baby']),
  rule('pet-care', ['pets'], ['pets']),
];
const GENERAL_RULES: readonly DemoRule[] = [
  rule('electronics-accessories', ['electronics'], ['electronics/accessories', 'electronics/batteries']),
  rule('kitchen', ['home_kitchen'], ['home_kitchen']),
  rule('apparel-to-outdoors', ['apparel'], ['apparel/basics', 'sports_outdoors']),
  rule('outdoors-to-apparel', ['sports_outdoors'], ['sports_outdoors/hydration', 'apparel']),
  rule('toys', ['toys_games', 'baby'], ['toys_games']),
  rule('home-care', ['household', 'personal_care', 'beauty'], ['household', 'personal_care', 'beauty']),
  rule('pet-care', ['pets'], ['pets']),
  rule('snack-run', ['snacks', 'beverages'], ['snacks', 'beverages']),
];

/**
 * The checkout: a small floor, 10% holdout (the rules arm), light exploration, and one category kept off the
 * checkout for brand safety (alcohol at a grocer; energy drinks at a general store, where families shop).
 */
const CHECKOUT: PlacementLine = {
  id: 'checkout',
  name: 'Checkout offers',
  slots: 3,
  floor_cpm: 0.5,
  holdout: 0.1,
  exploration: { epsilon: 0.05, pool: 10 },
};
const GROCERY_CHECKOUT: PlacementLine = { ...CHECKOUT, blocked_categories: ['alcohol'] };
const GENERAL_CHECKOUT: PlacementLine = { ...CHECKOUT, slots: 4, blocked_categories: ['beverages/energy'] };
/** After the order: more slots, one offer per department so the list is varied. */
const CONFIRMATION: PlacementLine = { id: 'order_confirmation', name: 'Order confirmation', slots: 5, category_exclusivity: true };

const RETAILERS: readonly RetailerTemplate[] = [
  { id: 'freshmart', name: 'FreshMart Grocery', currency: 'USD', placements: [GROCERY_CHECKOUT, CONFIRMATION], departments: GROCERY, rules: GROCERY_RULES, domain: 'freshmart.example' },
  { id: 'hometown', name: 'Hometown General Store', currency: 'USD', placements: [GENERAL_CHECKOUT], departments: GENERAL, rules: GENERAL_RULES, domain: 'hometown.example' },
  { id: 'northbay', name: 'Northbay Grocers', currency: 'CAD', placements: [GROCERY_CHECKOUT, CONFIRMATION], departments: GROCERY, rules: GROCERY_RULES, domain: 'northbay.example' },
  { id: 'marktplatz', name: 'Marktplatz', currency: 'EUR', placements: [{ ...GENERAL_CHECKOUT, slots: 3 }], departments: GENERAL, rules: GENERAL_RULES, domain: 'marktplatz.example' },
  { id: 'highstreet', name: 'High Street Market', currency: 'GBP', placements: [GROCERY_CHECKOUT, CONFIRMATION], departments: GROCERY, rules: GROCERY_RULES, domain: 'highstreet.example' },
];

function retailer(i: number): RetailerTemplate {
  if (i < RETAILERS.length) return RETAILERS[i];
  const base = RETAILERS[i % 2];
  const n = i + 1;
  return { ...base, id: `retailer${n}`, name: `Retailer ${n}`, domain: `retailer${n}.example` };
}

interface Advertiser {
  id: string;
  name: string;
  departments: Department[];
}

interface DemoCampaign {
  id: string;
  advertiser: Advertiser;
  department: Department;
  theme: string;
}

const CAMPAIGN_THEMES = [
  'everyday-value', 'new-flavor', 'spring-reset', 'summer-grilling', 'back-to-school', 'holiday-hosting',
  'trial', 'loyalty', 'new-year', 'big-game', 'brand-awareness', 'restock',
];
const CTAS = ['Clip coupon', 'Add to cart', 'Shop now', 'Learn more', 'Get offer'];

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function money(amount: number): string {
  return Number.isInteger(amount) ? `$${amount}` : `$${amount.toFixed(2)}`;
}

/** Retail price points end in .29/.49/.79/.99. */
function pricePoint(rng: Prng, lo: number, hi: number): number {
  const whole = Math.floor(rng.uniform(lo, hi));
  const cents = rng.pick([0.29, 0.49, 0.79, 0.99]);
  return Math.round((Math.max(0, whole) + cents) * 100) / 100;
}

/** Log-uniform in [lo, hi], to cents: bids cluster at the low end, with a long tail, as real ones do. */
function logUniform(rng: Prng, lo: number, hi: number): number {
  const v = Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
  return Math.min(hi, Math.max(lo, Math.round(v * 100) / 100));
}

function bid(rng: Prng): { type: BidType; amount: number } {
  const r = rng.next();
  if (r < 0.72) return { type: 'cpc', amount: logUniform(rng, 0.2, 3.0) };
  if (r < 0.9) return { type: 'cpm', amount: logUniform(rng, 2, 25) };
  return { type: 'cpa', amount: logUniform(rng, 2, 40) };
}

/** Mostly live flights around `day`; some paused, expired, scheduled or archived, as in a real ad server. */
function flight(rng: Prng, day: number): { status: OfferStatus; start: number; end: number } {
  const r = rng.next();
  const days = (lo: number, hi: number): number => (lo + rng.int(hi - lo + 1)) * DAY_MS;
  if (r < 0.84) return { status: 'active', start: day - days(1, 60), end: day + days(2, 90) };
  if (r < 0.9) return { status: 'paused', start: day - days(1, 60), end: day + days(2, 90) };
  if (r < 0.94) {
    const end = day - days(1, 30);
    return { status: 'active', start: end - days(14, 90), end };
  }
  if (r < 0.97) {
    const start = day + days(3, 30);
    return { status: 'active', start, end: start + days(14, 60) };
  }
  const end = day - days(5, 120);
  return { status: 'archived', start: end - days(14, 60), end };
}

function weightedDepartments(weights: Readonly<Partial<Record<Department, number>>>): { depts: Department[]; w: number[] } {
  const depts: Department[] = [];
  const w: number[] = [];
  for (const [d, v] of Object.entries(weights) as [Department, number][]) {
    depts.push(d);
    w.push(v);
  }
  return { depts, w };
}

function makeAdvertisers(rng: Prng, count: number, tpl: RetailerTemplate): Advertiser[] {
  const { depts, w } = weightedDepartments(tpl.departments);
  const used = new Set<string>();
  const out: Advertiser[] = [];
  for (let i = 0; i < count; i++) {
    const primary = depts[rng.weighted(w)];
    let name = '';
    // Names repeat across retailers on purpose (a CPG brand buys media at several); within one retailer they
    // are unique. After a few collisions a numbered line extension keeps large catalogs unique.
    for (let attempt = 0; attempt < 8 && (name === '' || used.has(name)); attempt++) {
      name = `${rng.pick(BRAND_PREFIXES)} ${rng.pick(BRAND_SUFFIXES[primary] ?? ['Brands'])}`;
    }
    if (used.has(name)) name = `${name} ${i}`;
    used.add(name);
    const departments: Department[] = [primary];
    if (rng.bernoulli(0.3)) {
      const second = depts[rng.weighted(w)];
      if (second !== primary) departments.push(second);
    }
    out.push({ id: slug(name), name, departments });
  }
  return out;
}

function makeCampaigns(rng: Prng, tenant: string, advertisers: Advertiser[]): { campaigns: DemoCampaign[]; weights: number[] } {
  const campaigns: DemoCampaign[] = [];
  const weights: number[] = [];
  advertisers.forEach((adv, rank) => {
    // Spend is concentrated: a few big brands run most offers (Zipf-like by advertiser rank).
    const advWeight = 1 / Math.pow(rank + 1, 0.6);
    const n = 1 + rng.int(4);
    const themes = [...CAMPAIGN_THEMES];
    rng.shuffle(themes);
    for (let c = 0; c < n; c++) {
      const department = adv.departments[c % adv.departments.length];
      campaigns.push({ id: `${tenant}:${adv.id}:${themes[c]}`, advertiser: adv, department, theme: themes[c] });
      weights.push(advWeight / n);
    }
  });
  return { campaigns, weights };
}

interface OfferLine {
  kind: 'offer';
  id: string;
  tenant: string;
  advertiser: string;
  campaign: string;
  category: string;
  title: string;
  creative: { headline: string; body: string; image_url: string; cta: string; landing_url: string };
  /** Absent when the offer bids its campaign's default bid. */
  bid?: { type: BidType; amount: number };
  price?: number;
  status: OfferStatus;
  start: string;
  end: string;
}

function makeOffer(rng: Prng, tpl: RetailerTemplate, index: number, campaign: DemoCampaign, day: number): OfferLine {
  const shelf = SHELVES[campaign.department] ?? {};
  const paths = Object.keys(shelf);
  const category = rng.pick(paths);
  const product = rng.pick(shelf[category]);
  const brand = campaign.advertiser.name;
  const item = `${brand} ${product.name}`;
  const hasPrice = rng.next() >= 0.06;
  const price = pricePoint(rng, product.lo, product.hi);
  // Savings scale with the price, rounded to what a coupon would print.
  const save = Math.max(0.5, Math.round(price * rng.uniform(0.1, 0.3) * 2) / 2);
  const pct = rng.pick([10, 15, 20, 25, 30]);
  const template = rng.int(6);
  const title = [
    `Save ${money(save)} on ${item}`,
    `${money(save)} off ${item}`,
    `Buy 2, save ${money(save * 2)} on ${item}`,
    `${pct}% off ${item}`,
    `Try new ${item}`,
    `${item}: earn ${Math.max(1, Math.round(price))}x points`,
  ][template];
  const headline = [
    `Save ${money(save)} today`,
    `${money(save)} off at checkout`,
    `Stock up and save ${money(save * 2)}`,
    `${pct}% off, today only`,
    `New from ${brand}`,
    'Bonus points on this order',
  ][template];
  const id = `${tpl.id}-${String(index + 1).padStart(6, '0')}`;
  const f = flight(rng, day);
  const offer: OfferLine = {
    kind: 'offer',
    id,
    tenant: tpl.id,
    advertiser: campaign.advertiser.id,
    campaign: campaign.id,
    category,
    title,
    creative: {
      headline,
      body: `${product.name} from ${brand}. Offer applies to your next order and loads to your account when you tap.`,
      image_url: `https://cdn.example/offers/${tpl.id}/${campaign.advertiser.id}/${slug(product.name)}.jpg`,
      cta: rng.pick(CTAS),
      landing_url: `https://${tpl.domain}/brands/${campaign.advertiser.id}/${slug(product.name)}?offer=${id}`,
    },
    bid: bid(rng),
    status: f.status,
    start: new Date(f.start).toISOString(),
    end: new Date(f.end).toISOString(),
  };
  if (hasPrice) offer.price = price;
  return offer;
}

interface CampaignLine {
  kind: 'campaign';
  id: string;
  tenant: string;
  advertiser: string;
  name: string;
  status: OfferStatus;
  start: string;
  end: string;
  budget: { total?: number; daily?: number };
  bid?: { type: BidType; amount: number };
  pacing?: 'even' | 'asap';
  frequency_caps?: { scope: 'offer' | 'campaign' | 'advertiser'; max: number; window?: string; window_ms?: number }[];
  targeting?: {
    placements?: string[];
    channels?: (typeof CHANNELS)[number][];
    countries?: string[];
    basket_departments_any?: Department[];
    basket_departments_none?: Department[];
    basket_min?: number;
    basket_max?: number;
    price_tiers?: PriceTierName[];
    hours?: number[];
    weekdays?: number[];
  };
}

/** One campaign in this many gets small budgets, caps or targeting; the rest are effectively unlimited. */
const CONSTRAINED_EVERY = 40;

function themeTitle(theme: string): string {
  const words = theme.split('-');
  return [words[0].charAt(0).toUpperCase() + words[0].slice(1), ...words.slice(1)].join(' ');
}

/**
 * The campaign record of a demo campaign. `offers` are its offers (already generated): a quarter of campaigns
 * carry a default bid (their first offer's), and about half of their offers of the same bid type then omit
 * their own bid and inherit it, so both spellings appear in the file. Budgets: see the file comment.
 */
function campaignLine(rng: Prng, tenant: string, index: number, c: DemoCampaign, offers: OfferLine[], day: number): CampaignLine {
  // Flights of the offers reach from about 180 days back to 90 days ahead; the campaign spans all of them,
  // so the offers' own flights decide what is live, as they did before campaign records existed.
  const line: CampaignLine = {
    kind: 'campaign',
    id: c.id,
    tenant,
    advertiser: c.advertiser.id,
    name: `${c.advertiser.name}: ${themeTitle(c.theme)}`,
    status: 'active',
    start: new Date(day - 200 * DAY_MS).toISOString(),
    end: new Date(day + 200 * DAY_MS).toISOString(),
    budget: {},
  };
  // No daily budget and a total far beyond any benchmark's spend: 'even' pacing then plans total x the
  // share of the flight elapsed (half of it, as the flight is centred on today), which spend never reaches,
  // so pacing never throttles these campaigns either.
  line.budget = { total: 1_000_000 * (1 + rng.int(5)) };
  if (rng.bernoulli(0.2)) line.pacing = 'asap';
  const first = offers[0]?.bid;
  if (first !== undefined && rng.bernoulli(0.25)) {
    line.bid = { ...first };
    for (const o of offers) if (o.bid?.type === first.type && rng.bernoulli(0.5)) delete o.bid;
  }
  if (index % CONSTRAINED_EVERY === 7) {
    switch (Math.floor(index / CONSTRAINED_EVERY) % 4) {
      case 0:
        line.budget = { total: 500, daily: 25 };
        line.pacing = 'even';
        line.frequency_caps = [{ scope: 'offer', max: 2, window: '1h' }];
        break;
      case 1:
        line.targeting = { channels: ['app', 'web'], countries: ['US', 'CA'], hours: Array.from({ length: 17 }, (_, h) => h + 6) };
        line.frequency_caps = [{ scope: 'campaign', max: 3, window: '1d' }];
        break;
      case 2:
        line.budget = { total: 2_000, daily: 50 };
        line.targeting = { basket_departments_any: [c.department], price_tiers: ['mid', 'premium'] };
        line.frequency_caps = [{ scope: 'advertiser', max: 5, window: '7d' }];
        break;
      default:
        line.targeting = { weekdays: [1, 2, 3, 4, 5], basket_departments_none: ['baby'], basket_min: 20, basket_max: 500 };
        line.frequency_caps = [{ scope: 'offer', max: 1, window_ms: 30 * 60_000 }];
    }
  }
  return line;
}

/** Splits `total` over `n` tenants with weights 1, 1/2, 1/3 ..., exactly summing to `total`. */
function split(total: number, n: number): number[] {
  const w = Array.from({ length: n }, (_, i) => (i === 0 ? 1.5 : 1 / i));
  const sum = w.reduce((a, b) => a + b, 0);
  const counts = w.map((x) => Math.floor((total * x) / sum));
  let rest = total - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % n, rest--) counts[i]++;
  return counts;
}

/** The demo catalog as JSONL text: a header comment, tenant lines, then per tenant its rules, campaigns and
 * offers. */
export function generateDemoCatalog(opts: DemoOptions = {}): string {
  const seed = opts.seed ?? DEMO_DEFAULTS.seed;
  const total = opts.offers ?? DEMO_DEFAULTS.offers;
  const tenantCount = opts.tenants ?? DEMO_DEFAULTS.tenants;
  if (!Number.isInteger(total) || total < 0 || total > 1_000_000) throw new RangeError('demo offers must be an integer in 0..1000000');
  if (!Number.isInteger(tenantCount) || tenantCount < 1 || tenantCount > 1000) throw new RangeError('demo tenants must be an integer in 1..1000');
  if (!Number.isInteger(seed)) throw new RangeError('demo seed must be an integer');
  const day = Math.floor((opts.now ?? Date.now()) / DAY_MS) * DAY_MS;
  const root = new Prng(seed);
  const lines: string[] = [
    `# txrank demo catalog: seed=${seed} offers=${total} tenants=${tenantCount} day=${new Date(day).toISOString().slice(0, 10)}`,
  ];
  const counts = split(total, tenantCount);
  const tenants = Array.from({ length: tenantCount }, (_, i) => retailer(i));
  for (const tpl of tenants) {
    lines.push(JSON.stringify({ kind: 'tenant', id: tpl.id, name: tpl.name, currency: tpl.currency, placements: tpl.placements }));
  }
  tenants.forEach((tpl, t) => {
    for (const r of tpl.rules) {
      lines.push(JSON.stringify({ kind: 'rule', id: r.id, tenant: tpl.id, when_departments: r.when, offer_categories: r.categories }));
    }
    // One forked stream per tenant: adding a tenant does not reshuffle the others' offers.
    const rng = root.fork();
    const n = counts[t];
    if (n === 0) return;
    const advertisers = makeAdvertisers(rng, Math.min(1500, Math.max(8, Math.round(n / 28))), tpl);
    const { campaigns, weights } = makeCampaigns(rng, tpl.id, advertisers);
    // Cumulative weights make each draw a binary search: 100k offers over ~4k campaigns stays fast.
    const cum = new Float64Array(weights.length);
    let acc = 0;
    weights.forEach((x, i) => (cum[i] = acc += x));
    const offers: OfferLine[] = [];
    const byCampaign: OfferLine[][] = campaigns.map(() => []);
    for (let i = 0; i < n; i++) {
      const r = rng.next() * acc;
      let lo = 0;
      let hi = cum.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid] > r) hi = mid;
        else lo = mid + 1;
      }
      const offer = makeOffer(rng, tpl, i, campaigns[lo], day);
      offers.push(offer);
      byCampaign[lo].push(offer);
    }
    // Campaign settings draw from a stream forked after the offers, so they leave the offers' stream as it was.
    const crng = rng.fork();
    campaigns.forEach((c, i) => lines.push(JSON.stringify(campaignLine(crng, tpl.id, i, c, byCampaign[i], day))));
    for (const o of offers) lines.push(JSON.stringify(o));
  });
  return lines.join('\n') + '\n';
}
