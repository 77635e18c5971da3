/**
 * "Who changed this client?" reads that client's audit records, not the agency's whole log: a
 * target's records are a list of their own (gsi2), so the items DynamoDB reads for a target
 * filter follow the records returned, however busy the rest of the agency is.
 */
import { describe, expect, it } from 'vitest';
import { dynamo } from '#db/client';
import { auditLogQuery, listAuditLog } from '#domain/audit/log';
import { api, createSubAccount, signUpAgency } from '../support/api';
import { expectStatus } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';

/** Items DynamoDB read (ScannedCount: evaluated, matching the filter or not) by this process's queries. */
function meterScanned() {
  const meter = { scanned: 0 };
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'QueryCommand') meter.scanned += (out.output as { ScannedCount?: number }).ScannedCount ?? 0;
      return out;
    },
    { step: 'initialize', name: 'test-scanned-meter', override: true },
  );
  return meter;
}

describe('the audit log filtered by target', () => {
  it("reads the target's records only, among many of other targets", async () => {
    const agency = await signUpAgency('agency');
    const quiet = await createSubAccount(agency.token);
    const busy = await createSubAccount(agency.token);
    for (let i = 0; i < 30; i++) {
      expectStatus(
        await api('PATCH', `/v1/sub-accounts/${busy.subAccountId}`, { token: agency.token, body: { name: `Busy ${i}` } }),
        200,
      );
    }
    for (const name of ['Quiet 1', 'Quiet 2']) {
      expectStatus(await api('PATCH', `/v1/sub-accounts/${quiet.subAccountId}`, { token: agency.token, body: { name } }), 200);
    }
    await pipelineIdle();

    const meter = meterScanned();
    const page = await listAuditLog(agency.agencyId, auditLogQuery.parse({ target: quiet.subAccountId, limit: '10' }));
    expect(page.items.map((r) => [r.action, r.target.id])).toEqual([
      ['sub_account.updated', quiet.subAccountId],
      ['sub_account.updated', quiet.subAccountId],
      ['sub_account.created', quiet.subAccountId],
    ]);
    expect(page.nextCursor).toBeNull();
    // The three records, not the agency's 35: nothing of the busy sub-account was read.
    expect(meter.scanned).toBe(3);
    dynamo.middlewareStack.remove('test-scanned-meter');
  });
});
