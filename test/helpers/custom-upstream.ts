import { createServer, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tap } from './index.ts';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
}

export interface UpstreamReply {
  readonly status: number;
  readonly headers?: OutgoingHttpHeaders;
}

/** An upstream on 127.0.0.1:0 whose every answer the test decides (a JSON body); it records what arrived. */
export async function customUpstream(t: Tap, answer: (seen: SeenRequest) => UpstreamReply): Promise<{ url: string; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '' };
      seen.push(request);
      const reply = answer(request);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify({ status: reply.status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
