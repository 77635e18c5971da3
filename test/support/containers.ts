import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { vi } from 'vitest';

/**
 * Lambda-like containers inside this test process, for tests that need several of them on one
 * balance (the ledger's lanes are per container: packages/domain/ledger/lanes.ts) and need to
 * reach inside them (fault injection, ordering of their DynamoDB calls), which the child
 * processes of the local Lambda runtime do not allow.
 *
 * Each container is a fresh copy of the application's modules (`vi.resetModules`, then the
 * gateway and every handler it serves imported again), so it has its own `containerId`, its
 * own hints, lanes and rates, and its own DynamoDB client, as a Lambda container does; each is
 * reached over HTTP through the same local API gateway module the stack runs, on 127.0.0.1,
 * over the shared test stack's table, with the test clock (`x-test-clock`) honoured.
 *
 * `around` wraps the serving of every request (to serve one at a time, as a Lambda container
 * does, and to tag the request's async context); `dynamo` is the container's own client, to
 * which a test adds middleware.
 */
export interface Container {
  /** 0, 1, 2…: its index among the containers started together. */
  index: number;
  url: string;
  /** The id its lanes are owned under. */
  containerId: string;
  dynamo: DynamoDBClient;
  stop(): Promise<void>;
}

export type AroundRequest = (container: number, req: IncomingMessage, serve: () => Promise<void>) => Promise<void>;

/** A request per function a test may call, to load its module into the container now (a cold start). */
const WARM_UP: Array<[string, string]> = [
  ['POST', '/v1/accounts/acc_warmup/usage'],
  ['POST', '/v1/admin/agencies/agc_warmup/credits'],
  ['PATCH', '/v1/sub-accounts/sub_warmup'],
];

export async function startContainers(n: number, around: AroundRequest, warmUp = WARM_UP): Promise<Container[]> {
  const containers: Container[] = [];
  for (let index = 0; index < n; index++) {
    // A module registry of its own: every import below (and every handler the gateway loads on
    // its first request, warmed up here before the next reset) is this container's copy.
    vi.resetModules();
    const [gateway, lanes, client] = await Promise.all([
      import('#local/gateway'),
      import('#domain/ledger/lanes'),
      import('#db/client'),
    ]);
    const { url, server } = await gateway.startGateway(0, () => {}, { testClock: true });
    wrapRequests(server, (req, serve) => around(index, req, serve));
    for (const [method, path] of warmUp) {
      const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
      await res.arrayBuffer();
    }
    containers.push({
      index,
      url,
      containerId: lanes.containerId,
      dynamo: client.dynamo,
      stop: () => new Promise((resolve) => server.close(() => resolve())),
    });
  }
  vi.resetModules();
  return containers;
}

/** Runs the server's own request listener inside `around`, which learns when the response is done. */
function wrapRequests(server: Server, around: (req: IncomingMessage, serve: () => Promise<void>) => Promise<void>) {
  const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const serve = () => {
      const done = new Promise<void>((resolve) => res.once('close', () => resolve()));
      for (const listener of listeners) listener.call(server, req, res);
      return done;
    };
    void around(req, serve);
  });
}
