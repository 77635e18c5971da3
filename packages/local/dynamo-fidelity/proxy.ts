import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localCredentials, localRegion } from '../aws-env';
import { accounting } from './accounting';
import { throughputBuckets } from './buckets';
import { type Holder, inFlight } from './in-flight';
import { itemKnowledge } from './knowledge';
import { type FidelityStats, writeMeter } from './meter';
import { type FidelityOptions, type FidelitySettings, fidelityOptions, latencySampler } from './options';
import { type Target, tableSchemas, targetsOf } from './requests';
import {
  type CancellationReason,
  internalError,
  reasons,
  throttled,
  transactionCanceled,
  transactionConflict,
  type WireAnswer,
} from './wire';

export interface FidelityProxy {
  /** The DynamoDB endpoint to give clients; also serves GET /fidelity/stats, POST /fidelity/reset, GET|POST /fidelity/config. */
  url: string;
  server: Server;
  stats(top?: number): Promise<FidelityStats>;
  reset(): Promise<void>;
  configure(settings: FidelitySettings): FidelityOptions;
}

/**
 * A DynamoDB endpoint in front of another (DynamoDB Local) that applies what DynamoDB Local
 * does not: transaction conflicts between writes in flight (in-flight.ts), a network-like
 * latency during which a write holds its items (options.ts), the per-item and per-partition
 * throughput limit (buckets.ts), and counts of what AWS would bill (accounting.ts, meter.ts).
 * One HTTP endpoint, so every process of the local stack (the gateway's container processes,
 * the stream and queue workers) shares the same view of what is in flight. Every other call,
 * and DynamoDB Streams, passes through unchanged.
 */
export async function startFidelityProxy(opts: {
  target: string;
  port?: number;
  settings?: FidelitySettings;
  log?: (line: string) => void;
}): Promise<FidelityProxy> {
  const log = opts.log ?? (() => {});
  const target = new URL(opts.target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const client = new DynamoDBClient({ endpoint: opts.target, region: localRegion, credentials: localCredentials });
  let options = fidelityOptions(opts.settings);
  let draw = latencySampler(options.seed);
  const schemaOf = tableSchemas(client);
  const knowledge = itemKnowledge(client);
  const meter = writeMeter();
  const held = inFlight();
  const buckets = throughputBuckets(() => ({ rate: options.unitsPerSecond, burstSeconds: options.burstSeconds }));
  const count = accounting(meter, knowledge);
  const pending = new Set<Promise<unknown>>();
  const totals = () => meter.totals();

  /** Accounting that reads items back runs beside the answer; stats wait for it. */
  const track = (work: Promise<unknown>) => {
    const p = work.catch((err: Error) => log(`dynamodb fidelity: could not account a write (${err.message})`));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const settled = () => Promise.allSettled([...pending]);

  function forward(req: IncomingMessage, body: Buffer): Promise<WireAnswer> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, 'content-length': String(body.length) };
      delete headers.connection;
      const up = request(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers))
              if (v !== undefined && !['connection', 'keep-alive', 'transfer-encoding'].includes(k)) out[k] = String(v);
            resolve({ status: res.statusCode ?? 500, headers: out, body: Buffer.concat(chunks) });
          });
        },
      );
      up.on('error', reject);
      up.end(body);
    });
  }

  const errorType = (a: WireAnswer) => {
    if (a.status === 200) return { type: undefined, codes: [] as string[] };
    try {
      const body = JSON.parse(a.body.toString()) as { __type?: string; CancellationReasons?: CancellationReason[] };
      return { type: body.__type?.split('#').pop(), codes: (body.CancellationReasons ?? []).map((r) => r.Code) };
    } catch {
      return { type: 'unknown', codes: [] };
    }
  };

  /**
   * The throughput rule: takes the writes' units from their buckets, or names each write one of
   * whose buckets is short (and whether that bucket is an index's), taking nothing.
   */
  function throttle(writes: Array<{ t: Target; before: ReturnType<typeof knowledge.before> }>, transactional: boolean) {
    if (!options.throttle) return undefined;
    const per = writes.map(({ t, before }) => count.demands(t, before, transactional));
    const short = new Set(buckets.take(per.flat()));
    if (!short.size) return undefined;
    return per.map((ds) => {
      const hit = ds.find((d) => short.has(d.bucket));
      return hit ? { index: hit.index } : undefined;
    });
  }

  /** An answer, when to give it, and the items it holds until then (released at the latest as it is given). */
  type Planned = { answer: WireAnswer; respondAt: number; release?: () => void };

  async function transactWrite(req: IncomingMessage, body: Buffer, targets: Target[], started: number): Promise<Planned> {
    const latency = options.latency ? draw.transaction(options.model, targets.length) : 0;
    const respondAt = started + latency;
    totals().writeCalls++;
    totals().transactions++;
    const writes = await withBefore(targets.filter((t) => t.action !== 'check'));
    meter.writeCall(writes.map((w) => w.t.id));
    const blocked = new Set(options.conflicts ? held.blockedForTransaction(targets.map((t) => t.id)) : []);
    if (blocked.size) {
      totals().billedWriteAttempts++;
      totals().cancelled++;
      totals().conflicts++;
      count.billFailed(writes, true);
      meter.failedCall(writes.map((w) => w.t.id));
      const list = targets.map((t) => (blocked.has(t.id) ? reasons.conflict() : reasons.none()));
      return { answer: transactionCanceled(list), respondAt };
    }
    const limited = throttle(writes, true);
    if (limited) {
      totals().throttled++;
      totals().cancelled++;
      const byId = new Map(writes.map((w, i) => [w.t.id, limited[i]]));
      const list = targets.map((t) => {
        const hit = byId.get(t.id);
        return hit ? reasons.throttled(t.schema.onDemand, hit.index) : reasons.none();
      });
      return { answer: transactionCanceled(list), respondAt };
    }
    const release = hold(targets, 'transaction', started, latency);
    try {
      const answer = await forward(req, body);
      release.afterForward();
      const { type, codes } = errorType(answer);
      if (type === undefined || type === 'TransactionCanceledException') totals().billedWriteAttempts++;
      if (type === undefined) track(count.committed(writes, true));
      else if (type === 'TransactionCanceledException') {
        totals().cancelled++;
        if (codes.includes('ConditionalCheckFailed')) totals().conditionFailed++;
        else if (codes.includes('TransactionConflict')) totals().conflicts++;
        count.billFailed(writes, true);
        meter.failedCall(writes.map((w) => w.t.id));
      }
      return { answer, respondAt, release: release.atAnswer };
    } finally {
      release.afterForward();
    }
  }

  async function singleWrite(req: IncomingMessage, body: Buffer, targets: Target[], started: number): Promise<Planned> {
    const latency = options.latency ? draw.single(options.model) : 0;
    const respondAt = started + latency;
    totals().writeCalls++;
    const batch = targets.length !== 1 || req.headers['x-amz-target'] === 'DynamoDB_20120810.BatchWriteItem';
    const writes = await withBefore(targets);
    meter.writeCall(writes.map((w) => w.t.id));
    const first = writes[0];
    if (options.conflicts && !batch && first && held.blockedForSingle(first.t.id)) {
      totals().billedWriteAttempts++;
      totals().conflicts++;
      count.billFailed(writes, false);
      meter.failedCall(writes.map((w) => w.t.id));
      return { answer: transactionConflict(), respondAt };
    }
    const limited = throttle(writes, false);
    if (limited) {
      totals().throttled++;
      const at = limited.findIndex(Boolean);
      const t = writes[Math.max(0, at)]?.t;
      const index = limited[at]?.index ?? false;
      const resource = (index ? t?.schema.indexes[0]?.arn : t?.schema.arn) ?? '';
      return { answer: throttled(t?.schema.onDemand ?? true, index, resource), respondAt };
    }
    // Batch writes hold their items too (a TransactGetItems conflicts with them), but the
    // conflict rules above name only PutItem, UpdateItem and DeleteItem as refused.
    const release = hold(targets, 'single', started, latency);
    try {
      const answer = await forward(req, body);
      release.afterForward();
      const { type } = errorType(answer);
      if (type === undefined) {
        totals().billedWriteAttempts++;
        track(count.committed(writes, false));
      } else if (type === 'ConditionalCheckFailedException') {
        totals().billedWriteAttempts++;
        totals().conditionFailed++;
        count.billFailed(writes, false);
        meter.failedCall(writes.map((w) => w.t.id));
      }
      return { answer, respondAt, release: release.atAnswer };
    } finally {
      release.afterForward();
    }
  }

  async function transactGet(req: IncomingMessage, body: Buffer, targets: Target[], started: number): Promise<Planned> {
    const respondAt = started + (options.latency ? draw.transaction(options.model, targets.length) : 0);
    const blocked = new Set(options.conflicts ? held.blockedForTransaction(targets.map((t) => t.id)) : []);
    if (blocked.size) {
      totals().readConflicts++;
      return {
        answer: transactionCanceled(targets.map((t) => (blocked.has(t.id) ? reasons.conflict() : reasons.none()))),
        respondAt,
      };
    }
    return { answer: await forward(req, body), respondAt };
  }

  /**
   * Holds the items for φ of the drawn latency from the call's arrival, however long DynamoDB
   * Local itself takes (it applies the writes in order anyway), so a loaded machine does not
   * stretch the conflict window; without the latency model, while DynamoDB Local works. Either
   * way they are free by the time the caller has the answer: DynamoDB has finished with an item
   * when it answers, and the caller's next write to it must not meet its own last one.
   */
  function hold(targets: Target[], by: Holder, started: number, latency: number) {
    const release = held.hold(
      targets.map((t) => t.id),
      by,
    );
    if (!options.latency) return { afterForward: release, atAnswer: release };
    setTimeout(release, Math.max(0, started + options.phi * latency - performance.now()));
    return { afterForward: () => {}, atAnswer: release };
  }

  /** Each write with the item as known before it; a delete of an unknown item reads it first (its size and index entry are billed). */
  const withBefore = (targets: Target[]) =>
    Promise.all(
      targets.map(async (t) => ({ t, before: t.action === 'delete' ? await knowledge.learn(t) : knowledge.before(t) })),
    );

  async function dynamo(req: IncomingMessage, body: Buffer, operation: string): Promise<WireAnswer> {
    const started = performance.now();
    meter.call(operation);
    let targets: Target[] = [];
    try {
      targets = await targetsOf(schemaOf, operation, JSON.parse(body.toString()));
    } catch {
      // A table that does not exist, a malformed request: DynamoDB Local gives the answer.
    }
    let planned: Planned;
    if (targets.length && operation === 'TransactWriteItems') planned = await transactWrite(req, body, targets, started);
    else if (targets.length && ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'].includes(operation))
      planned = await singleWrite(req, body, targets, started);
    else if (targets.length && operation === 'TransactGetItems') planned = await transactGet(req, body, targets, started);
    else planned = { answer: await forward(req, body), respondAt: started + (options.latency ? draw.single(options.model) : 0) };
    await until(planned.respondAt);
    planned.release?.();
    return planned.answer;
  }

  async function control(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === '/fidelity/stats' && req.method === 'GET')
      return json(200, await proxy.stats(Number(url.searchParams.get('top') ?? 10)));
    if (url.pathname === '/fidelity/reset' && req.method === 'POST') {
      await proxy.reset();
      return json(200, {});
    }
    if (url.pathname === '/fidelity/config' && req.method === 'GET') return json(200, options);
    if (url.pathname === '/fidelity/config' && req.method === 'POST') {
      try {
        return json(200, proxy.configure(JSON.parse(body.toString() || '{}') as FidelitySettings));
      } catch (err) {
        return json(400, { message: (err as Error).message });
      }
    }
    json(404, { message: 'GET /fidelity/stats, POST /fidelity/reset, GET|POST /fidelity/config' });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (req.url?.startsWith('/fidelity/')) return control(req, res, body);
      const [service, operation = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
      const answer = service === 'DynamoDB_20120810' ? await dynamo(req, body, operation) : await forward(req, body);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    })().catch((err: Error) => {
      log(`dynamodb fidelity: ${err.message}`);
      if (res.headersSent) return void res.end();
      const answer = internalError(`the engine behind the fidelity proxy did not answer: ${err.message}`);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('close', () => {
    agent.destroy();
    client.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const proxy: FidelityProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    async stats(top = 10) {
      await settled();
      return meter.snapshot(top, held.size());
    },
    async reset() {
      await settled();
      meter.reset();
    },
    configure(settings) {
      options = fidelityOptions(settings, options);
      if (settings.seed !== undefined) draw = latencySampler(options.seed);
      return options;
    },
  };
  return proxy;
}

const until = async (at: number) => {
  const ms = at - performance.now();
  if (ms > 0) await sleep(ms);
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
