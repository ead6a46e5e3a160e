/**
 * @module free-port
 * Picks a 127.0.0.1 port that is free for both UDP and TCP, for SIP servers that bind one number for both.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A port free for both UDP and TCP on 127.0.0.1 (checked, then released: the program under test binds it right after). */
export async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve) =>
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port)),
    );
    const tcp = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    if (ok) {
      await new Promise((r) => tcp.close(r));
      return port;
    }
    if (attempt > 10) throw new Error('no free UDP+TCP port');
  }
}
