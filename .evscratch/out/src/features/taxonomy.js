/**
 * The engine's retail category taxonomy: the departments every basket line and every offer is mapped onto.
 * A category path ("dairy_eggs/yogurt/greek") is decided by its first segment; aliases catch the common
 * spellings that retailers and data sets use. Anything unrecognised lands in `other` rather than failing,
 * because a new category on a retailer's site must never break checkout.
 *
 * Changing this list changes the feature layout: bump FEATURE_SPEC_VERSION in spec.ts.
 */
export const DEPARTMENTS = [
    'produce',
    'dairy_eggs',
    'meat_seafood',
    'bakery',
    'pantry',
    'snacks',
    'beverages',
    'frozen',
    'alcohol',
    'household',
    'personal_care',
    'baby',
    'pets',
    'health',
    'beauty',
    'electronics',
    'home_kitchen',
    'apparel',
    'sports_outdoors',
    'toys_games',
    'other',
];
export const DEPARTMENT_COUNT = DEPARTMENTS.length;
export const OTHER_DEPARTMENT = DEPARTMENTS.indexOf('other');
const ALIASES = {
    fruit: 'produce',
    vegetables: 'produce',
    dairy: 'dairy_eggs',
    eggs: 'dairy_eggs',
    'dairy eggs': 'dairy_eggs',
    meat: 'meat_seafood',
    seafood: 'meat_seafood',
    'meat seafood': 'meat_seafood',
    deli: 'meat_seafood',
    bread: 'bakery',
    'dry goods pasta': 'pantry',
    'canned goods': 'pantry',
    grocery: 'pantry',
    breakfast: 'pantry',
    international: 'pantry',
    bulk: 'pantry',
    drinks: 'beverages',
    drink: 'beverages',
    'frozen foods': 'frozen',
    wine: 'alcohol',
    beer: 'alcohol',
    spirits: 'alcohol',
    cleaning: 'household',
    'personal care': 'personal_care',
    toiletries: 'personal_care',
    'baby care': 'baby',
    pet: 'pets',
    'pet supplies': 'pets',
    pharmacy: 'health',
    'health wellness': 'health',
    cosmetics: 'beauty',
    'consumer electronics': 'electronics',
    tech: 'electronics',
    home: 'home_kitchen',
    kitchen: 'home_kitchen',
    'home kitchen': 'home_kitchen',
    clothing: 'apparel',
    fashion: 'apparel',
    shoes: 'apparel',
    sports: 'sports_outdoors',
    outdoors: 'sports_outdoors',
    toys: 'toys_games',
    games: 'toys_games',
    missing: 'other',
};
const INDEX = new Map();
DEPARTMENTS.forEach((d, i) => INDEX.set(d, i));
for (const [alias, dept] of Object.entries(ALIASES))
    INDEX.set(alias, DEPARTMENTS.indexOf(dept));
// Lines repeat the same handful of category strings; caching the mapping keeps the per-request cost to one
// Map lookup. The cache is bounded so a client sending random categories cannot grow memory.
const cache = new Map();
const CACHE_LIMIT = 50_000;
/** Index in DEPARTMENTS of a category path or department name; `other` when unrecognised. */
export function departmentIndex(category) {
    const hit = cache.get(category);
    if (hit !== undefined)
        return hit;
    const slash = category.indexOf('/');
    const head = (slash === -1 ? category : category.slice(0, slash))
        .trim()
        .toLowerCase()
        .replace(/[\s&,_-]+/g, ' ')
        .trim();
    const idx = INDEX.get(head) ?? INDEX.get(head.replace(/ /g, '_')) ?? OTHER_DEPARTMENT;
    if (cache.size < CACHE_LIMIT)
        cache.set(category, idx);
    return idx;
}
