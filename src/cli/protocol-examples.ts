/** Prints the byte-level examples of docs/PROTOCOL.md from the real encoder. */
import { encodeFrame } from '../client/client.js';
import { encodeMessage } from '../protocol/codec.js';
import { EXAMPLES, hexDump } from '../protocol/examples.js';

console.log(`decide (${encodeFrame(EXAMPLES.decide).length} bytes)\n${hexDump(encodeFrame(EXAMPLES.decide))}\n`);
console.log(`decision (${encodeMessage(EXAMPLES.decision).length} bytes)\n${hexDump(encodeMessage(EXAMPLES.decision))}\n`);
console.log(`error (${encodeMessage(EXAMPLES.error).length} bytes)\n${hexDump(encodeMessage(EXAMPLES.error))}\n`);
console.log(`event (${encodeFrame(EXAMPLES.event).length} bytes)\n${hexDump(encodeFrame(EXAMPLES.event))}\n`);
console.log(`ack (${encodeMessage(EXAMPLES.ack).length} bytes)\n${hexDump(encodeMessage(EXAMPLES.ack))}`);
