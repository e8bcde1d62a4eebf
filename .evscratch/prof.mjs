import { mkdtempSync } from 'node:fs';
import { openStorage } from '../dist/src/catalog/store.js';
import { EventStore } from '../dist/src/events/store.js';
import { TXN_DIM } from '../dist/src/features/spec.js';
const D = Number(process.argv[2] ?? 100000), B = Number(process.argv[3] ?? 1000), LOCAL = process.argv[4] === 'local';
const dir = mkdtempSync('/tmp/evscratch/p-');
const st = openStorage(dir);
const ev = new EventStore(st.root, { ackOn: 'committed', maxPendingEvents: 1e6 });
const t0 = Date.now() - 600000;
const f = new Float32Array(TXN_DIM).fill(0.5);
const id = (i) => `0b6c3f0e-8d1a-4c57-9a43-${i.toString(16).padStart(12, '0')}`;
for (let i = 0; i < D; i++) { ev.logDecision({ decisionId: id(i), tenant: 'a', placement: 'c', decidedAt: t0, txnFeatures: f, modelVersion: 'm', catalogVersion: 1, policy: 'ai', shown: [0,1,2].map(k => ({ offerId: 'o' + k, position: k + 1, p: 0.1, propensity: 1 })) }); if (i % 1000 === 0) await new Promise(r => setImmediate(r)); }
await st.root.committed;
let n = 0; const start = performance.now();
while (performance.now() - start < 4000) {
  const batch = [];
  for (let k = 0; k < B; k++) { const d = LOCAL ? (n % D) : Math.floor(Math.random() * D); batch.push({ tenant: 'a', eventId: 'e' + n++, decisionId: id(d), offerId: 'o' + (k % 3), kind: 'impression', ts: t0 + 1000 }); }
  await Promise.all([ev.ingest(batch.slice(0, B / 2)), ev.ingest(batch.slice(B / 2))]);
}
const s = (performance.now() - start) / 1000;
console.log(`D=${D} B=${B} local=${LOCAL}: ${Math.round(n / s)} events/s`, process.cpuUsage());
await ev.close(); await st.close();
