import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { errorSentence, fieldErrors } from '../../api/words';
import { usePrincipal, useSwitcherAccounts } from '../../queries';
import { useSession } from '../../session';
import { Dialog, Field, FormActions, FormError, Loaded } from '../../ui';
import { campaignKeys } from './queries';

/** The agency's own campaigns (the templates it copies to clients). */
export function AgencyCampaigns() {
  const { principal } = usePrincipal();
  return (
    <>
      <h1>Campaigns</h1>
      <CampaignList accountId={principal?.accountId ?? ''} />
    </>
  );
}

type Principal = ReturnType<typeof usePrincipal>['principal'];

/** Where an account's campaigns are listed: the agency's own under Campaigns, a client's on its home. */
export function campaignsPath(accountId: string, principal: Principal): string {
  if (accountId !== principal?.accountId) return `/accounts/${accountId}`;
  return principal.accountType === 'agency' ? '/campaigns' : '/';
}

/** One campaign's page (campaign-page.tsx): under /accounts/{id}/ when it is not the caller's own account's. */
export function campaignPath(accountId: string, campaignId: string, principal: Principal): string {
  return accountId === principal?.accountId ? `/campaigns/${campaignId}` : `/accounts/${accountId}/campaigns/${campaignId}`;
}

/** Only the agency itself copies (not a client, not while assisting one). */
export function useCanCopy(): boolean {
  const { principal } = usePrincipal();
  const { session } = useSession();
  return principal?.accountType === 'agency' && !session?.assist;
}

/** One account's campaigns: build one, open one, and (for the agency) Copy to Sub-Account. */
export function CampaignList({ accountId }: { accountId: string }) {
  const { principal } = usePrincipal();
  const canCopy = useCanCopy();
  // Set by the campaign page after a delete, so the list says what happened to it.
  const notice = (useLocation().state as { campaignNotice?: string } | null)?.campaignNotice;
  const list = useQuery({
    queryKey: campaignKeys.list(accountId),
    queryFn: () => call(api.GET('/v1/accounts/{accountId}/campaigns', { params: { path: { accountId } } })),
  });
  const [copying, setCopying] = useState<Schemas['Campaign']>();
  return (
    <>
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <NewCampaign accountId={accountId} />
      <Loaded query={list} label="campaigns">
        {(l) =>
          l.items.length === 0 ? (
            <p>No campaigns yet.</p>
          ) : (
            <ul className="cards" aria-label="Campaigns">
              {l.items.map((c) => (
                <li key={c.id}>
                  <h3>
                    <Link to={campaignPath(accountId, c.id, principal)}>{c.name}</Link>
                  </h3>
                  {c.instructions && <p>{c.instructions}</p>}
                  {c.copiedFrom && <p className="hint">Copied from another account</p>}
                  {canCopy && (
                    <button type="button" onClick={() => setCopying(c)} aria-label={`Copy to Sub-Account: ${c.name}`}>
                      Copy to Sub-Account
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      <Dialog title={`Copy "${copying?.name ?? ''}" to Sub-Account`} open={!!copying} onClose={() => setCopying(undefined)}>
        {copying && <CopyForm campaign={copying} fromAccountId={accountId} onDone={() => setCopying(undefined)} />}
      </Dialog>
    </>
  );
}

function NewCampaign({ accountId }: { accountId: string }) {
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: (form: FormData) =>
      call(
        api.POST('/v1/accounts/{accountId}/campaigns', {
          params: { path: { accountId } },
          body: {
            name: String(form.get('name') ?? '').trim(),
            instructions: String(form.get('instructions') ?? ''),
            settings: {},
            faqs: [],
            configuration: {},
          },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: campaignKeys.list(accountId) }),
  });
  const errors = fieldErrors(create.error);
  return (
    <details className="panel">
      <summary>New campaign</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget;
          if (!create.isPending) create.mutate(new FormData(form), { onSuccess: () => form.reset() });
        }}
      >
        <FormError error={create.error} />
        <Field label="Campaign name" name="name" required error={errors.name} />
        <Field label="Instructions for the AI agent" name="instructions" error={errors.instructions} />
        <button type="submit" disabled={create.isPending}>
          Create campaign
        </button>
      </form>
    </details>
  );
}

/** Pick one or many sub-accounts; one target sends targetAccountId, several send targetAccountIds. */
export function CopyForm({
  campaign,
  fromAccountId,
  onDone,
}: {
  campaign: Schemas['Campaign'];
  fromAccountId: string;
  onDone: () => void;
}) {
  const { accounts, me } = useSwitcherAccounts();
  const qc = useQueryClient();
  const targets = accounts.filter((a) => a.type === 'sub_account' && a.status === 'active' && a.id !== fromAccountId);
  const copy = useMutation({
    mutationFn: (ids: string[]) =>
      call(
        api.POST('/v1/accounts/{accountId}/campaigns/{campaignId}/copy', {
          params: { path: { accountId: fromAccountId, campaignId: campaign.id } },
          body: ids.length === 1 ? { targetAccountId: ids[0] } : { targetAccountIds: ids },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: campaignKeys.lists }),
  });
  const [picked, setPicked] = useState<string[]>([]);
  if (copy.isSuccess) {
    const names = picked.map((id) => accounts.find((a) => a.id === id)?.name ?? id).join(', ');
    return (
      <>
        <p role="status">
          Copied "{campaign.name}" to {names}.
        </p>
        <button type="button" onClick={onDone}>
          Close
        </button>
      </>
    );
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (picked.length && !copy.isPending) copy.mutate(picked);
      }}
    >
      {copy.isError && <p role="alert">{errorSentence(copy.error)}</p>}
      <fieldset>
        <legend>Target sub-accounts</legend>
        {targets.length === 0 && <p>There is no other active sub-account to copy to.</p>}
        {targets.map((a) => (
          <label key={a.id} className="choice">
            <input
              type="checkbox"
              checked={picked.includes(a.id)}
              onChange={(e) => setPicked((p) => (e.target.checked ? [...p, a.id] : p.filter((x) => x !== a.id)))}
            />
            {a.name}
          </label>
        ))}
        {me.hasNextPage && (
          <button type="button" onClick={() => void me.fetchNextPage()}>
            More sub-accounts
          </button>
        )}
      </fieldset>
      <FormActions submit="Copy" disabled={picked.length === 0 || copy.isPending} onCancel={onDone} />
    </form>
  );
}
