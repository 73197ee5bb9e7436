// A TCP relay between the browser and Prosody, so a test can take the network away the
// way real networks do: cut() resets every open connection at once (an abrupt socket
// kill: no WebSocket close, no XMPP close), block() refuses new ones until unblock().
//
//   const proxy = await startProxy(targetPort);   proxy.port, proxy.open (live pairs)

import { createServer, connect } from 'node:net';

export async function startProxy(targetPort) {
  const pairs = new Set();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  return {
    port: server.address().port,
    get open() {
      return pairs.size;
    },
    cut() {
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    block() {
      blocked = true;
    },
    unblock() {
      blocked = false;
    },
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
