// A load generator on its own thread: sends `count` requests with `concurrency` in flight over
// keep-alive connections and posts back each response's status and body. Running the client off the
// server's thread is what a real client (another process) does; its CPU still counts for the process.
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { port, method, path, headers, body, count, concurrency } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

function call() {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const out = new Array(count);
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await call();
    }
  }),
);
const ms = performance.now() - t0;
agent.destroy();
parentPort.postMessage({ ms, responses: out });
