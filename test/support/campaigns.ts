import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { stack } from './stack';
import { testDb } from './table';

/** The campaign items stored in an account's partition, read from the table itself. */
export async function campaignItemsIn(accountId: string): Promise<Record<string, unknown>[]> {
  const out = await testDb.send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `ACCOUNT#${accountId}`, ':prefix': 'CAMPAIGN#' },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

/** A campaign body with deep configuration and `faqCount` FAQs (the fidelity fixture). */
export function richCampaign(faqCount = 20) {
  return {
    name: 'Spring re-engagement',
    settings: { channel: 'sms', quietHours: { from: '21:00', to: '08:00' }, retries: 3, enabled: true, tags: ['vip', 'spring'] },
    instructions: 'Be brief and friendly.\nNever promise discounts.\n«Unicode» ✓ 🚀',
    faqs: Array.from({ length: faqCount }, (_, i) => ({ question: `Question ${i}?`, answer: `Answer ${i}: ${'x'.repeat(i)}` })),
    configuration: {
      model: { name: 'gpt', temperature: 0.2, stop: ['\n\n', 'END'] },
      flow: { steps: [{ id: 1, next: { id: 2, when: { reply: { contains: ['yes', 'si'], nothing: null } } } }] },
      limits: { perDay: 100, ratio: 1.5e-3, big: 12345678901234 },
      empty: {},
      emptyList: [],
    },
  };
}

/** Nested objects `levels` deep in total, counting the outer object as level 1. */
export function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { next: value };
  return value;
}
