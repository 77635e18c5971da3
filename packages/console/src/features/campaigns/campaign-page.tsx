import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { usePrincipal } from '../../queries';
import { ConfirmButton, Dialog, day, Loaded, Section } from '../../ui';
import { CampaignEditor, pretty, statusOf } from './campaign-editor';
import { CopyForm, campaignsPath, useCanCopy } from './campaigns';
import { campaignKeys, campaignOptions } from './queries';

type Campaign = Schemas['Campaign'];

/**
 * One campaign (the seed's "Open the campaign"): everything it holds, Edit campaign, Copy to
 * Sub-Account (the agency) and Delete campaign. Loaded lazily: the list does not need it.
 */
export function CampaignPage() {
  const { principal } = usePrincipal();
  const params = useParams();
  const accountId = params.accountId ?? principal?.accountId ?? '';
  const campaignId = params.campaignId ?? '';
  const back = campaignsPath(accountId, principal);
  const campaign = useQuery({ ...campaignOptions(accountId, campaignId), enabled: accountId !== '' });
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  // Bumped by "Reload the campaign" after a conflict: the editor starts again from what is stored now.
  const [reloads, setReloads] = useState(0);
  const backLink = (
    <p>
      <Link to={back}>Back to campaigns</Link>
    </p>
  );
  if (statusOf(campaign.error) === 404)
    return (
      <>
        {backLink}
        <h1>Campaign not found</h1>
        <p role="alert">
          This campaign does not exist any more (it may have been deleted elsewhere), or it is not in this account.
        </p>
      </>
    );
  return (
    <>
      {backLink}
      <h1>{campaign.data?.name ?? 'Campaign'}</h1>
      <Loaded query={campaign} label="the campaign">
        {(c) =>
          editing ? (
            <CampaignEditor
              key={`${c.updatedAt} ${reloads}`}
              campaign={c}
              back={back}
              onSaved={() => {
                setEditing(false);
                setSaved(true);
              }}
              onCancel={() => setEditing(false)}
              onReload={() => void campaign.refetch().then(() => setReloads((n) => n + 1))}
            />
          ) : (
            <CampaignView
              campaign={c}
              back={back}
              saved={saved}
              onEdit={() => {
                setSaved(false);
                setEditing(true);
              }}
            />
          )
        }
      </Loaded>
    </>
  );
}

function CampaignView({
  campaign: c,
  back,
  saved,
  onEdit,
}: {
  campaign: Campaign;
  back: string;
  saved: boolean;
  onEdit: () => void;
}) {
  const canCopy = useCanCopy();
  const [copying, setCopying] = useState(false);
  return (
    <>
      {saved && (
        <p role="status" className="notice">
          Saved.
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={onEdit}>
          Edit campaign
        </button>
        {canCopy && (
          <button type="button" onClick={() => setCopying(true)}>
            Copy to Sub-Account
          </button>
        )}
        <DeleteCampaign campaign={c} back={back} />
      </div>
      <Section title="Instructions for the AI agent">
        {c.instructions ? <p className="prewrap">{c.instructions}</p> : <p>None yet.</p>}
      </Section>
      <Section title="FAQs">
        {c.faqs.length === 0 ? (
          <p>No FAQs yet.</p>
        ) : (
          <dl className="faqs">
            {c.faqs.map((f, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: FAQs have no id; the list is only read here
              <div key={i}>
                <dt>{f.question}</dt>
                <dd className="prewrap">{f.answer}</dd>
              </div>
            ))}
          </dl>
        )}
      </Section>
      <Section title="Settings">
        <pre className="json">{pretty(c.settings)}</pre>
      </Section>
      <Section title="Configuration">
        <pre className="json">{pretty(c.configuration)}</pre>
      </Section>
      <p className="hint">
        Created {day(c.createdAt)}
        {c.copiedFrom && ' as a copy from another account'}; last changed {day(c.updatedAt)}.
      </p>
      <Dialog title={`Copy "${c.name}" to Sub-Account`} open={copying} onClose={() => setCopying(false)}>
        {copying && <CopyForm campaign={c} fromAccountId={c.accountId} onDone={() => setCopying(false)} />}
      </Dialog>
    </>
  );
}

/** Delete after a confirm; deleted elsewhere already (404) is the same outcome, said as such. */
function DeleteCampaign({ campaign: c, back }: { campaign: Campaign; back: string }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return (
    <ConfirmButton
      label="Delete campaign"
      title="Delete this campaign?"
      confirm="Delete"
      act={async () => {
        try {
          await call(
            api.DELETE('/v1/accounts/{accountId}/campaigns/{campaignId}', {
              params: { path: { accountId: c.accountId, campaignId: c.id } },
            }),
          );
          return `Deleted "${c.name}".`;
        } catch (err) {
          if (statusOf(err) === 404) return `"${c.name}" had already been deleted.`;
          throw err;
        }
      }}
      onDone={(notice) => {
        navigate(back, { state: { campaignNotice: notice } });
        qc.removeQueries({ queryKey: campaignKeys.one(c.accountId, c.id) });
        void qc.invalidateQueries({ queryKey: campaignKeys.list(c.accountId) });
      }}
    >
      <p>
        "{c.name}" is deleted for good, with its settings, instructions, FAQs and configuration. Copies already made in other
        accounts stay.
      </p>
    </ConfirmButton>
  );
}
