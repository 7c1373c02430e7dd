// The Redis server for the tests that need one: TEST_REDIS_URL, or the development
// machine's redis://127.0.0.1:6379 (CI has one too; .ci/run starts it when it does not answer). Undefined
// when none answers, so that the suite still runs without Redis.
import net from 'node:net';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

function answersPing(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export async function testRedisUrl(): Promise<string | undefined> {
  const url = process.env.TEST_REDIS_URL || DEFAULT_URL;
  return (await answersPing(url)) ? url : undefined;
}
