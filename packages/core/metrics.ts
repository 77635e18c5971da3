import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * Business metrics as CloudWatch EMF (one JSON log line per invocation, no API calls):
 * debits, refusals by code, commit retries, DynamoDB conflicts, emails sent. The local
 * runtime disables them (POWERTOOLS_METRICS_DISABLED) unless asked.
 */
export const metrics = new Metrics({ namespace: 'AgencyAccounts', serviceName: 'agency-accounts' });

export const count = (name: string, value = 1) => metrics.addMetric(name, MetricUnit.Count, value);

/** A count under one extra dimension (e.g. refusals by code), published on its own. */
export function countBy(name: string, dimension: string, value: string): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** Publishes what the request counted, once, at its end (and nothing when it counted nothing). */
export const publishMetrics = () => {
  const publish = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
};
