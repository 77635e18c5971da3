import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import { Dialog, FormError } from '../ui';

/** Removes the auto-recharge webhook and its secret, after a confirm: pending deliveries fail, open requests stay. */
export function DeleteWebhook({ onDeleted }: { onDeleted: () => void }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/v1/reselling/auto-recharge-webhook')),
    onSuccess: () => {
      setOpen(false);
      onDeleted();
      qc.setQueryData(['recharge-webhook'], null);
      void qc.invalidateQueries({ queryKey: ['webhook-deliveries'] });
    },
  });
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Delete webhook
      </button>
      <Dialog
        title="Delete the auto-recharge webhook?"
        open={open}
        onClose={() => {
          setOpen(false);
          remove.reset();
        }}
      >
        <p>
          We stop calling your payment server and forget the signing secret; deliveries still being tried fail. Open recharge
          requests stay open: you can still grant them by hand.
        </p>
        <FormError error={remove.error} />
        <div className="actions">
          <button type="button" disabled={remove.isPending} onClick={() => remove.isPending || remove.mutate()}>
            Delete
          </button>
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}
