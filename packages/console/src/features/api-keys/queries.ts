/** The agency's API keys (GET /v1/api-keys). */
export const apiKeyKeys = {
  all: ['api-keys'] as const,
};
