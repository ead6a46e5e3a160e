/**
 * @module
 * A parser for `text/event-stream` (the WHATWG Server-Sent Events format) over any byte stream, so the SDK can
 * follow Faxwire's live streams with plain fetch in Node and browsers.
 */

export interface ServerSentEvent {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
  readonly retryMs?: number;
}

/** Yields the events of a stream as they complete; comments and keep-alives are skipped. */
export async function* parseServerSentEvents(
  stream: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  let retryMs: number | undefined;
  const source = Symbol.asyncIterator in stream ? stream : readableToIterable(stream);
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let lineEnd = buffer.search(/\r\n|\r|\n/);
    while (lineEnd >= 0) {
      const line = buffer.slice(0, lineEnd);
      buffer = buffer.slice(lineEnd + (buffer.startsWith('\r\n', lineEnd) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n'), retryMs };
        event = '';
        data = [];
        retryMs = undefined;
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
      }
      lineEnd = buffer.search(/\r\n|\r|\n/);
    }
  }
}

async function* readableToIterable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
