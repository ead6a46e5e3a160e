import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, test } from 'node:test';
import { encodeIfpInto, type IfpPacket } from '../t38/ifp.ts';
import { T38Transport } from '../t38/t38-transport.ts';
import { UdptlEndpoint } from '../t38/udptl-endpoint.ts';
import { UdptlSender } from '../t38/udptl-sender.ts';
import { defaultCapabilities } from './dis-dcs.ts';
import { Fcf } from './fcf.ts';
import { buildFrame } from './hdlc-frame.ts';
import { createMemoryPortPair } from './memory-port-pair.ts';
import { standardPageCodec } from './standard-page-codec.ts';
import { T30Context } from './t30-context.ts';
import type { T30Port } from './t30-port.ts';
import { resolveTimers } from './timers.ts';

function contextOn(port: T30Port): T30Context {
  return new T30Context(
    { port, direction: 'receive', calling: false },
    resolveTimers(),
    standardPageCodec,
    defaultCapabilities(),
  );
}

/** Blocks the event loop, as a long synchronous task would. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('T30Context.nextEvent after its deadline', () => {
  test('returns an event already queued in the port instead of a timeout', async () => {
    const { a, b } = createMemoryPortPair();
    const ctx = contextOn(b);
    await a.sendHdlc('v21', [buildFrame(Fcf.MPS)]);
    const event = await ctx.nextEvent(Date.now() - 1);
    assert.equal(event?.type, 'carrier-up');
    // The command queued before the deadline is read whole, as if no time had been lost.
    const r = await ctx.receiveFrames(0);
    assert.equal(r.kind, 'frames');
    assert.equal(r.kind === 'frames' ? r.frames[0].command : -1, Fcf.MPS);
  });

  test('still times out when nothing is queued', async () => {
    const { b } = createMemoryPortPair();
    assert.equal(await contextOn(b).nextEvent(Date.now() - 1), null);
    assert.deepEqual(await contextOn(b).receiveFrames(1), { kind: 'timeout' });
  });

  test('over UDPTL: a command that arrived while the event loop was stalled past T2 is still answered', async () => {
    const endpoint = await UdptlEndpoint.open({ localPort: 0, localAddress: '127.0.0.1' });
    const far = createSocket('udp4');
    await new Promise<void>((resolve) => far.bind(0, '127.0.0.1', () => resolve()));
    endpoint.setRemote('127.0.0.1', far.address().port);
    await new Promise<void>((resolve) => far.connect(endpoint.localPort, '127.0.0.1', () => resolve()));
    const port = new T38Transport(endpoint, { pace: 'none' });
    try {
      const ctx = contextOn(port);
      // The far end's EOP in one V.21 burst: preamble indicator, the frame, signal end (bits reversed for T.38).
      const frame = buildFrame(Fcf.EOP);
      const wire = frame.map((octet) => {
        let r = 0;
        for (let bit = 0; bit < 8; bit++) if (octet & (1 << bit)) r |= 0x80 >> bit;
        return r;
      });
      const packets: IfpPacket[] = [
        { kind: 'indicator', indicator: 'v21-preamble' },
        {
          kind: 'data',
          dataType: 'v21',
          fields: [{ type: 'hdlc-data', data: wire }, { type: 'hdlc-fcs-ok-sig-end' }],
        },
        { kind: 'indicator', indicator: 'no-signal' },
      ];
      const udptl = new UdptlSender({ mode: 'redundancy', depth: 3 }, 400, 0);
      const buffer = new Uint8Array(64);
      const datagrams = packets.map((packet) =>
        udptl.build(buffer.subarray(0, encodeIfpInto(packet, 0, buffer, 0))).slice(),
      );
      const waiting = ctx.receiveFrames(20);
      // Right after an I/O poll: the datagrams reach our socket (a connected socket sends at once), then the
      // process is busy past the 20 ms deadline, so the timer is due before the socket is read again.
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          for (const datagram of datagrams) far.send(datagram);
          stall(60);
          resolve();
        }),
      );
      const r = await waiting;
      assert.equal(r.kind, 'frames', 'the queued command is read, not taken for a T2 timeout');
      assert.equal(r.kind === 'frames' ? r.frames.at(-1)?.command : -1, Fcf.EOP);
    } finally {
      await port.close();
      await new Promise<void>((resolve) => far.close(() => resolve()));
    }
  });
});
