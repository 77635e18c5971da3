/** Plans and the features they grant, defined once (API.md, Features). */
export const features = ['campaigns', 'ai_bot', 'api_access', 'usage_export', 'white_label', 'reselling'] as const;
export type Feature = (typeof features)[number];

export const plans = ['starter', 'pro', 'agency'] as const;
export type Plan = (typeof plans)[number];

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
