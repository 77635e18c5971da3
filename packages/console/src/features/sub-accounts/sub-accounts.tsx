import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, api, call, type Schemas } from '../../api/client';
import { errorSentence, fieldErrors } from '../../api/words';
import { Pager, Table, useCursorPages } from '../../lists';
import { useSession } from '../../session';
import { credits, Dialog, Field, FormActions, FormError, Loaded } from '../../ui';
import { ResendVerification } from '../identity/resend-verification';
import { EditSubAccount } from './edit-sub-account';
import { CloseButton, NewCredentialsButton, ReopenButton } from './sub-account-actions';

const PAGE = 20;
type Created = Schemas['SubAccountCreated'];

export function SubAccounts() {
  const pages = useCursorPages();
  const { cursor } = pages;
  const list = useQuery({
    queryKey: ['sub-accounts', cursor],
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

function AddAccountForm({ onCreated, onCancel }: { onCreated: (c: Created) => void; onCancel: () => void }) {
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: (form: FormData) => {
      const opt = (name: string) => String(form.get(name) ?? '').trim() || undefined;
      return call(
        api.POST('/v1/sub-accounts', {
          body: {
            name: String(form.get('name') ?? '').trim(),
            email: String(form.get('email') ?? '').trim(),
            phone: opt('phone'),
            website: opt('website'),
            timezone: opt('timezone'),
            clientLogin: form.get('clientLogin') === 'on',
          },
        }),
      );
    },
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ['sub-accounts'] });
      void qc.invalidateQueries({ queryKey: ['me'] });
      onCreated(c);
    },
  });
  const errors = fieldErrors(create.error);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!create.isPending) create.mutate(new FormData(e.currentTarget));
      }}
    >
      <FormError error={create.error} />
      {create.error instanceof ApiError && create.error.problem?.code === 'email_not_verified' && <ResendVerification />}
      <Field label="Name" name="name" required hint="The client's business or contact name." error={errors.name} />
      <Field label="Email" name="email" type="email" required hint="Used for the client's login." error={errors.email} />
      <Field label="Phone" name="phone" type="tel" error={errors.phone} />
      <Field label="Website" name="website" type="url" placeholder="https://" error={errors.website} />
      <Field label="Time zone" name="timezone" placeholder="Europe/London" error={errors.timezone} />
      <label className="choice">
        <input type="checkbox" name="clientLogin" defaultChecked /> Give the client a login (emailed to them)
      </label>
      <FormActions submit="Sign Up" disabled={create.isPending} onCancel={onCancel} />
    </form>
  );
}

/** The client's password, shown this once (it is also emailed to them). */
function CreatedPopup({ created, onClose }: { created: Created; onClose: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed'>();
  return (
    <>
      <p>{created.subAccount.name} is ready to use.</p>
      {created.password ? (
        <>
          <p>
            The client logs in as <strong>{created.loginEmail ?? created.subAccount.email}</strong> with this password. It is
            shown only now; we also emailed it to them.
          </p>
          <div className="field">
            <label htmlFor="client-password">Client password</label>
            <input id="client-password" readOnly value={created.password} onFocus={(e) => e.currentTarget.select()} />
          </div>
          <button
            type="button"
            onClick={() =>
              navigator.clipboard.writeText(created.password ?? '').then(
                () => setCopied('yes'),
                () => setCopied('failed'),
              )
            }
          >
            Copy password
          </button>
          <p role="status">
            {copied === 'yes' && 'Password copied.'}
            {copied === 'failed' && 'Could not copy: select the password and copy it yourself.'}
          </p>
        </>
      ) : (
        <p>This client has no login: manage the account by switching to it or with Assist.</p>
      )}
      <button type="button" onClick={onClose}>
        Done
      </button>
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
