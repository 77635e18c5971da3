import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api, bindSession } from './api/client';

/**
 * The signed-in session. The bearer token lives in sessionStorage (README "Sessions in the
 * browser"): this tab only, gone when the tab closes, readable only by this origin's scripts,
 * and the CSP allows no script but the console's own.
 */
export interface Assist {
  token: string;
  expiresAt: string;
  subAccountId: string;
  name: string;
}
/** Who signed in, from the login answer itself: the dashboard starts loading without waiting for /v1/me. */
export interface SignedIn {
  accountId: string;
  accountType: 'agency' | 'sub_account';
}
export interface Session {
  token: string;
  expiresAt: string;
  principal: SignedIn;
  assist?: Assist;
}

const KEY = 'agency-accounts.session';

function load(): Session | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    if (s?.principal && Date.parse(s.expiresAt) > Date.now()) return s;
  } catch {}
  return undefined;
}

interface SessionApi {
  session: Session | undefined;
  /** Why the last session ended, shown on the sign-in page. */
  endedBecause: string | undefined;
  signIn(token: string, expiresAt: string, principal: SignedIn): void;
  signOut(): Promise<void>;
  /** A new token for the same user (after a password change ended the old one). */
  replaceToken(token: string, expiresAt: string): void;
  startAssist(a: Assist): void;
  endAssist(): Promise<void>;
}

const SessionContext = createContext<SessionApi | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session | undefined>(load);
  const [endedBecause, setEndedBecause] = useState<string>();

  const save = useCallback(
    (s: Session | undefined) => {
      if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
      else sessionStorage.removeItem(KEY);
      queryClient.clear();
      setSession(s);
    },
    [queryClient],
  );

  const expire = useCallback(() => {
    setEndedBecause('Your session has ended. Sign in again.');
    save(undefined);
  }, [save]);

  // The API client reads the current token on each request; an assist token stands in for the user's while assisting.
  // Bound during render, not in an effect: children's queries start in their effects, which run first.
  bindSession(() => session?.assist?.token ?? session?.token, expire);

  // Expiry at the announced time, not only at the next refused request.
  useEffect(() => {
    const at = session?.assist?.expiresAt ?? session?.expiresAt;
    if (!at) return;
    const timer = setTimeout(expire, Math.max(0, Math.min(Date.parse(at) - Date.now(), 2 ** 31 - 1)));
    return () => clearTimeout(timer);
  }, [session, expire]);

  const value = useMemo<SessionApi>(
    () => ({
      session,
      endedBecause,
      signIn(token, expiresAt, principal) {
        setEndedBecause(undefined);
        save({ token, expiresAt, principal });
      },
      async signOut() {
        if (session?.assist) await api.POST('/v1/assist/exit').catch(() => {});
        // The user's token, explicitly: the assist one was just ended.
        if (session) await api.POST('/v1/auth/logout', { headers: { authorization: `Bearer ${session.token}` } }).catch(() => {});
        setEndedBecause('You have signed out.');
        save(undefined);
      },
      replaceToken(token, expiresAt) {
        if (session) save({ token, expiresAt, principal: session.principal });
      },
      startAssist(assist) {
        if (session) save({ ...session, assist });
      },
      async endAssist() {
        if (!session?.assist) return;
        await api.POST('/v1/assist/exit').catch(() => {});
        save({ token: session.token, expiresAt: session.expiresAt, principal: session.principal });
      },
    }),
    [session, endedBecause, save],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}
