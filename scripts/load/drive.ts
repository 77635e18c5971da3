import autocannon from 'autocannon';
import type { Move, RouteGroup } from './mix';

export interface GroupResult {
  name: string;
  connections: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers by status; connection errors and timeouts apart. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

/**
 * Runs every route group at once, each as its own autocannon instance (so each has its own
 * latency histogram), for `seconds`. Each request is built by the group (a fresh
 * Idempotency-Key per money-moving request) and, when it moves credits, recorded in `moves`
 * with the status it got.
 */
export async function drive(apiUrl: string, groups: RouteGroup[], seconds: number, moves: Move[]): Promise<GroupResult[]> {
  return Promise.all(
    groups.map(async (group): Promise<GroupResult> => {
      const result = await autocannon({
        url: apiUrl,
        connections: group.connections,
        overallRate: group.rate,
        duration: seconds,
        // API Gateway's own limit: a request still unanswered then has failed.
        timeout: 30,
        requests: [
          {
            setupRequest: (request, context: { move?: Move }) => {
              const next = group.next();
              context.move = next.move;
              if (next.move) moves.push(next.move);
              return {
                ...request,
                method: next.method,
                path: next.path,
                headers: {
                  ...(next.token ? { authorization: `Bearer ${next.token}` } : {}),
                  ...(next.body === undefined ? {} : { 'content-type': 'application/json' }),
                  ...(next.move ? { 'idempotency-key': next.move.key } : {}),
                },
                body: next.body === undefined ? undefined : JSON.stringify(next.body),
              };
            },
            onResponse: (status, _body, context: { move?: Move }) => {
              if (context.move) context.move.status = status;
            },
          },
        ],
      });
      const statuses = Object.fromEntries(
        Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, count ?? 0]),
      );
      return {
        name: group.name,
        connections: group.connections,
        requests: result.requests.total,
        perSecond: result.requests.total / seconds,
        p50: result.latency.p50,
        p99: result.latency.p99,
        max: result.latency.max,
        statuses,
        errors: result.errors,
        timeouts: result.timeouts,
      };
    }),
  );
}
