/**
 * @module webhooks/test-receiver
 * A real HTTP server on 127.0.0.1 that records every webhook request it gets and answers as the test
 * scripts it: a status (with headers), or no answer at all (the sender's timeout). For tests and the
 * latency bench.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly path: string;
  /** performance.now() when the request headers arrived. */
  readonly arrivedAt: number;
  /** The status answered; null when the request was left hanging. */
  status: number | null;
}

export type ReceiverAnswer = { status: number; headers?: Record<string, string> } | 'hang';

export interface TestReceiver {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedWebhook[];
  /** Decides each answer; the default answers 204. */
  answer: (request: ReceivedWebhook, index: number) => ReceiverAnswer;
  /** Called as each request arrives, before its body is read. */
  onArrival?: (arrivedAt: number, headers: IncomingHttpHeaders) => void;
  close(): Promise<void>;
}

export async function startTestReceiver(): Promise<TestReceiver> {
  const received: ReceivedWebhook[] = [];
  let server: Server;
  const receiver: TestReceiver = {
    url: '',
    port: 0,
    received,
    answer: () => ({ status: 204 }),
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  server = createServer((req, res) => {
    const arrivedAt = performance.now();
    receiver.onArrival?.(arrivedAt, req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ReceivedWebhook = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        path: req.url ?? '/',
        arrivedAt,
        status: null,
      };
      received.push(request);
      const answer = receiver.answer(request, received.length - 1);
      if (answer === 'hang') return;
      request.status = answer.status;
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  // As a typical receiver keeps an idle connection (Node's default), so senders may reuse it.
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  Object.assign(receiver, { port, url: `http://127.0.0.1:${port}/hooks` });
  return receiver;
}
