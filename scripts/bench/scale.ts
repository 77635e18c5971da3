import { randomBytes } from 'node:crypto';
import type { LocalStack } from '#local/stack';
import { emailedToken } from '../lib/local-api';
import { cell, percentile } from './figures';
import { backgroundIdle } from './hot';
import { installReadMeter, type ReadCounts, takeReadCounts } from './read-meter';

/**
 * `npm run bench -- --scale`: what the console's reads cost for agencies of 10, 100 and 1,000
 * sub-accounts with a year of daily usage. The usage is seeded through the production paths
 * (`POST /v1/usage/batch`, one batch per day, each at its own day under the test stack's
 * injected clock; the usage rollups built from the stream as deployed), then each read is
 * made as the console makes it (following a cursor only where the answer is not whole yet:
 * a dashboard that covers fewer days than asked, a filtered page short of its rows) and
 * printed with the requests it took, the items DynamoDB read (evaluated, matching or not),
 * the read units DynamoDB reported and the p50 time of the whole read.
 *
 * BENCH_SCALE_SIZES (10,100,1000), BENCH_SCALE_DAILY (events a day per size: 20,100,300, so
 * 1,000 sub-accounts get 109,800 entries in the year), BENCH_SCALE_REPEAT (5), BENCH_SCALE_IDLE_SECONDS
 * (300: how long the seeding waits for the stream workers to catch up; a year for 1,000
 * sub-accounts takes longer on 2 cores).
 */
export interface ScaleOptions {
  sizes: number[];
  daily: number[];
  repeat: number;
}

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface Agency {
  agencyId: string;
  token: string;
  subs: string[];
  entries: number;
}

type Call = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; json: any; text: string; headers: Headers }>;

/** Answers 503/429 the seeding met and retried, as a client honouring Retry-After does (every write is idempotent). */
const retried = { count: 0 };

function caller(stack: LocalStack): Call {
  return async (method, path, body, headers = {}) => {
    const send = () =>
      fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    let res = await send();
    // A 2-core machine running the whole stack can keep a request waiting past the local runtime's limit.
    for (let attempt = 1; (res.status === 503 || res.status === 429) && attempt <= 8; attempt++) {
      retried.count++;
      await res.text();
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') || attempt)));
      res = await send();
    }
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return { status: res.status, json, text, headers: res.headers };
  };
}

export async function runScale(stack: LocalStack, opts: ScaleOptions): Promise<void> {
  installReadMeter();
  const call = caller(stack);
  const run = randomBytes(3).toString('hex');
  const today = Date.parse(`${day(Date.now())}T00:00:00Z`);
  const first = today - 366 * DAY_MS;
  console.log(
    `\nScale: agencies of ${opts.sizes.join(', ')} sub-accounts, usage every day from ${day(first)} to ${day(today - DAY_MS)} (injected clock), reads p50 of ${opts.repeat}.`,
  );
  const results: Array<{ size: number; rows: string[] }> = [];
  for (const [i, size] of opts.sizes.entries()) {
    const perDay = opts.daily[i] ?? opts.daily.at(-1) ?? 300;
    const t0 = performance.now();
    const agency = await seed(stack, call, run, size, perDay, first);
    console.log(
      `  seeded ${size} sub-accounts, ${agency.entries.toLocaleString('en-US')} entries in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    results.push({ size, rows: await measure(stack, call, agency, today, opts.repeat) });
  }
  for (const r of results) {
    console.log(`\n${r.size} sub-accounts`);
    console.log(
      `  ${'read'.padEnd(34)} ${'requests'.padStart(8)} ${'rows'.padStart(6)} ${'items read'.padStart(10)} ${'read units'.padStart(10)} ${'p50 ms'.padStart(8)}`,
    );
    for (const row of r.rows) console.log(`  ${row}`);
  }
}

async function seed(stack: LocalStack, call: Call, run: string, size: number, perDay: number, first: number): Promise<Agency> {
  const platform = { authorization: `Bearer ${stack.platformApiKey}` };
  const email = `scale-${run}-${size}@bench.test`;
  const signup = await call('POST', '/v1/agencies', {
    agencyName: `Scale ${size}`,
    name: 'S',
    email,
    password: 'bench-password-1',
  });
  const agencyId: string = signup.json.agency.id;
  const token: string = signup.json.token;
  const auth = { authorization: `Bearer ${token}` };
  await call('PATCH', `/v1/admin/agencies/${agencyId}`, { plan: 'agency' }, platform);
  await call('POST', '/v1/auth/verify-email', { token: await emailedToken(stack.sesUrl, email) });
  const topUp = (at: number, n: number) =>
    call(
      'POST',
      `/v1/admin/agencies/${agencyId}/credits`,
      { credits: n === 0 ? 1_000_000_000 : 1_000_000, reference: `scale ${n}` },
      { ...platform, 'idempotency-key': `scale-${run}-${size}-${n}`, 'x-test-clock': new Date(at).toISOString() },
    );
  await topUp(first, 0);

  const subs: string[] = [];
  for (let i = 0; i < size; i += 8) {
    const made = await Promise.all(
      Array.from({ length: Math.min(8, size - i) }, (_, j) =>
        call(
          'POST',
          '/v1/sub-accounts',
          { name: `Client ${i + j}`, email: `c${i + j}-${run}-${size}@bench.test`, clientLogin: false },
          auth,
        ),
      ),
    );
    subs.push(...made.map((m) => m.json.subAccount.id as string));
  }
  // One in twenty sub-accounts resells (its usage comes from its wallet): the reselling dashboard's rows.
  const resellers = subs.filter((_, i) => i % 20 === 7);
  for (const id of resellers) {
    await call('PATCH', `/v1/sub-accounts/${id}`, { creditMode: 'reselling' }, auth);
    await call(
      'POST',
      `/v1/sub-accounts/${id}/credits/grants`,
      { credits: 1_000_000, reference: 'scale' },
      { ...auth, 'idempotency-key': `g-${run}-${id}` },
    );
  }

  // One batch a day, at noon of that day; a few days at once. Rare values: one campaign and one
  // contact in about a thousand events, a top-up a month.
  let entries = 0;
  let refused = 0;
  const days = Array.from({ length: 366 }, (_, d) => d);
  const oneDay = async (d: number) => {
    const at = first + d * DAY_MS + 12 * 3600_000;
    const events = Array.from({ length: perDay }, (_, i) => {
      const k = d * perDay + i;
      return {
        accountId: subs[k % size],
        type: i % 4 === 3 ? 'campaign_message' : 'ai_response',
        quantity: 1 + (i % 3),
        campaignId: k % 997 === 500 ? 'cmp_rare' : `cmp_${i % 20}`,
        contactId: k % 1009 === 600 ? 'c_rare' : `c_${i % 500}`,
        idempotencyKey: `s-${run}-${d}-${i}`,
      };
    });
    const out = await call('POST', '/v1/usage/batch', { events }, { ...platform, 'x-test-clock': new Date(at).toISOString() });
    const statuses = (out.json.results as Array<{ status: number }>).map((r) => r.status);
    entries += statuses.filter((s) => s === 201).length;
    refused += statuses.filter((s) => s !== 201).length;
    if (d % 30 === 15) await topUp(at + 1000, d);
  };
  for (let d = 0; d < days.length; d += 3) await Promise.all(days.slice(d, d + 3).map(oneDay));
  if (refused) throw new Error(`${refused} seeded events were refused`);
  if (retried.count) console.log(`  seeding: ${retried.count} answers of 503/429 retried after Retry-After`);
  await backgroundIdle(stack, Number(process.env.BENCH_SCALE_IDLE_SECONDS || 300) * 1000);
  return { agencyId, token, subs, entries };
}

interface Read {
  name: string;
  /** Makes the read as the console does; returns the requests made and the rows shown. */
  make: () => Promise<{ requests: number; rows: number }>;
}

async function measure(stack: LocalStack, call: Call, a: Agency, today: number, repeat: number): Promise<string[]> {
  const auth = { authorization: `Bearer ${a.token}` };
  const t = new Date(today);
  const monthStart = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - 1, 1);
  const monthEnd = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1) - DAY_MS;
  const quarterStart = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - 3, 1);
  const someSub = a.subs[Math.floor(a.subs.length / 2)] as string;

  /** The agency dashboard for a range: followed while it covers fewer days than asked (the older design paged by day). */
  const dashboard = (from: number, to: number) => async () => {
    let requests = 0;
    let cursor: string | undefined;
    let rows = 0;
    do {
      const q = new URLSearchParams({ from: day(from), to: day(to), ...(cursor ? { cursor } : {}) });
      const out = await call('GET', `/v1/credits/usage?${q}`, undefined, auth);
      requests++;
      rows = Math.max(rows, out.json.bySubAccount.length);
      cursor = out.json.to < day(to) ? (out.json.nextCursor ?? undefined) : undefined;
    } while (cursor);
    return { requests, rows };
  };
  /** A history page of 50, followed by cursor until it is full or the list ends. */
  const history = (filter: Record<string, string>) => async () => {
    let requests = 0;
    let rows = 0;
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ limit: '50', ...filter, ...(cursor ? { cursor } : {}) });
      const out = await call('GET', `/v1/credits/transactions?${q}`, undefined, auth);
      requests++;
      rows += out.json.items.length;
      cursor = out.json.nextCursor ?? undefined;
    } while (cursor && rows < 50);
    return { requests, rows };
  };
  /** A whole CSV export: every download, following x-next-cursor. */
  const csv = (filter: Record<string, string>) => async () => {
    let requests = 0;
    let rows = 0;
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ ...filter, ...(cursor ? { cursor } : {}) });
      const out = await call('GET', `/v1/credits/transactions?${q}`, undefined, { ...auth, accept: 'text/csv' });
      requests++;
      rows += out.text.split('\r\n').filter(Boolean).length - 1;
      cursor = out.headers.get('x-next-cursor') ?? undefined;
    } while (cursor);
    return { requests, rows };
  };
  /** The first 50 rows of a paged list (followed while a page comes back short with a cursor). */
  const firstRows = (path: string, field: string) => async () => {
    let requests = 0;
    let rows = 0;
    let cursor: string | undefined;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const out = await call('GET', `${path}${sep}limit=50${cursor ? `&cursor=${cursor}` : ''}`, undefined, auth);
      requests++;
      rows += out.json[field].length;
      cursor = out.json.nextCursor ?? undefined;
    } while (cursor && rows < 50);
    return { requests, rows };
  };

  const reads: Read[] = [
    { name: 'usage dashboard, last month', make: dashboard(monthStart, monthEnd) },
    { name: 'usage dashboard, last 3 months', make: dashboard(quarterStart, monthEnd) },
    { name: 'usage dashboard, 366 days', make: dashboard(today - 365 * DAY_MS, today) },
    {
      name: 'one account usage, 366 days',
      make: async () => {
        const q = new URLSearchParams({ from: day(today - 365 * DAY_MS), to: day(today) });
        await call('GET', `/v1/accounts/${someSub}/usage?${q}`, undefined, auth);
        return { requests: 1, rows: 1 };
      },
    },
    { name: 'history, first page', make: history({}) },
    { name: 'history ?subAccountId', make: history({ subAccountId: someSub }) },
    { name: 'history ?campaignId (rare)', make: history({ campaignId: 'cmp_rare' }) },
    { name: 'history ?contactId (rare)', make: history({ contactId: 'c_rare' }) },
    { name: 'history ?type=top_up', make: history({ type: 'top_up' }) },
    { name: 'history ?type=grant', make: history({ type: 'grant' }) },
    { name: 'CSV export ?subAccountId', make: csv({ subAccountId: someSub }) },
    { name: 'CSV export ?type=top_up', make: csv({ type: 'top_up' }) },
    { name: 'reselling dashboard, 50 rows', make: firstRows('/v1/reselling/dashboard?', 'items') },
    { name: 'GET /v1/me', make: firstRows('/v1/me?', 'accounts') },
    { name: 'GET /v1/sub-accounts', make: firstRows('/v1/sub-accounts?', 'items') },
  ];
  const lines: string[] = [];
  for (const r of reads) {
    const times: number[] = [];
    let first: (ReadCounts & { requests: number; rows: number }) | undefined;
    for (let i = 0; i < repeat; i++) {
      await backgroundIdle(stack);
      takeReadCounts();
      const t0 = performance.now();
      const made = await r.make();
      times.push(performance.now() - t0);
      const counts = takeReadCounts();
      first ??= { ...counts, ...made };
    }
    const f = first as ReadCounts & { requests: number; rows: number };
    lines.push(
      `${r.name.padEnd(34)} ${cell(f.requests, 8, 0)} ${cell(f.rows, 6, 0)} ${cell(f.items, 10, 0)} ${cell(f.units, 10, 1)} ${cell(
        percentile(
          times.sort((x, y) => x - y),
          0.5,
        ),
        8,
        0,
      )}`,
    );
  }
  return lines;
}
