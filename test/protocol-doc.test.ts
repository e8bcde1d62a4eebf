import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/client/client.js';
import { ERROR_CODES, ERROR_CODE_LIST } from '../src/errors/codes.js';
import { encodeMessage, decodeFrame } from '../src/protocol/codec.js';
import { EXAMPLES, hexDump } from '../src/protocol/examples.js';

const doc = readFileSync(new URL('../docs/PROTOCOL.md', import.meta.url), 'utf8');

function hexBlock(name: string): string {
  const m = doc.match(new RegExp('```hex ' + name + '\\n([\\s\\S]*?)\\n```'));
  if (!m) throw new Error(`docs/PROTOCOL.md has no hex block "${name}"`);
  return m[1].trim();
}

function bytesOf(hex: string): Uint8Array {
  return Uint8Array.from(hex.split(/\s+/).map((h) => parseInt(h, 16)));
}

describe('docs/PROTOCOL.md', () => {
  it('shows exactly the bytes the encoders produce', () => {
    expect(hexBlock('decide')).toBe(hexDump(encodeFrame(EXAMPLES.decide)));
    expect(hexBlock('decision')).toBe(hexDump(encodeMessage(EXAMPLES.decision)));
    expect(hexBlock('error')).toBe(hexDump(encodeMessage(EXAMPLES.error)));
    expect(hexBlock('event')).toBe(hexDump(encodeFrame(EXAMPLES.event)));
    expect(hexBlock('ack')).toBe(hexDump(encodeMessage(EXAMPLES.ack)));
  });

  it('hex examples decode back to the documented JSON', () => {
    expect(decodeFrame(bytesOf(hexBlock('decide')))).toEqual(EXAMPLES.decide);
    expect(decodeFrame(bytesOf(hexBlock('decision')))).toEqual(EXAMPLES.decision);
    expect(decodeFrame(bytesOf(hexBlock('error')))).toEqual(EXAMPLES.error);
    expect(decodeFrame(bytesOf(hexBlock('event')))).toEqual(EXAMPLES.event);
    expect(decodeFrame(bytesOf(hexBlock('ack')))).toEqual(EXAMPLES.ack);
  });

  it('documents every error code, and only codes that exist', () => {
    const section = doc.split('<!-- codes:begin -->')[1].split('<!-- codes:end -->')[0];
    const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...ERROR_CODE_LIST].sort());
    for (const code of ERROR_CODE_LIST) expect(section).toContain(ERROR_CODES[code]);
  });
});
