/**
 * Frequency caps, worker side: which offers, campaigns and advertisers one buyer key may not be shown now,
 * given what it was served recently (FrequencyStore.history, src/delivery/frequency.ts).
 *
 * A cap is declared on a campaign (Campaign.frequencyCaps) and reads literally: "at most `max` offers of the
 * scope's entity served to one buyer key within `windowMs`".
 *   - scope 'offer': each offer of the campaign, counted separately -> that offer is capped;
 *   - scope 'campaign': the campaign's offers together -> the campaign is capped;
 *   - scope 'advertiser': the offers of the campaign's advertiser together, whichever campaign served them ->
 *     the advertiser is capped, i.e. every campaign of it. Anything less would break the literal statement:
 *     an uncapped sibling campaign serving the (max+1)-th offer of that advertiser.
 * Served within the window means decidedAt > now - windowMs (entries stamped after `now`, clock skew between
 * servers, count too).
 *
 * Why caps count offers served (decisions), not impression events: the history is written when a decision
 * is made, synchronously on the main thread, so the next request of the same buyer, which can arrive
 * milliseconds later (a checkout page re-rendering, a second placement on the same page), already sees it.
 * Impression events arrive later, by a client's hands, or never (a client that does not report them): a cap
 * counting them would let a burst of decisions through before the first impression is ingested, and would
 * not cap at all for such clients. The cost is that an offer served but never rendered counts against the
 * cap, which errs on the side of the buyer.
 *
 * Cost: per request with a buyer key, three passes over a history of at most 64 entries (O(h^2) string
 * compares in the worst case, a few microseconds), allocation-free apart from the output sets' own growth.
 * The caller keeps one `Capped` per worker and tests `capped.size === 0` before touching its offer rows:
 * most buyers are capped on nothing.
 */
import type { Campaign, FrequencyCap } from '../catalog/types.js';
import type { ServedEntry } from './types.js';

/** One tenant's caps, indexed for the per-request check; built once per catalog version. */
export interface CapIndex {
  /** 'offer' and 'campaign' scope caps, by campaign id (only campaigns that have some). */
  readonly byCampaign: ReadonlyMap<string, readonly FrequencyCap[]>;
  /** 'advertiser' scope caps, by advertiser id, gathered from all of the advertiser's campaigns. */
  readonly byAdvertiser: ReadonlyMap<string, readonly FrequencyCap[]>;
}

/**
 * Builds the index of one tenant's campaigns. A cap whose max is below 1 would mean "never show", which a
 * history cannot express (nothing served, nothing counted); the catalog loader refuses it, and it is
 * dropped here.
 */
export function buildCapIndex(campaigns: readonly Pick<Campaign, 'id' | 'advertiser' | 'frequencyCaps'>[]): CapIndex {
  const byCampaign = new Map<string, FrequencyCap[]>();
  const byAdvertiser = new Map<string, FrequencyCap[]>();
  for (const c of campaigns) {
    for (const cap of c.frequencyCaps) {
      if (!(cap.max >= 1 && cap.windowMs > 0)) continue;
      if (cap.scope === 'advertiser') {
        let list = byAdvertiser.get(c.advertiser);
        if (list === undefined) byAdvertiser.set(c.advertiser, (list = []));
        list.push(cap);
      } else {
        let list = byCampaign.get(c.id);
        if (list === undefined) byCampaign.set(c.id, (list = []));
        list.push(cap);
      }
    }
  }
  return { byCampaign, byAdvertiser };
}

/** The answer of cappedFor; keep one per worker and pass it in each time. */
export interface Capped {
  readonly offers: Set<string>;
  readonly campaigns: Set<string>;
  readonly advertisers: Set<string>;
  /** Entities capped, all three sets together. */
  size: number;
}

export function newCapped(): Capped {
  return { offers: new Set(), campaigns: new Set(), advertisers: new Set(), size: 0 };
}

type Field = 'offerId' | 'campaign' | 'advertiser';

function firstAt(history: readonly ServedEntry[], i: number, field: Field): boolean {
  const v = history[i][field];
  for (let j = 0; j < i; j++) if (history[j][field] === v) return false;
  return true;
}

function countSince(history: readonly ServedEntry[], field: Field, value: string, since: number): number {
  let n = 0;
  for (let j = 0; j < history.length; j++) {
    const e = history[j];
    if (e.ts > since && e[field] === value) n++;
  }
  return n;
}

function hits(history: readonly ServedEntry[], caps: readonly FrequencyCap[], scope: FrequencyCap['scope'], field: Field, value: string, now: number): boolean {
  for (let k = 0; k < caps.length; k++) {
    const cap = caps[k];
    if (cap.scope === scope && countSince(history, field, value, now - cap.windowMs) >= cap.max) return true;
  }
  return false;
}

/**
 * Fills `out` (cleared first) with what the buyer may not be shown at `now`, given its history (oldest
 * first or in any order) and the tenant's caps; returns `out`.
 */
export function cappedFor(history: readonly ServedEntry[], now: number, index: CapIndex, out: Capped): Capped {
  out.offers.clear();
  out.campaigns.clear();
  out.advertisers.clear();
  out.size = 0;
  const h = history.length;
  if (h === 0 || (index.byCampaign.size === 0 && index.byAdvertiser.size === 0)) return out;
  for (let i = 0; i < h; i++) {
    const e = history[i];
    const caps = index.byCampaign.get(e.campaign);
    if (caps !== undefined) {
      if (firstAt(history, i, 'offerId') && hits(history, caps, 'offer', 'offerId', e.offerId, now)) out.offers.add(e.offerId);
      if (firstAt(history, i, 'campaign') && hits(history, caps, 'campaign', 'campaign', e.campaign, now)) out.campaigns.add(e.campaign);
    }
    const advCaps = index.byAdvertiser.get(e.advertiser);
    if (advCaps !== undefined && firstAt(history, i, 'advertiser') && hits(history, advCaps, 'advertiser', 'advertiser', e.advertiser, now)) {
      out.advertisers.add(e.advertiser);
    }
  }
  out.size = out.offers.size + out.campaigns.size + out.advertisers.size;
  return out;
}
