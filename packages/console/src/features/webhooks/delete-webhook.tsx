import { useQueryClient } from '@tanstack/react-query';
import { api, call } from '../../api/client';
import { ConfirmButton } from '../../ui';
import { rechargeWebhookOptions, webhookKeys } from './queries';

/** Removes the auto-recharge webhook and its secret, after a confirm: pending deliveries fail, open requests stay. */
export function DeleteWebhook({ onDeleted }: { onDeleted: () => void }) {
  const qc = useQueryClient();
  return (
    <ConfirmButton
      label="Delete webhook"
      title="Delete the auto-recharge webhook?"
      confirm="Delete"
      act={() => call(api.DELETE('/v1/reselling/auto-recharge-webhook'))}
      onDone={() => {
        onDeleted();
        qc.setQueryData(rechargeWebhookOptions().queryKey, null);
        void qc.invalidateQueries({ queryKey: webhookKeys.rechargeDeliveries });
      }}
    >
      <p>
        We stop calling your payment server and forget the signing secret; deliveries still being tried fail. Open recharge
        requests stay open: you can still grant them by hand.
      </p>
    </ConfirmButton>
  );
}
