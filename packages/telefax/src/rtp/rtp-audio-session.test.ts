import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { CNG_FREQUENCY_HZ, FaxToneGenerator } from './fax-tones.ts';
import { decodeG711 } from './g711.ts';
import { toneShare } from './goertzel.ts';
import { RtpAudioSession } from './rtp-audio-session.ts';
import { parseRtpPacket, type RtpPacket, serializeRtpPacket } from './rtp-packet.ts';

const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.close();
});

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

function collect(socket: Socket): Array<{ packet: RtpPacket; at: number }> {
  const packets: Array<{ packet: RtpPacket; at: number }> = [];
  socket.on('message', (m) => {
    const packet = parseRtpPacket(m);
    if (packet) packets.push({ packet, at: performance.now() });
  });
  return packets;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RtpAudioSession', () => {
  it('sends 20 ms G.711 packets in sequence with the tone, and stops when told', async () => {
    const listener = await bound();
    const packets = collect(listener);
    const ours = await bound();
    const session = new RtpAudioSession({
      socket: ours,
      peer: { address: '127.0.0.1', port: listener.address().port, codec: 'PCMU' },
      source: new FaxToneGenerator({ role: 'calling' }),
    });
    session.start();
    await sleep(1100);
    session.stop();
    const sent = session.packetsSent;
    await sleep(100);
    assert.equal(packets.length, sent, 'every packet arrived and none after stop');
    await sleep(100);
    assert.equal(packets.length, sent);
    assert.ok(sent >= 30, `only ${sent} packets in 1.1 s`);
    const first = packets[0]!.packet;
    let steady = 0;
    assert.equal(first.marker, true);
    assert.equal(first.ssrc, session.ssrc);
    for (let i = 1; i < packets.length; i++) {
      const [a, b] = [packets[i - 1]!.packet, packets[i]!.packet];
      assert.equal(b.payloadType, 0);
      assert.equal(b.ssrc, first.ssrc);
      assert.equal(b.marker, false);
      assert.equal(b.sequenceNumber, (a.sequenceNumber + 1) & 0xffff);
      // +160 per packet; more only if the event loop stalled and the stream skipped ahead (a multiple of 160).
      const step = (b.timestamp - a.timestamp) >>> 0;
      assert.ok(step >= 160 && step % 160 === 0, `timestamp step ${step}`);
      if (step === 160) steady++;
      assert.equal(b.payload.length, 160);
    }
    assert.ok(steady >= packets.length - 3, `${steady} of ${packets.length} steps were +160`);
    // Paced by the clock: the audio sent never runs ahead of the time it took to send it (a burst
    // would). Slower is allowed — a stalled event loop makes the stream skip ahead instead.
    const wallMs = packets.at(-1)!.at - packets[0]!.at;
    const audioMs = ((packets.at(-1)!.packet.timestamp - first.timestamp) >>> 0) / 8;
    assert.ok(audioMs <= wallMs + 40, `${audioMs} ms of audio sent in ${wallMs} ms`);
    // CNG sounds for the first 0.5 s (4000 samples by timestamp), then silence (µ-law 0xFF).
    const timeline = new Uint8Array(((packets.at(-1)!.packet.timestamp - first.timestamp) >>> 0) + 160).fill(
      0xff,
    );
    for (const { packet } of packets)
      timeline.set(packet.payload, (packet.timestamp - first.timestamp) >>> 0);
    const burst = decodeG711(timeline.subarray(0, 4000), 'PCMU');
    assert.ok(toneShare(burst, CNG_FREQUENCY_HZ) > 0.95, `share ${toneShare(burst, CNG_FREQUENCY_HZ)}`);
    assert.ok(timeline.subarray(4000).every((b) => b === 0xff));
  });

  it('reads incoming packets, decodes G.711 and ignores what is not RTP', async () => {
    const ours = await bound();
    const far = await bound();
    const heard: number[] = [];
    const session = new RtpAudioSession({
      socket: ours,
      peer: { address: '127.0.0.1', port: far.address().port, codec: 'PCMA' },
      onAudio: (samples, packet) => heard.push(packet.payloadType, samples[0]!),
    });
    session.start();
    const send = (bytes: Uint8Array) =>
      new Promise<void>((r) => far.send(bytes, ours.address().port, '127.0.0.1', () => r()));
    const packet = { marker: false, sequenceNumber: 1, timestamp: 0, ssrc: 5 };
    await send(serializeRtpPacket({ ...packet, payloadType: 8, payload: Uint8Array.of(0xd5) }));
    await send(serializeRtpPacket({ ...packet, payloadType: 0, payload: Uint8Array.of(0x80) }));
    await send(serializeRtpPacket({ ...packet, payloadType: 101, payload: Uint8Array.of(1, 2, 3, 4) }));
    await send(Buffer.from('not rtp at all'));
    for (let i = 0; i < 50 && session.packetsReceived < 3; i++) await sleep(10);
    session.stop();
    assert.equal(session.packetsReceived, 3);
    assert.deepEqual(heard, [8, 8, 0, 32124]);
  });
});
