import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../../api/client';
import { errorSentence, fieldErrors } from '../../api/words';
import { Table } from '../../lists';
import { day, Field, FormError, Loaded } from '../../ui';
import { apiKeyKeys } from './queries';

/** API keys for the agency's own servers: the key is shown once, then only its hint. */
export function ApiKeys() {
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: apiKeyKeys.all, queryFn: () => call(api.GET('/v1/api-keys')) });
  const [shown, setShown] = useState<string>();
  const create = useMutation({
    mutationFn: (name: string) => call(api.POST('/v1/api-keys', { body: { name } })),
    onSuccess: (k) => {
      setShown(k.key);
      void qc.invalidateQueries({ queryKey: apiKeyKeys.all });
    },
  });
  const revoke = useMutation({
    mutationFn: (apiKeyId: string) => call(api.DELETE('/v1/api-keys/{apiKeyId}', { params: { path: { apiKeyId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: apiKeyKeys.all }),
  });
  const errors = fieldErrors(create.error);
  return (
    <>
      <h1>API Keys</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget;
          if (!create.isPending)
            create.mutate(String(new FormData(form).get('name') ?? '').trim(), { onSuccess: () => form.reset() });
        }}
      >
        <FormError error={create.error} />
        <Field label="Key name" name="name" required hint="What it is for, e.g. billing server." error={errors.name} />
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {shown && (
        <div className="notice" role="status">
          <label htmlFor="new-key">New key (copy it now: it is shown only once)</label>
          <input id="new-key" readOnly value={shown} />
        </div>
      )}
      {revoke.isError && <p role="alert">{errorSentence(revoke.error)}</p>}
      <Loaded query={keys} label="API keys">
        {(l) => (
          <Table
            caption="Your API keys"
            columns={['Name', 'Key', 'Created', 'Actions']}
            items={l.items}
            empty="No API keys."
            row={(k) => (
              <tr key={k.id}>
                <th scope="row">{k.name}</th>
                <td>{k.hint}</td>
                <td>{day(k.createdAt)}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`Revoke ${k.name}`}
                    disabled={revoke.isPending}
                    onClick={() =>
                      window.confirm(`Revoke "${k.name}"? Servers using it stop working at once.`) && revoke.mutate(k.id)
                    }
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            )}
          />
        )}
      </Loaded>
    </>
  );
}
