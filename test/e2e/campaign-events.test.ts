import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { findRoute, pathPattern } from '#http/routes';
import { type AgencyFixture, createSubAccount, type SubAccountFixture, signUpAgency } from '../support/api';
import { stack } from '../support/stack';

const run = promisify(execFile);
const eventFiles = readdirSync('events/http').filter((f) => f.startsWith('campaigns-'));

/** `scripts/invoke.ts` with a sample event, against the test stack, exactly as a person would run it. */
async function invokeByHand(file: string, vars: Record<string, string>) {
  const script = ['--import', import.meta.resolve('tsx'), 'scripts/invoke.ts', 'campaigns', `events/http/${file}`];
  const { stdout } = await run(process.execPath, script, {
    env: { ...process.env, ...stack.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...vars },
  }).catch((err: { stdout: string }) => ({ stdout: err.stdout })); // a 4xx exits 1 but still prints
  return JSON.parse(stdout) as { statusCode: number; body: any };
}

describe('sample campaign events', () => {
  it.each(eventFiles)('%s names a campaigns route and matches its path', (file) => {
    const event = JSON.parse(readFileSync(`events/http/${file}`, 'utf8'));
    const route = findRoute(event.routeKey);
    expect(route?.fn).toBe('campaigns');
    expect(event.requestContext.routeKey).toBe(event.routeKey);
    expect(event.requestContext.http.method).toBe(route!.method);
    const filled = event.rawPath.replace(/\$\{(\w+)\}/g, 'x_1');
    expect(pathPattern(route!.path).exec(filled)?.groups).toEqual(
      Object.fromEntries(Object.keys(event.pathParameters).map((k) => [k, 'x_1'])),
    );
    expect(event.headers.authorization).toBe('Bearer ${TOKEN}');
    if (route!.body) expect(() => JSON.parse(event.body)).not.toThrow();
  });

  it('covers every campaign route', () => {
    const keys = eventFiles.map((f) => JSON.parse(readFileSync(`events/http/${f}`, 'utf8')).routeKey);
    expect(new Set(keys)).toEqual(
      new Set([
        'POST /v1/accounts/{accountId}/campaigns',
        'GET /v1/accounts/{accountId}/campaigns',
        'GET /v1/accounts/{accountId}/campaigns/{campaignId}',
        'PATCH /v1/accounts/{accountId}/campaigns/{campaignId}',
        'DELETE /v1/accounts/{accountId}/campaigns/{campaignId}',
        'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy',
      ]),
    );
  });

  describe('invoked by hand with scripts/invoke.ts', () => {
    let agency: AgencyFixture;
    let client: SubAccountFixture;
    beforeAll(async () => {
      agency = await signUpAgency('agency');
      client = await createSubAccount(agency.token);
    });

    it('runs the whole campaign lifecycle from the sample events', async () => {
      const vars = { TOKEN: agency.token, ACCOUNT_ID: agency.agencyId, TARGET_ACCOUNT_ID: client.subAccountId };
      const created = await invokeByHand('campaigns-create.json', vars);
      expect(created.statusCode).toBe(201);
      expect(created.body.campaign).toMatchObject({ name: 'Spring re-engagement', accountId: agency.agencyId });
      const withId = { ...vars, CAMPAIGN_ID: created.body.campaign.id as string };

      const steps: Array<[string, number]> = [
        ['campaigns-list.json', 200],
        ['campaigns-get.json', 200],
        ['campaigns-update.json', 200],
        ['campaigns-copy.json', 201],
        ['campaigns-copy-many.json', 201],
        ['campaigns-delete.json', 204],
        ['campaigns-get.json', 404],
      ];
      const statuses = [];
      for (const [file] of steps) statuses.push((await invokeByHand(file, withId)).statusCode);
      expect(statuses).toEqual(steps.map(([, status]) => status));
    }, 120_000);
  });
});
