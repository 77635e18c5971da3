/** Plans and the features they grant, defined once (API.md, Features); their names are the table's (db/vocabulary.ts). */
import type { Feature, Plan } from '#db/vocabulary';

export { type Feature, features, type Plan, plans } from '#db/vocabulary';

export const planFeatures: Record<Plan, readonly Feature[]> = {
  starter: ['campaigns', 'ai_bot'],
  pro: ['campaigns', 'ai_bot', 'api_access', 'usage_export'],
  agency: ['campaigns', 'ai_bot', 'api_access', 'usage_export', 'white_label', 'reselling'],
};

/** Features outside the plan, in a stable order (empty when the request fits the plan). */
export function featuresBeyondPlan(plan: Plan, requested: readonly Feature[]): Feature[] {
  const allowed = new Set(planFeatures[plan]);
  return [...new Set(requested)].filter((f) => !allowed.has(f));
}

/**
 * How an agency's plan has changed: `planEpoch` counts plan changes that took features away,
 * and `featureRevokedAt` holds, per feature, the epoch at which it was last taken away.
 */
export interface PlanHistory {
  features: readonly Feature[];
  planEpoch?: number;
  featureRevokedAt?: Partial<Record<Feature, number>>;
}

/** A sub-account's allocation, and the agency's plan epoch it was checked against. */
export interface Allocation {
  features: readonly Feature[];
  featuresEpoch?: number;
}

/**
 * The features a sub-account may use now: those allocated to it that its agency's plan has now
 * AND has not lost since the allocation was checked. So a downgrade is ONE write to the agency
 * item, after which no reader sees any sub-account keep a feature the plan lost; nor does a
 * later upgrade hand it back (the agency allocates it again, as for any new feature).
 */
export function featuresOf(sub: Allocation, agency: PlanHistory): Feature[] {
  const checkedAt = sub.featuresEpoch ?? 0;
  return sub.features.filter((f) => agency.features.includes(f) && (agency.featureRevokedAt?.[f] ?? 0) <= checkedAt);
}

/** The agency's features and plan history once it moves to `plan`: features it loses are stamped with a new epoch. */
export function changePlan(agency: PlanHistory, plan: Plan): Required<PlanHistory> & { features: Feature[] } {
  const next = [...planFeatures[plan]];
  const lost = agency.features.filter((f) => !next.includes(f));
  const epoch = (agency.planEpoch ?? 0) + (lost.length ? 1 : 0);
  return {
    features: next,
    planEpoch: epoch,
    featureRevokedAt: { ...agency.featureRevokedAt, ...Object.fromEntries(lost.map((f) => [f, epoch])) },
  };
}
