import { api, call, type Schemas } from '../../api/client';
import { ConfirmButton, ShownOnce } from '../../ui';
import { useSubAccountsChanged } from './queries';

type Sub = Schemas['SubAccount'];

/**
 * A new password for the client (POST …/credentials): asked first, because the current one stops
 * working and the client's sessions end; then shown this once with a copy button, as Add Account does.
 */
export function NewCredentialsButton({ sub }: { sub: Sub }) {
  return (
    <ConfirmButton
      label="New password"
      ariaLabel={`New password for ${sub.name}`}
      disabled={sub.status !== 'active'}
      title="New client password"
      confirm="Make a new password"
      act={() => call(api.POST('/v1/sub-accounts/{subAccountId}/credentials', { params: { path: { subAccountId: sub.id } } }))}
      result={(issued, close) => (
        <>
          <p>
            {sub.name} now logs in as <strong>{issued.email}</strong> with this password. It is shown only now; we also emailed it
            to them.
          </p>
          <ShownOnce label="Client password" value={issued.password} copyLabel="Copy password" />
          <button type="button" onClick={close}>
            Done
          </button>
        </>
      )}
    >
      <p>{sub.name} gets a new password: the current one stops working and the client is signed out everywhere.</p>
    </ConfirmButton>
  );
}

/** Closes a sub-account (DELETE …), after a confirm: its history stays; it can no longer be edited, assisted or used. */
export function CloseButton({ sub }: { sub: Sub }) {
  const changed = useSubAccountsChanged();
  return (
    <ConfirmButton
      label="Close"
      ariaLabel={`Close ${sub.name}`}
      disabled={sub.status !== 'active'}
      title="Close this sub-account?"
      confirm="Close account"
      act={() => call(api.DELETE('/v1/sub-accounts/{subAccountId}', { params: { path: { subAccountId: sub.id } } }))}
      onDone={changed}
    >
      <p>{sub.name} will be closed: its history stays, but it can no longer be edited, assisted or used until it is reopened.</p>
    </ConfirmButton>
  );
}

/** Reopens a closed sub-account (POST …/reopen), after a confirm: the client needs a new password to log in again. */
export function ReopenButton({ sub }: { sub: Sub }) {
  const changed = useSubAccountsChanged();
  return (
    <ConfirmButton
      label="Reopen"
      ariaLabel={`Reopen ${sub.name}`}
      title="Reopen this sub-account?"
      confirm="Reopen account"
      act={() => call(api.POST('/v1/sub-accounts/{subAccountId}/reopen', { params: { path: { subAccountId: sub.id } } }))}
      onDone={changed}
    >
      <p>
        {sub.name} becomes active again, with its history. Its client cannot log in until you give it a new password (New
        password).
      </p>
    </ConfirmButton>
  );
}
