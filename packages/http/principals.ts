import { forbidden } from '../core/errors';
import type { Principal } from '../domain/auth/principal';

/** Narrowing helpers for actions whose route already restricts the principal kinds. */
export function agencyUser(p: Principal): Extract<Principal, { kind: 'agency_user' }> {
  if (p.kind !== 'agency_user') throw forbidden();
  return p;
}

export function agencyOf(p: Principal): string {
  if (p.kind !== 'agency_user' && p.kind !== 'api_key') throw forbidden();
  return p.agencyId;
}
