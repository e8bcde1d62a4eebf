/**
 * The feedback loop end to end on a real server: decisions -> engagement events -> labelled examples ->
 * the trainer thread exports a candidate -> the model manager validates and promotes it -> the inference
 * workers swap it in -> later decisions report the new model version. Real threads, ONNX sessions, LMDB.
 */
import { describe, expect, it } from 'vitest';
import { decideRequest, startTestServer } from './helpers/harness.js';
import type { Answer } from '../src/client/client.js';

async function until(cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const CATEGORIES = ['baby/diapers', 'pets/dog-food', 'snacks/chips', 'beverages/coffee', 'produce/fruit', 'household/cleaning'];

describe('learning loop', () => {
  it('trains on engagement, promotes a new model, and later decisions report it', async () => {
    const t = await startTestServer({
      overrides: { learning: true, clickWindowMs: 1000, exportEveryExamples: 300, exportEverySeconds: 2 },
    });
    try {
      const first = await t.connect();
      const before = await first.decide(decideRequest());
      if (before.type !== 'decision') throw new Error(JSON.stringify(before));
      const initialVersion = before.model_version;

      // 200 decisions over varied baskets; every shown offer gets an impression, the first slot a click
      // on every third decision. Acks are awaited, so every event is committed.
      const acks: Answer[] = [];
      let eventSeq = 0;
      let firstEvent: Record<string, unknown> | null = null;
      for (let i = 0; i < 200; i++) {
        const req = decideRequest({
          txn: { ...decideRequest().txn, items: [{ sku: `s${i}`, category: CATEGORIES[i % CATEGORIES.length], price: 3 + (i % 30), quantity: 1 }], total: 3 + (i % 30) },
        });
        const d = await first.decide(req);
        if (d.type !== 'decision') throw new Error(JSON.stringify(d));
        for (const o of d.offers) {
          const ev = { v: 1, type: 'event', id: `e${++eventSeq}`, event_id: `imp-${d.decision_id}-${o.offer_id}`, decision_id: d.decision_id, offer_id: o.offer_id, kind: 'impression' };
          firstEvent ??= ev;
          acks.push(await first.sendRaw(ev, ev.id));
        }
        if (i % 3 === 0 && d.offers[0]) {
          acks.push(await first.sendRaw({ v: 1, type: 'event', id: `e${++eventSeq}`, event_id: `clk-${d.decision_id}`, decision_id: d.decision_id, offer_id: d.offers[0].offer_id, kind: 'click' }, `e${eventSeq}`));
        }
      }
      expect(acks.every((a) => a.type === 'ack' && a.status === 'accepted')).toBe(true);

      // A resend of an acknowledged event (a client retry) is a duplicate, not counted twice.
      const retry = firstEvent;
      if (!retry) throw new Error('no event was sent');
      const again = await first.sendRaw({ ...retry, id: 'again' }, 'again');
      expect(again.type === 'ack' ? again.status : again).toBe('duplicate');

      // The click window closes after 1 s; the labeler runs every second; the trainer exports at 300
      // examples or 2 s; the manager polls every 500 ms. A promotion reaches the workers by broadcast.
      await until(async () => {
        const a = await first.decide(decideRequest());
        return a.type === 'decision' && a.model_version !== initialVersion;
      }, 45_000);
      const models = (await (await fetch(`${t.http}/admin/models`, { headers: { authorization: `Bearer ${t.adminKey}` } })).json()) as {
        serving: string;
        generation: number;
      };
      expect(models.serving).not.toBe(initialVersion);
      expect(models.generation).toBeGreaterThan(1);
      const metrics = await (await fetch(`${t.http}/metrics`)).text();
      expect(Number(/txrank_events_accepted_total (\d+)/.exec(metrics)?.[1])).toBe(acks.length);
      expect(Number(/txrank_events_duplicate_total (\d+)/.exec(metrics)?.[1])).toBe(1);
      expect(Number(/txrank_examples_emitted_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
      expect(Number(/txrank_model_generation (\d+)/.exec(metrics)?.[1])).toBe(models.generation);
      const after = await first.decide(decideRequest());
      expect(after.type === 'decision' && after.model_version).toBe(models.serving);
      await first.close();
    } finally {
      await t.close();
    }
  }, 90_000);
});
