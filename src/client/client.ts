/**
 * A small Node client for the decision socket, used by `try`, the tests and the load generator: one
 * persistent WebSocket, many requests in flight, answers matched to requests by id (they may arrive in any
 * order). It speaks only the public protocol (docs/PROTOCOL.md) and imports nothing of the server.
 */
import WebSocket from 'ws';
import { Packr, Unpackr } from 'msgpackr';
import type { AckAnswer, DecideRequest, DecisionAnswer, ErrorAnswer, EventRequest, RequestId } from '../protocol/messages.js';

export type Answer = DecisionAnswer | ErrorAnswer | AckAnswer;

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export class DecisionClient {
  private readonly pending = new Map<RequestId, (a: Answer) => void>();
  /** Answers without a matching pending request (errors about unreadable frames have no id). */
  readonly unmatched: Answer[] = [];
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const answer = unpackr.unpack(data) as Answer;
      const id = answer.id;
      const resolve = id === undefined ? undefined : this.pending.get(id);
      if (resolve && id !== undefined) {
        this.pending.delete(id);
        resolve(answer);
      } else {
        this.unmatched.push(answer);
      }
    });
  }

  static connect(url: string, key: string): Promise<DecisionClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` }, perMessageDeflate: false });
      ws.once('open', () => resolve(new DecisionClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode} ${body}`)));
      });
      ws.once('error', reject);
    });
  }

  /** Sends a decide request (its id is assigned when absent) and resolves with the answer for that id. */
  decide(req: Omit<DecideRequest, 'v' | 'type' | 'id'> & { id?: RequestId }): Promise<Answer> {
    const id = req.id ?? this.nextId++;
    return this.sendRaw({ v: 1, type: 'decide', ...req, id }, id);
  }

  /** Sends an engagement event and resolves with its `ack` (sent once it is durable) or an error. */
  event(e: Omit<EventRequest, 'v' | 'type' | 'id'> & { id?: RequestId }): Promise<Answer> {
    const id = e.id ?? this.nextId++;
    return this.sendRaw({ v: 1, type: 'event', ...e, id }, id);
  }

  /** Sends any value as one binary frame and waits for the answer carrying `id`. */
  sendRaw(value: unknown, id: RequestId): Promise<Answer> {
    return this.sendBytes(packr.pack(value), id);
  }

  sendBytes(frame: Uint8Array, id: RequestId): Promise<Answer> {
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(frame);
    });
  }

  /** Waits for the next answer that has no pending request (e.g. an error about an unreadable frame). */
  async nextUnmatched(timeoutMs = 5000): Promise<Answer> {
    const until = Date.now() + timeoutMs;
    while (this.unmatched.length === 0) {
      if (Date.now() > until) throw new Error('no unmatched answer arrived');
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.unmatched.shift() as Answer;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

export function encodeFrame(value: unknown): Uint8Array {
  return packr.pack(value);
}
