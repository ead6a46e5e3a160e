import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServerSentEvents } from './sse-parser.ts';

async function collect(chunks: string[]) {
  const enc = new TextEncoder();
  async function* source() {
    for (const c of chunks) yield enc.encode(c);
  }
  const out = [];
  for await (const e of parseServerSentEvents(source())) out.push(e);
  return out;
}

test('events split across chunks at any point, with ids, types, multi-line data and comments', async () => {
  const text =
    ': keep-alive\n\nid: 7\nevent: fax.page.received\ndata: {"a":\ndata: 1}\n\r\nretry: 2500\ndata: x\n\n';
  for (let cut = 0; cut < text.length; cut++) {
    const events = await collect([text.slice(0, cut), text.slice(cut)]);
    assert.deepEqual(
      events.map((e) => ({ ...e })),
      [
        { id: '7', event: 'fax.page.received', data: '{"a":\n1}', retryMs: undefined },
        { id: '7', event: 'message', data: 'x', retryMs: 2500 },
      ],
      `cut at ${cut}`,
    );
  }
});

test('an unfinished event at the end of the stream is dropped', async () => {
  assert.deepEqual(await collect(['data: partial']), []);
});
