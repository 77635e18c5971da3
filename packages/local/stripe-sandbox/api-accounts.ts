import type Stripe from 'stripe';
import type { ApiContext, ApiRequest } from './api-context';
import { invalidRequest } from './errors';
import { newId, nowSeconds } from './ids';
import { buildAccount, buildAccountLink } from './objects-account';
import type { Params } from './params';

/** Controller settings Stripe gives each classic account type. */
const CONTROLLER_OF_TYPE: Record<'express' | 'standard' | 'custom', Stripe.Account.Controller> = {
  express: {
    fees: { payer: 'application_express' },
    is_controller: true,
    losses: { payments: 'application' },
    requirement_collection: 'stripe',
    stripe_dashboard: { type: 'express' },
    type: 'application',
  },
  standard: {
    fees: { payer: 'account' },
    is_controller: true,
    losses: { payments: 'stripe' },
    requirement_collection: 'stripe',
    stripe_dashboard: { type: 'full' },
    type: 'application',
  },
  custom: {
    fees: { payer: 'application_custom' },
    is_controller: true,
    losses: { payments: 'application' },
    requirement_collection: 'application',
    stripe_dashboard: { type: 'none' },
    type: 'application',
  },
};

function readController(c: Params): { type: Stripe.Account.Type; controller: Stripe.Account.Controller } {
  const payer = c.obj('fees')?.oneOf('payer', ['account', 'application'] as const) ?? 'account';
  const losses = c.obj('losses')?.oneOf('payments', ['application', 'stripe'] as const) ?? 'stripe';
  const collection = c.oneOf('requirement_collection', ['application', 'stripe'] as const) ?? 'stripe';
  const dashboard = c.obj('stripe_dashboard')?.oneOf('type', ['express', 'full', 'none'] as const) ?? 'full';
  const type: Stripe.Account.Type =
    dashboard === 'express' ? 'express' : dashboard === 'full' ? 'standard' : collection === 'application' ? 'custom' : 'none';
  return {
    type,
    controller: {
      fees: { payer },
      is_controller: true,
      losses: { payments: losses },
      requirement_collection: collection,
      stripe_dashboard: { type: dashboard },
      type: 'application',
    },
  };
}

export function createAccount(ctx: ApiContext, req: ApiRequest, p: Params): Stripe.Account {
  if (req.scope)
    throw invalidRequest('Connected accounts cannot be created on behalf of another account (drop the Stripe-Account header).');
  const typeParam = p.oneOf('type', ['express', 'standard', 'custom'] as const);
  const controllerParams = p.obj('controller');
  if (typeParam && controllerParams)
    throw invalidRequest('You may only specify one of these parameters: type, controller.', 'controller', 'parameters_exclusive');
  if (!typeParam && !controllerParams) throw invalidRequest('Missing required param: type.', 'type', 'parameter_missing');
  const { type, controller } = typeParam
    ? { type: typeParam, controller: structuredClone(CONTROLLER_OF_TYPE[typeParam]) }
    : readController(controllerParams as Params);
  const country = p.str('country') ?? 'US';
  if (!/^[A-Za-z]{2}$/.test(country)) throw invalidRequest(`Invalid country: ${country}`, 'country');
  const email = p.str('email', { max: 800 }) ?? null;
  const capabilities: string[] = [];
  const caps = p.obj('capabilities');
  for (const name of caps?.keys() ?? []) if (caps?.obj(name)?.bool('requested')) capabilities.push(name);
  const profile = p.obj('business_profile');
  const businessName = profile?.str('name', { max: 5000 }) ?? null;
  const businessUrl = profile?.url('url') ?? null;
  const metadata = p.metadata('metadata');
  const paths = p.expand();
  p.done();
  if (paths.length) throw invalidRequest(`This property cannot be expanded (${paths[0]}).`, 'expand');
  const account = buildAccount({
    type,
    controller,
    country,
    email,
    metadata,
    capabilities,
    businessName,
    businessUrl,
    created: nowSeconds(),
  });
  ctx.store.accounts.set(account.id, account);
  return account;
}

export function createAccountLink(ctx: ApiContext, req: ApiRequest, p: Params): Stripe.AccountLink {
  if (req.scope) throw invalidRequest('Account links are created by the platform (drop the Stripe-Account header).');
  const accountId = p.str('account', { required: true });
  const type = p.oneOf('type', ['account_onboarding', 'account_update'] as const, { required: true });
  const refreshUrl = p.url('refresh_url') ?? null;
  const returnUrl = p.url('return_url') ?? null;
  p.done();
  const account = ctx.store.account(accountId);
  if (type === 'account_update' && account.type === 'express')
    throw invalidRequest('You cannot create `account_update` type Account Links for Express accounts.', 'type');
  const created = nowSeconds();
  const id = newId('link');
  const link = buildAccountLink(`${ctx.baseUrl}/sandbox/pages/onboard/${account.id}?link=${id}`, created);
  ctx.store.accountLinks.set(id, { id, account: account.id, refreshUrl, returnUrl, expiresAt: link.expires_at, used: false });
  return link;
}
