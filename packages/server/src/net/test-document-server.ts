/**
 * @module net/test-document-server
 * A real HTTP server on 127.0.0.1 serving documents by path, for the tests of documents given by URL,
 * with the misbehaving answers those tests share: a body over the size limit (declared up front, or
 * streamed without a length) and a body that never ends.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type DocumentHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface TestDocumentServer {
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** Every request's path and query, in arrival order. */
  readonly hits: readonly string[];
  close(): Promise<void>;
}

/** Serves `routes` by path (the query is ignored); any other path answers 404. */
export async function startDocumentServer(
  routes: Record<string, DocumentHandler>,
): Promise<TestDocumentServer> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const handler = routes[(req.url ?? '/').split('?')[0]!];
    if (handler) handler(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('no such file');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** How much of a document the never-finishing answers send: enough to sniff, never a whole file. */
const HEAD_BYTES = 16;

/** Declares `declaredBytes` in Content-Length and sends only the head: a fetch must refuse on the header. */
export function tooLargeDeclared(document: Buffer, declaredBytes: number): DocumentHandler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(declaredBytes) });
    res.write(document.subarray(0, HEAD_BYTES));
  };
}

/** No Content-Length: the document, then padding, until more than `totalBytes` went or the client left. */
export function tooLargeStreamed(document: Buffer, totalBytes: number): DocumentHandler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/pdf' });
    res.write(document);
    const chunk = Buffer.alloc(1024, 0x20);
    let sent = document.length;
    const more = () => {
      if (res.destroyed || sent > totalBytes) return res.end();
      sent += chunk.length;
      res.write(chunk, more);
    };
    more();
  };
}

/** Sends the head of the document and never finishes; the client has to give up. */
export function neverEnding(document: Buffer): DocumentHandler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/pdf' });
    res.write(document.subarray(0, HEAD_BYTES));
  };
}
