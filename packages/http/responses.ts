import * as z from 'zod';
import { features, plans } from '../domain/features';
import { entryTypes, usageTypes } from '../domain/ledger/schemas';

/**
 * Response shapes: the fields API.md names, as zod schemas. The OpenAPI document describes
 * responses with them, and the test client checks every 2xx body it receives against them,
 * so the contract and the code cannot drift apart. Objects are open: responses may carry more.
 */
const id = (prefix: string) => z.string().startsWith(`${prefix}_`);
const timestamp = z.iso.datetime();
const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
const actor = z.object({ type: z.enum(['platform', 'user', 'api_key', 'assist']) });

const agency = z.object({ id: id('agc'), name: z.string(), plan: z.enum(plans), features: z.array(z.enum(features)) });
const subAccount = z.object({
  id: id('sub'),
  name: z.string(),
  email: z.string(),
  status: z.enum(['active', 'closed']),
  creditMode: z.enum(['manual', 'reselling']),
  monthlyCreditLimit: z.int().nullable(),
  creditsUsedThisMonth: z.int().min(0),
  features: z.array(z.enum(features)),
  createdAt: timestamp,
});
const switcherEntry = z.object({ id: z.string(), name: z.string(), type: z.enum(['agency', 'sub_account']) });
const apiKey = z.object({ id: id('key'), name: z.string(), createdAt: timestamp });
const session = z.object({ token: z.string(), expiresAt: timestamp });

const entry = z.object({
  id: id('txn'),
  createdAt: timestamp,
  type: z.enum(entryTypes),
  credits: z.int(),
  balanceAfter: z.int().min(0),
  balanceType: z.enum(['pool', 'wallet']),
  subAccountId: z.string().nullable(),
  contactId: z.string().nullable(),
  campaignId: z.string().nullable(),
  conversationId: z.string().nullable(),
  actor,
});
/** What a usage call answers: the charge, never a balance. */
const usageEntry = z
  .object({
    id: id('txn'),
    type: z.enum(usageTypes),
    credits: z.int().min(1),
    subAccountId: z.string().nullable(),
    contactId: z.string().nullable(),
    campaignId: z.string().nullable(),
    conversationId: z.string().nullable(),
    createdAt: timestamp,
  })
  .refine((e) => !('balanceAfter' in e) && !('balance' in e), 'a usage entry never shows a balance');
const moved = z.object({ entry, balance: z.int().min(0) });
const series = z.array(z.object({ date: z.iso.date(), credits: z.int().min(0) }));

const campaign = z.object({
  id: id('cmp'),
  accountId: z.string(),
  name: z.string(),
  settings: z.record(z.string(), z.unknown()),
  instructions: z.string(),
  faqs: z.array(z.object({ question: z.string(), answer: z.string() })),
  configuration: z.record(z.string(), z.unknown()),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const responses = {
  health: z.object({ status: z.literal('ok') }),
  openapi: z.object({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }),
  signup: session.extend({ agency, user: z.object({ id: id('usr'), email: z.string() }) }),
  login: session.extend({
    principal: z.object({ userId: id('usr'), accountId: z.string(), accountType: z.enum(['agency', 'sub_account']) }),
  }),
  me: z.object({
    principal: z.object({ accountId: z.string(), accountType: z.enum(['agency', 'sub_account']) }),
    accounts: z.array(switcherEntry),
  }),
  apiKeyCreated: apiKey.extend({ key: z.string().startsWith('ak_') }),
  apiKeys: page(apiKey),
  assist: session,
  subAccountCreated: z.object({ subAccount, password: z.string().min(16) }),
  subAccount: z.object({ subAccount }),
  subAccounts: page(subAccount),
  usageRecorded: z.object({ entry: usageEntry }),
  moved,
  poolBalance: z.object({ balance: z.int().min(0), currency: z.literal('credits') }),
  transactions: page(entry),
  agencyUsage: z.object({
    total: z.int().min(0),
    bySubAccount: z.array(z.object({ subAccountId: id('sub'), name: z.string().nullable(), credits: z.int().min(0) })),
    series,
  }),
  accountUsage: z
    .object({ total: z.int().min(0), byType: z.record(z.enum(usageTypes), z.int().min(0)), series })
    .refine((u) => !('balance' in u), 'account usage never shows a balance'),
  wallet: z.object({ balance: z.int().min(0), purchased: z.int().min(0), consumed: z.int().min(0) }),
  campaign: z.object({ campaign }),
  campaigns: page(campaign),
  copied: z.union([z.object({ campaign }), z.object({ campaigns: z.array(campaign).min(1).max(25) })]),
};
