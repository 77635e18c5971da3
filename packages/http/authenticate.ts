import { createHash, timingSafeEqual } from 'node:crypto';
import { secret } from '#core/env';
import { unauthenticated } from '#core/errors';
import { type AccountItem, type AgencyItem, accountKey, accountShape } from '#db/items/account';
import { findApiKey } from '#db/items/api-key';
import { revokedTokenKey } from '#db/items/revoked-token';
import { sessionVersionOf, userKey, userShape } from '#db/items/user';
import { foundItem, getItems, itemId } from '#db/read';
import type { Key } from '#db/schema';
import { API_KEY_PREFIX, hashApiKey } from '#domain/auth/api-keys';
import type { Principal } from '#domain/auth/principal';
import { verifyToken } from '#domain/auth/tokens';

export interface Authenticated {
  principal: Principal;
  /** The caller's own account when it is a sub-account (sub-account users, assist). */
  ownAccount?: AccountItem;
  /** The caller's agency as read for this request (status, plan, features); absent for the platform. */
  agency?: AgencyItem;
}

/** The items of a request's one BatchGet, by `itemId`; a key read and not found is absent. */
export type Found = Map<string, Record<string, unknown>>;

/**
 * A credential that checked out on its own (signature, expiry, key hash), and what must be read
 * to decide whether it still lets its holder in: `reads` join the request's one BatchGet (with
 * the route's own reads), then `admit` interprets what came back (401 unless all is well).
 * A new check is a key added to `reads` and a test added to `admit`.
 */
interface Claim {
  principal: Principal;
  reads: Key[];
  admit(found: Found): Authenticated;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const accountIn = (found: Found, id: string) => foundItem(found, accountKey(id), accountShape);

/** The caller's agency, unless it is missing or suspended: then every credential of it is refused. */
function activeAgency(found: Found, agencyId: string): AgencyItem {
  const agency = accountIn(found, agencyId);
  if (agency?.type !== 'agency') throw unauthenticated();
  if (agency.status !== 'active') throw unauthenticated('This agency is suspended');
  return agency;
}

async function claim(authorization: string | undefined): Promise<Claim> {
  // The auth scheme is case-insensitive (RFC 9110 §11.1): `bearer x` is the same credential.
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(authorization ?? '');
  const credential = match?.[1];
  if (!credential) throw unauthenticated();

  if (credential.startsWith(API_KEY_PREFIX)) {
    const item = await findApiKey(hashApiKey(credential));
    if (!item) throw unauthenticated();
    const principal: Principal = { kind: 'api_key', apiKeyId: item.id, agencyId: item.agencyId, accountId: item.agencyId };
    return {
      principal,
      reads: [accountKey(item.agencyId)],
      admit: (found) => {
        const agency = activeAgency(found, item.agencyId);
        // API keys are a plan feature: an agency without it (a downgrade) has keys that no longer open anything.
        if (!agency.features.includes('api_access')) throw unauthenticated('API keys need the api_access feature');
        return { principal, agency };
      },
    };
  }

  if (timingSafeEqual(digest(credential), digest(await secret('PLATFORM_API_KEY')))) {
    return { principal: { kind: 'platform' }, reads: [], admit: () => ({ principal: { kind: 'platform' } }) };
  }

  const claims = await verifyToken(credential);
  const agencyKey = accountKey(claims.agencyId);
  // The user behind the token (for assist: the agency user acting) and the token's revocation
  // (logout, assist exit) are read for every session, with the agency and a sub-account's own item.
  const userItemKey = userKey(claims.actorUserId ?? claims.userId);
  // An assist token also ends with the session that started it: its revocation joins the same read.
  const revokedKeys = [claims.jti, claims.parentSessionId].flatMap((jti) => (jti ? [revokedTokenKey(jti)] : []));
  const sessionStillValid = (found: Found) => {
    // A password change (or reset, or re-issued credentials) raised the version: earlier tokens end.
    const user = foundItem(found, userItemKey, userShape);
    if (!user || sessionVersionOf(user) !== claims.sessionVersion || user.agencyId !== claims.agencyId) throw unauthenticated();
    if (revokedKeys.some((key) => found.has(itemId(key)))) throw unauthenticated();
  };

  if (claims.accountType === 'agency' && !claims.actorUserId) {
    const principal: Principal = {
      kind: 'agency_user',
      userId: claims.userId,
      agencyId: claims.agencyId,
      accountId: claims.accountId,
      tokenId: claims.jti,
      sessionVersion: claims.sessionVersion,
    };
    return {
      principal,
      reads: [agencyKey, userItemKey, ...revokedKeys],
      admit: (found) => {
        sessionStillValid(found);
        return { principal, agency: activeAgency(found, claims.agencyId) };
      },
    };
  }

  const principal: Principal = claims.actorUserId
    ? {
        kind: 'assist',
        actorUserId: claims.actorUserId,
        agencyId: claims.agencyId,
        accountId: claims.accountId,
        tokenId: claims.jti,
        expiresAt: claims.expiresAt,
      }
    : {
        kind: 'sub_account_user',
        userId: claims.userId,
        agencyId: claims.agencyId,
        accountId: claims.accountId,
        tokenId: claims.jti,
        sessionVersion: claims.sessionVersion,
      };
  return {
    principal,
    // A closed sub-account, a changed password, a logout (for assist: its own or its session's),
    // a returned assist token or a suspended agency stops at once.
    reads: [accountKey(claims.accountId), agencyKey, userItemKey, ...revokedKeys],
    admit: (found) => {
      sessionStillValid(found);
      const ownAccount = accountIn(found, claims.accountId);
      if (ownAccount?.status !== 'active') throw unauthenticated();
      return { principal, ownAccount, agency: activeAgency(found, claims.agencyId) };
    },
  };
}

/**
 * Resolves the bearer credential to a principal, or throws 401, reading what it needs together
 * with `alsoRead` (the route's own items, e.g. the account in scope) in ONE BatchGet. Cost in
 * DynamoDB calls: the platform key none (plus the route's own reads, if any); a session or
 * assist token one BatchGet (the agency: its status; the user: its session version; the
 * token's revocation, and for assist its session's; for sub-account and assist tokens also
 * the account); an API key one GetItem (its hash) then that BatchGet (the agency: status and
 * api_access).
 */
export async function authenticate(
  authorization: string | undefined,
  alsoRead: (principal: Principal) => Key[] = () => [],
): Promise<{ auth: Authenticated; found: Found }> {
  const c = await claim(authorization);
  const keys = new Map([...c.reads, ...alsoRead(c.principal)].map((k) => [itemId(k), k]));
  const found: Found = keys.size ? await getItems([...keys.values()]) : new Map();
  return { auth: c.admit(found), found };
}
