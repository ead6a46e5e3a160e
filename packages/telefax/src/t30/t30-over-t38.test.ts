import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { samplePage } from '../codec/sample-pages.ts';
import { type BilevelPage, samePixels } from '../image/bilevel-page.ts';
import { T38Transport } from '../t38/t38-transport.ts';
import { UdptlEndpoint } from '../t38/udptl-endpoint.ts';
import { T30Session } from './t30-session.ts';

/** Two T.38 terminals on 127.0.0.1, unpaced, each told the other's port. */
async function transportPair(): Promise<[T38Transport, T38Transport]> {
  const ea = await UdptlEndpoint.open({ localPort: 0, localAddress: '127.0.0.1' });
  const eb = await UdptlEndpoint.open({ localPort: 0, localAddress: '127.0.0.1' });
  ea.setRemote('127.0.0.1', eb.localPort);
  eb.setRemote('127.0.0.1', ea.localPort);
  return [new T38Transport(ea, { pace: 'none' }), new T38Transport(eb, { pace: 'none' })];
}

describe('our engine against itself over T.38 (UDPTL on 127.0.0.1, unpaced)', () => {
  for (const [ecm, compression] of [
    [true, 'mmr'],
    [false, 'mh'],
    [false, 'mr'],
  ] as const) {
    test(`3 pages, ECM ${ecm ? 'on' : 'off'}, ${compression}: pixel-identical`, async () => {
      const pages: BilevelPage[] = [
        samplePage('text', 1728, 400, 1),
        samplePage('random', 1728, 200, 2),
        samplePage('stripes', 1728, 300, 3),
      ];
      const [a, b] = await transportPair();
      const received: BilevelPage[] = [];
      try {
        const sender = new T30Session({
          port: a,
          direction: 'send',
          calling: true,
          pages,
          ecm,
          compression,
          ident: 'sender',
        });
        const receiver = new T30Session({
          port: b,
          direction: 'receive',
          calling: false,
          ecm,
          ident: 'receiver',
          onPage: (p) => {
            received.push(p);
          },
        });
        const [s, r] = await Promise.all([sender.run(), receiver.run()]);
        assert.equal(s.ok, true, JSON.stringify(s));
        assert.equal(r.ok, true, JSON.stringify(r));
        assert.equal(s.pages, 3);
        assert.equal(r.pages, 3);
        assert.equal(s.line?.compression, compression);
        assert.equal(s.remoteIdent, 'receiver');
        assert.equal(received.length, 3);
        for (let i = 0; i < 3; i++) assert.ok(samePixels(received[i], pages[i]), `page ${i + 1} differs`);
      } finally {
        await a.close();
        await b.close();
      }
    });
  }
});
