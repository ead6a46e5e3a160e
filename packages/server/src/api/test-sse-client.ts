/**
 * @module api/test-sse-client
 * A Server-Sent Events client for route tests over a real socket: messages and comments in arrival
 * order, each wait bounded, and a close that aborts the request.
 */

export interface SseMessage {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  /** Set for a comment line (`: …`), e.g. a keep-alive. */
  readonly comment?: string;
  readonly retry?: number;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: Headers;
  /** The next message, or undefined when the stream ended; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseMessage | undefined>;
  /** Messages until one matches, skipping the rest, all within `timeoutMs`. */
  nextMatching(match: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage | undefined>;
  readonly ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseConnection> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const queue: (SseMessage | undefined)[] = [];
  let waiter: (() => void) | null = null;
  const push = (m: SseMessage | undefined) => {
    queue.push(m);
    waiter?.();
  };
  const ended = (async () => {
    if (!res.body) return push(undefined);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          let comment: string | undefined;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comment = line.slice(1).trim();
            else {
              const colon = line.indexOf(':');
              fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
            }
          }
          push({
            ...(fields.id === undefined ? {} : { id: fields.id }),
            ...(fields.event === undefined ? {} : { event: fields.event }),
            ...(fields.data === undefined ? {} : { data: fields.data }),
            ...(fields.retry === undefined ? {} : { retry: Number(fields.retry) }),
            ...(comment === undefined ? {} : { comment }),
          });
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted by close(), or the server cut the connection.
    }
    push(undefined);
  })();
  const next = async (timeoutMs = 5000): Promise<SseMessage | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no server-sent event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiter = () => {
          clearTimeout(timer);
          waiter = null;
          resolve();
        };
      });
    }
    const m = queue.shift();
    if (m === undefined) queue.unshift(undefined);
    return m;
  };
  return {
    status: res.status,
    headers: res.headers,
    next,
    async nextMatching(match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = await next(Math.max(1, deadline - Date.now()));
        if (m === undefined || match(m)) return m;
      }
    },
    ended,
    close: () => abort.abort(),
  };
}
