/**
 * @module events/live-event-stream.test
 * One SSE connection against a scripted log and socket: catch-up then live, a gap or out-of-order
 * publish answered from the log (no event lost or repeated), a bus that may have missed events answered
 * from the log too, transient events without ids, memory
 * bounded while the client lags, and a client that stops reading disconnected — then resumable.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BusEvent } from './fax-event.ts';
import { type EventFeed, LiveEventStream } from './live-event-stream.ts';

class StubResponse extends EventEmitter {
  readonly chunks: string[] = [];
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  /** While false, the "socket" takes nothing: every write stays buffered. */
  reading = true;
  writeHead() {}
  flushHeaders() {}
  write(text: string): boolean {
    this.chunks.push(text);
    if (this.reading) return true;
    this.writableLength += text.length;
    return false;
  }
  end() {
    this.writableEnded = true;
    this.emit('close');
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  resume() {
    this.reading = true;
    this.writableLength = 0;
    this.emit('drain');
  }
  ids(): string[] {
    return this.chunks.flatMap((c) => /^id: (.*)$/m.exec(c)?.[1] ?? []);
  }
}

const stored = (n: number): BusEvent => ({
  accountId: 'a',
  faxId: 'f',
  accountSequence: n,
  envelope: {
    id: `evt_${n}`,
    type: 'fax.page.received',
    timestamp: new Date(0).toISOString(),
    data: {
      faxId: 'f',
      sequence: n,
      status: 'receiving',
      direction: 'inbound',
      from: '+1',
      to: '+2',
      metadata: {},
    },
  },
});
const progress = (rows: number): BusEvent => ({
  ...stored(0),
  accountSequence: null,
  envelope: {
    ...stored(0).envelope,
    id: 'prg',
    type: 'fax.page.progress',
    data: { ...stored(0).envelope.data, rows },
  },
});

class ScriptedFeed implements EventFeed {
  readonly log: BusEvent[] = [];
  listener: ((e: BusEvent) => void) | null = null;
  resync: (() => void) | null = null;
  reads = 0;
  subscribe(listener: (e: BusEvent) => void) {
    this.listener = listener;
    return () => {
      this.listener = null;
    };
  }
  onMaybeMissed(listener: () => void) {
    this.resync = listener;
    return () => {
      this.resync = null;
    };
  }
  async readAfter(position: number, limit: number) {
    this.reads++;
    return this.log.filter((e) => e.accountSequence! > position).slice(0, limit);
  }
  positionOf(e: BusEvent) {
    return e.accountSequence;
  }
  commit(n: number, publish = true) {
    const e = stored(n);
    this.log.push(e);
    if (publish) this.listener?.(e);
  }
}

const until = async (condition: () => boolean, what = 'condition reached') => {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(2);
  assert.ok(condition(), what);
};

describe('LiveEventStream', () => {
  it('catches up from the log, then streams; a gap or a late publish is filled from the log', async () => {
    const res = new StubResponse();
    const feed = new ScriptedFeed();
    for (const n of [1, 2, 3]) feed.commit(n, false);
    const stream = new LiveEventStream(res as unknown as ServerResponse, feed, 1, { keepAliveMs: 60_000 });
    const done = stream.run();
    await until(() => res.ids().length === 2);
    feed.commit(4);
    await until(() => res.ids().length === 3);
    // 6 is published before 5 (two commits racing to publish): the stream must not skip 5.
    feed.log.push(stored(5), stored(6));
    feed.listener?.(stored(6));
    feed.listener?.(stored(5));
    feed.listener?.(progress(40));
    await until(
      () => res.ids().length === 5 && res.chunks.some((c) => c.includes('fax.page.progress')),
      'five stored events and the progress',
    );
    stream.close();
    assert.equal(await done, 'server_closing');
    assert.deepEqual(res.ids(), ['evt_2', 'evt_3', 'evt_4', 'evt_5', 'evt_6']);
    const transient = res.chunks.find((c) => c.includes('fax.page.progress'))!;
    assert.ok(!transient.includes('id:'), 'a transient event has no id, so resuming never points at it');
    assert.equal(res.writableEnded, true);
  });

  it('re-reads the log when the bus may have missed events, long before the keep-alive', async () => {
    const res = new StubResponse();
    const feed = new ScriptedFeed();
    const stream = new LiveEventStream(res as unknown as ServerResponse, feed, 0, { keepAliveMs: 60_000 });
    const done = stream.run();
    feed.commit(1);
    await until(() => res.ids().length === 1);
    // Committed elsewhere while the bus was not listening: no publish reaches the stream.
    feed.commit(2, false);
    feed.commit(3, false);
    await sleep(20);
    assert.deepEqual(res.ids(), ['evt_1'], 'nothing announced them');
    feed.resync?.();
    await until(() => res.ids().length === 3, 'the missed events, from the log');
    stream.close();
    assert.equal(await done, 'server_closing');
    assert.deepEqual(res.ids(), ['evt_1', 'evt_2', 'evt_3']);
    assert.equal(feed.resync, null, 'the stream stopped listening for resyncs');
    assert.ok(!res.chunks.some((c) => c.includes('keep-alive')));
  });

  it('holds a bounded number of hints while the client lags, and loses nothing once it drains', async () => {
    const res = new StubResponse();
    const feed = new ScriptedFeed();
    const stream = new LiveEventStream(res as unknown as ServerResponse, feed, 0, {
      keepAliveMs: 60_000,
      slowClientMs: 10_000,
      maxPending: 8,
    });
    const done = stream.run();
    await until(() => res.chunks.length === 1);
    res.reading = false;
    feed.commit(1);
    await until(() => res.writableLength > 0);
    let maxPending = 0;
    for (let n = 2; n <= 500; n++) {
      feed.commit(n);
      feed.listener?.(progress(n));
      maxPending = Math.max(maxPending, stream.pendingCount);
    }
    assert.ok(maxPending <= 8, `at most 8 hints held (saw ${maxPending})`);
    res.resume();
    await until(() => res.ids().length === 500);
    stream.close();
    await done;
    assert.deepEqual(
      res.ids(),
      Array.from({ length: 500 }, (_, i) => `evt_${i + 1}`),
    );
  });

  it('disconnects a client that stops reading; it resumes where it was', async () => {
    const res = new StubResponse();
    const feed = new ScriptedFeed();
    const stream = new LiveEventStream(res as unknown as ServerResponse, feed, 0, {
      keepAliveMs: 60_000,
      slowClientMs: 30,
    });
    const done = stream.run();
    feed.commit(1);
    await until(() => res.ids().length === 1);
    res.reading = false;
    feed.commit(2);
    feed.commit(3);
    assert.equal(await done, 'slow_client');
    assert.equal(res.destroyed, true);

    const again = new StubResponse();
    const resumed = new LiveEventStream(again as unknown as ServerResponse, feed, 1, { keepAliveMs: 60_000 });
    const resumedDone = resumed.run();
    await until(() => again.ids().length === 2);
    resumed.close();
    await resumedDone;
    assert.deepEqual(again.ids(), ['evt_2', 'evt_3']);
  });

  it('sends keep-alive comments and polls the log for events no one published', async () => {
    const res = new StubResponse();
    const feed = new ScriptedFeed();
    const stream = new LiveEventStream(res as unknown as ServerResponse, feed, 0, { keepAliveMs: 20 });
    const done = stream.run();
    await until(() => feed.reads === 1);
    feed.commit(1, false);
    await until(() => res.ids().length === 1);
    assert.ok(res.chunks.includes(': keep-alive\n\n'), 'the poll came with a keep-alive');
    stream.close();
    await done;
  });
});
