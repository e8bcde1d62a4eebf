/**
 * Engagement: what a decision's accepted events say about each offer it showed, as flag bits. Computed
 * from the decision's events (one key range) when needed: by the labeler, and for reports. Nothing
 * maintains it on the ingest path, which only appends events.
 */
import type { EventKind } from './types.js';

/** One bit per event kind. */
export const FLAG: Readonly<Record<EventKind, number>> = { impression: 1, click: 2, conversion: 4, dismiss: 8 };

/** An offer counts as seen (it gets an example) when the buyer saw it: an impression, or a click or a
 * dismiss, which imply one (impression beacons get lost; a click on an unseen offer is impossible). */
export const SEEN = FLAG.impression | FLAG.click | FLAG.dismiss;

/** FLAG bits per shown offer (in shown order) from the decision's events. Events on offers it did not show
 * cannot exist (ingest refuses them) and are ignored. */
export function engagementFlags(offerIds: readonly string[], events: Iterable<{ kind: EventKind; offerId: string }>): Uint8Array {
  const flags = new Uint8Array(offerIds.length);
  for (const e of events) {
    const i = offerIds.indexOf(e.offerId);
    if (i >= 0) flags[i] |= FLAG[e.kind];
  }
  return flags;
}
