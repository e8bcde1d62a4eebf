/**
 * The example messages of docs/PROTOCOL.md. The document's hex dumps are generated from these with the real
 * encoder (`node dist/src/cli/protocol-examples.js`), and test/protocol-doc.test.ts checks that the document
 * and the encoder still agree byte for byte, so the examples a client author copies are never stale.
 */
import type { AckAnswer, DecideRequest, DecisionAnswer, ErrorAnswer, EventRequest } from './messages.js';

export const EXAMPLE_DECIDE: DecideRequest = {
  v: 1,
  type: 'decide',
  id: 42,
  tenant: 'freshmart',
  placement: 'checkout',
  txn: {
    id: 'T1001',
    ts: 1764417600000,
    currency: 'USD',
    channel: 'web',
    country: 'US',
    items: [{ sku: 'A1', category: 'baby/diapers', price: 24.99, quantity: 1 }],
    total: 24.99,
  },
  k: 1,
};

export const EXAMPLE_DECISION: DecisionAnswer = {
  v: 1,
  type: 'decision',
  id: 42,
  decision_id: '0b6c3f0e-8d1a-4c57-9a43-2f5d7e1b9c10',
  offers: [
    {
      offer_id: 'o-17',
      campaign_id: 'c-3',
      advertiser_id: 'a-2',
      p: 0.031,
      ev: 0.0465,
      position: 1,
      bid_type: 'cpc',
      price: 1.2,
      propensity: 1,
      creative: { headline: 'Wipes $1 off' },
    },
  ],
  policy: 'ai',
  model_version: 'tt-1-3f9a2c1d',
  catalog_version: 7,
  server_us: 180,
};

export const EXAMPLE_ERROR: ErrorAnswer = {
  v: 1,
  type: 'error',
  id: 42,
  code: 'unknown_placement',
  message: 'tenant freshmart has no placement footer',
};

export const EXAMPLE_EVENT: EventRequest = {
  v: 1,
  type: 'event',
  id: 43,
  event_id: 'ev-9001',
  decision_id: '0b6c3f0e-8d1a-4c57-9a43-2f5d7e1b9c10',
  offer_id: 'o-17',
  kind: 'click',
};

export const EXAMPLE_ACK: AckAnswer = {
  v: 1,
  type: 'ack',
  id: 43,
  event_id: 'ev-9001',
  status: 'accepted',
};

export const EXAMPLES = {
  decide: EXAMPLE_DECIDE,
  decision: EXAMPLE_DECISION,
  error: EXAMPLE_ERROR,
  event: EXAMPLE_EVENT,
  ack: EXAMPLE_ACK,
} as const;

/** Hex dump, 16 bytes a line, the form used in docs/PROTOCOL.md. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}
