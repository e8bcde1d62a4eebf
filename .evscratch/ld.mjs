import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { openStorage } from '../dist/src/catalog/store.js';
import { EventStore } from '../dist/src/events/store.js';
import { encodeDecision } from '../dist/src/events/decision-codec.js';
import { TXN_DIM } from '../dist/src/features/spec.js';
const st = openStorage(mkdtempSync('/tmp/evscratch/p-'));
const ev = new EventStore(st.root, {});
const f = new Float32Array(TXN_DIM).fill(0.5);
const recs = Array.from({ length: 50000 }, (_, i) => ({ decisionId: randomUUID(), tenant: 'freshmart', placement: 'checkout', buyer: 'b-123', decidedAt: Date.now(), txnFeatures: f, modelVersion: 'tt-1-3f9a2c1d', catalogVersion: 1, policy: 'ai', shown: [0,1,2].map(k => ({ offerId: 'fm-00012' + k, position: k + 1, p: 0.1, propensity: 1 })) }));
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now(); for (const r of recs) encodeDecision(r); const enc = (performance.now() - t) * 1000 / recs.length;
  t = performance.now(); let spent = 0;
  for (let i = 0; i < recs.length; i += 500) { const s = performance.now(); for (let j = i; j < i + 500; j++) ev.logDecision({ ...recs[j], decisionId: recs[j].decisionId + rep }); spent += performance.now() - s; await new Promise(r => setImmediate(r)); }
  console.log('encode µs', enc.toFixed(2), 'logDecision µs', (spent * 1000 / recs.length).toFixed(2));
}
await ev.close(); await st.close();
