/**
 * @module events/event-bus.test
 * The in-process bus: listeners get what their filter asks for (account, fax, transient or not), a
 * throwing listener harms no other, unsubscribing stops delivery, resync listeners are told when events
 * may have been missed, and each Database has its own bus.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Database } from '../store/database.ts';
import { eventBusOf, InProcessEventBus, setEventBus } from './event-bus.ts';
import type { BusEvent } from './fax-event.ts';

const event = (accountId: string, faxId: string, accountSequence: number | null): BusEvent => ({
  accountId,
  faxId,
  accountSequence,
  envelope: {
    id: `evt_${faxId}_${accountSequence}`,
    type: accountSequence === null ? 'fax.page.progress' : 'fax.page.received',
    timestamp: new Date(0).toISOString(),
    data: {
      faxId,
      sequence: 1,
      status: 'receiving',
      direction: 'inbound',
      from: '+1',
      to: '+2',
      metadata: {},
    },
  },
});

describe('InProcessEventBus', () => {
  it('delivers by account, by fax, and transient events only on request', () => {
    const errors: unknown[] = [];
    const bus = new InProcessEventBus({ onListenerError: (e) => errors.push(e) });
    const seen: Record<string, string[]> = { all: [], a: [], aFax: [], aLive: [], thrower: [] };
    bus.subscribe({}, (e) => seen.all!.push(e.envelope.id));
    bus.subscribe({ accountId: 'a' }, () => {
      throw new Error('listener bug');
    });
    bus.subscribe({ accountId: 'a' }, (e) => seen.a!.push(e.envelope.id));
    bus.subscribe({ accountId: 'a', faxId: 'f1' }, (e) => seen.aFax!.push(e.envelope.id));
    const stop = bus.subscribe({ accountId: 'a', includeTransient: true }, (e) =>
      seen.aLive!.push(e.envelope.id),
    );
    bus.publish(event('a', 'f1', 1));
    bus.publish(event('a', 'f2', 2));
    bus.publish(event('b', 'f3', 1));
    bus.publish(event('a', 'f1', null));
    stop();
    bus.publish(event('a', 'f1', 3));
    assert.deepEqual(seen.all, ['evt_f1_1', 'evt_f2_2', 'evt_f3_1', 'evt_f1_3']);
    assert.deepEqual(seen.a, ['evt_f1_1', 'evt_f2_2', 'evt_f1_3']);
    assert.deepEqual(seen.aFax, ['evt_f1_1', 'evt_f1_3']);
    assert.deepEqual(seen.aLive, ['evt_f1_1', 'evt_f2_2', 'evt_f1_null']);
    assert.equal(errors.length, 3, 'the throwing listener was called for each stored event of account a');
    assert.equal(bus.listenerCount, 4);
  });

  it('tells resync listeners to re-read the log; a throwing one harms no other', () => {
    const errors: unknown[] = [];
    const bus = new InProcessEventBus({ onListenerError: (e) => errors.push(e) });
    let calls = 0;
    bus.onMaybeMissed(() => {
      throw new Error('listener bug');
    });
    const stop = bus.onMaybeMissed(() => calls++);
    bus.announceMaybeMissed();
    stop();
    bus.announceMaybeMissed();
    assert.equal(calls, 1);
    assert.equal(errors.length, 2);
  });

  it('keeps one bus per database, replaceable', () => {
    const one = {} as Database;
    const two = {} as Database;
    assert.equal(eventBusOf(one), eventBusOf(one));
    assert.notEqual(eventBusOf(one), eventBusOf(two));
    const custom = new InProcessEventBus();
    setEventBus(two, custom);
    assert.equal(eventBusOf(two), custom);
  });
});
