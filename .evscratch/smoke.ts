import { mkdtempSync } from 'node:fs';
import { openStorage } from '../src/catalog/store.js';
import { EventStore } from '../src/events/store.js';
import { TXN_DIM } from '../src/features/spec.js';
const dir = mkdtempSync('/tmp/evscratch/s-');
const st = openStorage(dir);
const ev = new EventStore(st.root, { ackOn: 'committed' });
const t0 = 1_700_000_000_000;
const f = new Float32Array(TXN_DIM).map((_, i) => i / 10);
ev.logDecision({ decisionId: 'd1', tenant: 'a', placement: 'checkout', decidedAt: t0, txnFeatures: f, modelVersion: 'm1', catalogVersion: 3, policy: 'ai', shown: [{ offerId: 'o1', position: 1, p: 0.1, propensity: 1 }, { offerId: 'o2', position: 2, p: 0.05, propensity: 1 }] });
const r = await ev.ingest([
  { tenant: 'a', eventId: 'e1', decisionId: 'd1', offerId: 'o1', kind: 'impression', ts: t0 + 1000 },
  { tenant: 'a', eventId: 'e1', decisionId: 'd1', offerId: 'o1', kind: 'impression', ts: t0 + 1000 },
  { tenant: 'a', eventId: 'e2', decisionId: 'd1', offerId: 'o1', kind: 'click', ts: t0 + 2000 },
  { tenant: 'a', eventId: 'e3', decisionId: 'd1', offerId: 'o2', kind: 'impression', ts: t0 + 2000 },
  { tenant: 'b', eventId: 'e4', decisionId: 'd1', offerId: 'o2', kind: 'impression', ts: t0 + 2000 },
  { tenant: 'a', eventId: 'e5', decisionId: 'd1', offerId: 'zz', kind: 'impression', ts: t0 + 2000 },
  { tenant: 'a', eventId: 'e6', decisionId: 'd1', offerId: 'o2', kind: 'click', ts: t0 + 2 * 3600_000 },
], t0 + 5000);
console.log(r);
console.log(ev.getEngagement('a', 'd1'), ev.eventsOf('a', 'd1'), ev.getEvent('a','d1','e2'));
console.log(await ev.labelDue(t0 + 3600_001), await ev.labelDue(t0 + 3600_001 + 5000));
console.log(ev.read(-1, 10).map(x => ({...x, txnFeatures: x.txnFeatures.length})));
console.log(ev.counters());
console.log(await ev.sweep(t0 + 9 * 86400_000), ev.read(0, 10).length, ev.getDecision('a','d1'));
await ev.close(); await st.close();
