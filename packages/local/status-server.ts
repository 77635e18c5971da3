import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TableMirror } from './table-mirror';

/** The most a question may carry: a few ids, not a document. */
const MAX_QUESTION_BYTES = 64 * 1024;

function reply(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_QUESTION_BYTES) throw new Error('the question is too large');
  }
  return JSON.parse(text);
}

/** `{mentioning: [non-empty strings]}`, or why not. */
function needlesOf(body: unknown): string[] | string {
  const mentioning = (body as { mentioning?: unknown } | null)?.mentioning;
  if (!Array.isArray(mentioning) || mentioning.length === 0) return 'mentioning: a non-empty list of strings';
  if (!mentioning.every((n) => typeof n === 'string' && n.length > 0)) return 'mentioning: every entry a non-empty string';
  return mentioning;
}

/**
 * A test seam on 127.0.0.1 (the test workers are other processes):
 * - `GET /stream-pollers`: the stream pollers' progress (asking wakes them: support/idle.ts);
 * - `POST /table/items` {mentioning: [ids]}: with the table mirror, every item whose JSON
 *   mentions any of them, sorted by key, as of the question (support/table.ts).
 */
export async function startStatusServer(parts: {
  streams: () => object;
  mirror?: TableMirror;
}): Promise<{ url: string; close(): void }> {
  const { streams, mirror } = parts;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/stream-pollers') return reply(res, 200, streams());
    if (req.method === 'POST' && req.url === '/table/items' && mirror) {
      readJson(req)
        .then(needlesOf, (err: Error) => `the body: ${err.message}`)
        .then(async (needles) => {
          if (typeof needles === 'string') return reply(res, 400, { error: needles });
          reply(res, 200, { items: await mirror.mentioning(needles) });
        })
        .catch((err: Error) => reply(res, 500, { error: err.message }));
      return;
    }
    reply(res, 404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, close: () => server.close() };
}
