import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Schemas } from '../api/client';
import { Dialog, FormError, ShownOnce } from '../ui';

type Sub = Schemas['SubAccount'];

/**
 * A new password for the client (POST …/credentials): asked first, because the current one stops
 * working and the client's sessions end; then shown this once with a copy button, as Add Account does.
 */
export function NewCredentialsButton({ sub }: { sub: Sub }) {
  const [open, setOpen] = useState(false);
  const issue = useMutation({
    mutationFn: () =>
      call(api.POST('/v1/sub-accounts/{subAccountId}/credentials', { params: { path: { subAccountId: sub.id } } })),
  });
  const close = () => {
    setOpen(false);
    issue.reset();
  };
  return (
    <>
      <button
        type="button"
        aria-label={`New password for ${sub.name}`}
        disabled={sub.status !== 'active'}
        onClick={() => setOpen(true)}
      >
        New password
      </button>
      <Dialog title="New client password" open={open} onClose={close}>
        {issue.data ? (
          <>
            <p>
              {sub.name} now logs in as <strong>{issue.data.email}</strong> with this password. It is shown only now; we also
              emailed it to them.
            </p>
            <ShownOnce label="Client password" value={issue.data.password} copyLabel="Copy password" />
            <button type="button" onClick={close}>
              Done
            </button>
          </>
        ) : (
          <>
            <p>{sub.name} gets a new password: the current one stops working and the client is signed out everywhere.</p>
            <FormError error={issue.error} />
            <div className="actions">
              <button type="button" disabled={issue.isPending} onClick={() => !issue.isPending && issue.mutate()}>
                Make a new password
              </button>
              <button type="button" onClick={close}>
                Cancel
              </button>
            </div>
          </>
        )}
      </Dialog>
    </>
  );
}

/** Closes a sub-account (DELETE …), after a confirm: its history stays; it can no longer be edited, assisted or used. */
export function CloseButton({ sub }: { sub: Sub }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const closeIt = useMutation({
    mutationFn: () => call(api.DELETE('/v1/sub-accounts/{subAccountId}', { params: { path: { subAccountId: sub.id } } })),
    onSuccess: () => {
      setOpen(false);
      void qc.invalidateQueries({ queryKey: ['sub-accounts'] });
      void qc.invalidateQueries({ queryKey: ['me'] });
    },
  });
  return (
    <>
      <button type="button" aria-label={`Close ${sub.name}`} disabled={sub.status !== 'active'} onClick={() => setOpen(true)}>
        Close
      </button>
      <Dialog
        title="Close this sub-account?"
        open={open}
        onClose={() => {
          setOpen(false);
          closeIt.reset();
        }}
      >
        <p>
          {sub.name} will be closed: its history stays, but it can no longer be edited, assisted or used. The console cannot
          reopen it.
        </p>
        <FormError error={closeIt.error} />
        <div className="actions">
          <button type="button" disabled={closeIt.isPending} onClick={() => closeIt.isPending || closeIt.mutate()}>
            Close account
          </button>
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}
