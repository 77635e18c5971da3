import type { AccountType } from './tokens';

/** Who is calling, once authenticated. Every authorization decision reads this. */
export type Principal =
  | {
      kind: 'agency_user';
      userId: string;
      agencyId: string;
      accountId: string;
      tokenId: string;
    }
  | {
      kind: 'sub_account_user';
      userId: string;
      agencyId: string;
      accountId: string;
      tokenId: string;
    }
  | {
      /** An agency user acting as a sub-account; writes record `actorUserId`. */
      kind: 'assist';
      actorUserId: string;
      agencyId: string;
      accountId: string;
      tokenId: string;
      expiresAt: Date;
    }
  | { kind: 'api_key'; apiKeyId: string; agencyId: string; accountId: string }
  | { kind: 'platform' };

export type PrincipalKind = Principal['kind'];

/** Sets of principal kinds the route table allows. */
export const allow = {
  anyone: [] as PrincipalKind[],
  agencyUser: ['agency_user'] as PrincipalKind[],
  agency: ['agency_user', 'api_key'] as PrincipalKind[],
  users: ['agency_user', 'sub_account_user', 'assist'] as PrincipalKind[],
  accountMembers: ['agency_user', 'api_key', 'sub_account_user', 'assist'] as PrincipalKind[],
  assist: ['assist'] as PrincipalKind[],
  platform: ['platform'] as PrincipalKind[],
};

export function accountTypeOf(p: Exclude<Principal, { kind: 'platform' }>): AccountType {
  return p.kind === 'agency_user' || p.kind === 'api_key' ? 'agency' : 'sub_account';
}

/** The agency user behind a write: the assist actor, or the user themself. */
export function actorOf(p: Principal): { userId?: string; apiKeyId?: string; platform?: true } {
  switch (p.kind) {
    case 'assist':
      return { userId: p.actorUserId };
    case 'api_key':
      return { apiKeyId: p.apiKeyId };
    case 'platform':
      return { platform: true };
    default:
      return { userId: p.userId };
  }
}
