// A minimal Chrome DevTools Protocol client for a benchmark's child process started with
// `--inspect=127.0.0.1:<port>`: enough to force full collections and read the JS heap, so that a
// memory figure can be read without the garbage a process has not collected yet.
import WebSocket from 'ws';

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects to the inspector on `port` (waiting up to 10 s for it to listen). */
export async function inspect(port) {
  const deadline = Date.now() + 10_000;
  let targets;
  for (;;) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await delay(50);
    }
  }
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let lastId = 0;
  const waiting = new Map();
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    const done = waiting.get(message.id);
    if (!done) return;
    waiting.delete(message.id);
    if (message.error) done.reject(new Error(message.error.message));
    else done.resolve(message.result);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++lastId;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    /** The JS heap in use (bytes) after two full collections, and a moment for V8 to give pages back. */
    async heapAfterGc() {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      await delay(500);
      const { result } = await call('Runtime.evaluate', {
        expression: 'process.memoryUsage().heapUsed',
        returnByValue: true,
      });
      return result.value;
    },
    close: () => socket.close(),
  };
}
