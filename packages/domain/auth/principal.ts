import type { AccountItem } from '#db/items/account';
import type { Actor } from '#db/vocabulary';

/** Who is calling, once authenticated. Every authorization decision reads this. */
export type Principal =
  | {
      kind: 'agency_user';
      userId: string;
      agencyId: string;
      accountId: string;
      tokenId: string;
      /** The user's session version, checked against the user item (assist tokens carry it on). */
      sessionVersion: number;
    }
  | {
      kind: 'sub_account_user';
      userId: string;
      agencyId: string;
      accountId: string;
      tokenId: string;
      sessionVersion: number;
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
export const principalKinds = [
  'agency_user',
  'sub_account_user',
  'assist',
  'api_key',
  'platform',
] as const satisfies readonly PrincipalKind[];
/** The principal narrowed to some kinds, e.g. `PrincipalOf<'agency_user' | 'api_key'>`. */
export type PrincipalOf<K extends PrincipalKind> = Extract<Principal, { kind: K }>;

/** Sets of principal kinds the route table allows (kept literal, so handlers get the principal narrowed). */
export const allow = {
  anyone: [],
  agencyUser: ['agency_user'],
  agency: ['agency_user', 'api_key'],
  users: ['agency_user', 'sub_account_user', 'assist'],
  loginUsers: ['agency_user', 'sub_account_user'],
  accountMembers: ['agency_user', 'api_key', 'sub_account_user', 'assist'],
  assist: ['assist'],
  platform: ['platform'],
} as const satisfies Record<string, readonly PrincipalKind[]>;

/** Who made a write: the assisting agency user is named, never hidden behind the client. */
export type { Actor };

export function actorOf(p: Principal): Actor {
  switch (p.kind) {
    case 'platform':
      return { type: 'platform' };
    case 'api_key':
      return { type: 'api_key', apiKeyId: p.apiKeyId };
    case 'assist':
      return { type: 'assist', userId: p.actorUserId, accountId: p.accountId };
    default:
      return { type: 'user', userId: p.userId };
  }
}

/** Whether a principal may act in an account: the one rule behind every 404 for another tenant's id. */
export function canReach(principal: Principal, account: AccountItem, kind: 'account' | 'subAccount'): boolean {
  if (kind === 'subAccount' && account.type !== 'sub_account') return false;
  switch (principal.kind) {
    case 'platform':
      return true;
    case 'agency_user':
    case 'api_key':
      return account.agencyId === principal.agencyId;
    default:
      return account.id === principal.accountId;
  }
}
