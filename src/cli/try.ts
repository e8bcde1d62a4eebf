/**
 * `node dist/src/cli/try.js --url ws://127.0.0.1:7070/v1/ws --key <key> --tenant freshmart`: sends one
 * realistic checkout to a running server and prints the decision.
 */
import { parseArgs } from 'node:util';
import { DecisionClient } from '../client/client.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:7070/v1/ws' },
    key: { type: 'string' },
    tenant: { type: 'string', default: 'freshmart' },
    placement: { type: 'string', default: 'checkout' },
    k: { type: 'string', default: '3' },
  },
});

async function main(): Promise<void> {
  if (!values.key) {
    console.error('try: --key is required (the server prints a development key at start)');
    process.exit(2);
  }
  const client = await DecisionClient.connect(values.url, values.key);
  const answer = await client.decide({
    tenant: values.tenant,
    placement: values.placement,
    k: Number(values.k),
    buyer: 'b7f3c2e1a9d04f6e',
    txn: {
      id: `txn-${Date.now()}`,
      ts: Date.now(),
      currency: 'USD',
      channel: 'web',
      country: 'US',
      items: [
        { sku: '0001111041700', category: 'baby/diapers/size-3', price: 24.99, quantity: 1, brand: 'Softies' },
        { sku: '0007874235186', category: 'baby/wipes', price: 6.49, quantity: 2 },
        { sku: '0004850002070', category: 'dairy_eggs/milk/whole', price: 3.79, quantity: 1 },
      ],
      total: 41.76,
    },
  });
  console.log(JSON.stringify(answer, null, 2));
  await client.close();
}

main().catch((err: unknown) => {
  console.error(`try: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
