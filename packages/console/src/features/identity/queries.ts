import { queryOptions } from '@tanstack/react-query';
import { api, call } from '../../api/client';

export const verifyEmailKeys = {
  all: ['verify-email'] as const,
  token: (token: string) => [...verifyEmailKeys.all, token] as const,
};

/** A query, not an effect-run mutation: the token is single-use, and a query runs once however often it mounts. */
export const verifyEmailOptions = (token: string) =>
  queryOptions({
    queryKey: verifyEmailKeys.token(token),
    queryFn: () => call(api.POST('/v1/auth/verify-email', { body: { token } })).then(() => true),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
