import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { errorSentence } from '../../api/words';
import { Pager, Table, useCursorPages } from '../../lists';
import { useSession } from '../../session';
import { credits, Dialog, Loaded } from '../../ui';
import { AddAccountForm, CreatedPopup } from './add-account';
import { EditSubAccount } from './edit-sub-account';
import { subAccountKeys } from './queries';
import { CloseButton, NewCredentialsButton, ReopenButton } from './sub-account-actions';

const PAGE = 20;
type Created = Schemas['SubAccountCreated'];

export function SubAccounts() {
  const pages = useCursorPages();
  const { cursor } = pages;
  const list = useQuery({
    queryKey: subAccountKeys.page(cursor),
    queryFn: () => call(api.GET('/v1/sub-accounts', { params: { query: { limit: PAGE, ...(cursor ? { cursor } : {}) } } })),
    placeholderData: (prev) => prev,
    // Sub-accounts also come and go through the API and other team members: opening the page
    // shows the cached list at once and then the current one, however recently it was read.
    refetchOnMount: 'always',
  });
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<Created>();
  const [editing, setEditing] = useState<Schemas['SubAccount']>();
  return (
    <>
      <h1>Sub Accounts</h1>
      <button type="button" onClick={() => setAdding(true)}>
        Add Account
      </button>
      <Loaded query={list} label="sub-accounts">
        {(l) => (
          <>
            <Table
              caption="Your sub-accounts"
              columns={['Name', 'Email', 'Credit mode', 'Used this month', 'Status', 'Actions']}
              items={l.items}
              empty="No sub-accounts yet: click Add Account."
              row={(s) => (
                <tr key={s.id}>
                  <th scope="row">{s.name}</th>
                  <td>{s.email}</td>
                  <td>{s.creditMode}</td>
                  <td>{credits(s.creditsUsedThisMonth)}</td>
                  <td>{s.status}</td>
                  <td className="actions">
                    <button
                      type="button"
                      onClick={() => setEditing(s)}
                      aria-label={`Edit ${s.name}`}
                      disabled={s.status !== 'active'}
                    >
                      Edit
                    </button>
                    <AssistButton sub={s} />
                    <NewCredentialsButton sub={s} />
                    <CloseButton sub={s} />
                    {s.status === 'closed' && <ReopenButton sub={s} />}
                  </td>
                </tr>
              )}
            />
            <Pager label="Sub-account pages" pages={pages} nextCursor={l.nextCursor} />
          </>
        )}
      </Loaded>
      <Dialog title="Add Account" open={adding} onClose={() => setAdding(false)}>
        <AddAccountForm
          onCreated={(c) => {
            setAdding(false);
            setCreated(c);
          }}
          onCancel={() => setAdding(false)}
        />
      </Dialog>
      <Dialog title="Sub-account created" open={!!created} onClose={() => setCreated(undefined)}>
        {created && <CreatedPopup created={created} onClose={() => setCreated(undefined)} />}
      </Dialog>
      <Dialog title="Edit Sub Account" open={!!editing} onClose={() => setEditing(undefined)}>
        {editing && <EditSubAccount sub={editing} onDone={() => setEditing(undefined)} />}
      </Dialog>
    </>
  );
}

function AssistButton({ sub }: { sub: Schemas['SubAccount'] }) {
  const { startAssist } = useSession();
  const navigate = useNavigate();
  const assist = useMutation({
    mutationFn: () => call(api.POST('/v1/sub-accounts/{subAccountId}/assist', { params: { path: { subAccountId: sub.id } } })),
    onSuccess: (a) => {
      startAssist({ token: a.token, expiresAt: a.expiresAt, subAccountId: sub.id, name: sub.name });
      navigate('/');
    },
  });
  return (
    <>
      <button
        type="button"
        aria-label={`Assist ${sub.name}`}
        disabled={sub.status !== 'active' || assist.isPending}
        onClick={() => assist.mutate()}
      >
        Assist
      </button>
      {assist.isError && <span role="alert">{errorSentence(assist.error)}</span>}
    </>
  );
}
