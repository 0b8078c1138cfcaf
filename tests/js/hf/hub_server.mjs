// A local stand-in for the Hugging Face Hub: serves checkpoint folders at the Hub's file URLs,
// /<owner>/<name>/resolve/<revision>/<file>, and counts what it serves, so tests can point hubHost at it.
//   const hub = await startHub({ 'test/gpt2': folderPath });   hub.host → 'http://127.0.0.1:PORT'
//   hub.requests: every request path, in order; hub.bytesServed: body bytes sent; hub.delayMs: a pause between
//   64 KiB chunks (downloads slow enough to abort); hub.cutShort: { [path]: bytes } ends that file's response after
//   that many bytes of its body, its content-length still the whole file's (a download that breaks off);
//   await hub.close(). `statics(path)` may answer other paths (a test page, the package's files) with
//   { body, type, headers? }; those are not counted.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function startHub(repos, { revision = 'main', statics } = {}) {
  const hub = { requests: [], bytesServed: 0, delayMs: 0, cutShort: {} };
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    const page = await statics?.(path);
    if (page) {
      response.writeHead(200, { 'content-type': page.type, ...page.headers }).end(page.body);
      return;
    }
    hub.requests.push(path);
    response.setHeader('access-control-allow-origin', '*');
    const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/([^/]+)$/.exec(path);
    const folder = match && match[2] === revision ? repos[match[1]] : undefined;
    let bytes;
    try {
      bytes = folder ? await readFile(join(folder, match[3])) : undefined;
    } catch {
      bytes = undefined;
    }
    if (!bytes) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const end = Math.min(bytes.byteLength, hub.cutShort[path] ?? Infinity);
    for (let offset = 0; offset < end && !response.destroyed; offset += 1 << 16) {
      const chunk = bytes.subarray(offset, Math.min(end, offset + (1 << 16)));
      hub.bytesServed += chunk.byteLength;
      if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
      if (hub.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, hub.delayMs));
    }
    if (end < bytes.byteLength) response.destroy();
    else response.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.host = `http://127.0.0.1:${server.address().port}`;
  hub.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return hub;
}
