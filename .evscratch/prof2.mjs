import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { openStorage } from '../dist/src/catalog/store.js';
import { EventStore } from '../dist/src/events/store.js';
import { TXN_DIM } from '../dist/src/features/spec.js';
const D = Number(process.argv[2] ?? 200000), B = Number(process.argv[3] ?? 1000), W = Number(process.argv[4] ?? 20000), IDS = process.argv[5] ?? 'uuid', ACK = process.argv[6] ?? 'committed', LANES = Number(process.argv[7] ?? 4);
const dir = mkdtempSync('/tmp/evscratch/p-');
const st = openStorage(dir);
const ev = new EventStore(st.root, { ackOn: ACK, maxPendingEvents: 1e6 });
const now = Date.now(); const t0 = now - 20 * 60000;
const f = new Float32Array(TXN_DIM).fill(0.5);
const ids = Array.from({ length: D }, () => randomUUID());
for (let i = 0; i < D; i++) { ev.logDecision({ decisionId: ids[i], tenant: 'a', placement: 'c', decidedAt: t0 + Math.floor(i * 20 * 60000 / D), txnFeatures: f, modelVersion: 'm', catalogVersion: 1, policy: 'ai', shown: [0,1,2].map(k => ({ offerId: 'o' + k, position: k + 1, p: 0.1, propensity: 1 })) }); if (i % 1000 === 0) await new Promise(r => setImmediate(r)); }
await st.root.committed;
let n = 0; const start = performance.now();
const lane = async () => { while (performance.now() - start < 5000) {
  const batch = [];
  for (let k = 0; k < B; k++) { const r = Math.random(); const d = r < 0.95 ? D - 1 - Math.floor(Math.random() * W) : Math.floor(Math.random() * D); const kind = r < 0.8 ? 'impression' : r < 0.95 ? 'click' : 'conversion'; batch.push({ tenant: 'a', eventId: IDS === 'uuid' ? randomUUID() : 'e' + String(n).padStart(10, '0'), decisionId: ids[d], offerId: 'o' + (k % 3), kind, ts: now - 1000 }); n++; }
  const o = await ev.ingest(batch); if (!('status' in o[0]) && o[0].code !== 'out_of_window') { console.log(o[0]); }
}};
await Promise.all(Array.from({ length: LANES }, lane));
const s = (performance.now() - start) / 1000;
console.log(`D=${D} B=${B} W=${W} ids=${IDS} ack=${ACK} lanes=${LANES}: ${Math.round(n / s)} events/s`, process.cpuUsage(), ev.counters().eventsRejected.out_of_window);
await ev.close(); await st.close();
