import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { ApiError, api, call, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { Field, FormActions, FormError } from '../../ui';
import { putSavedCampaign } from './queries';

type Campaign = Schemas['Campaign'];
type Patch = Schemas['PatchCampaignRequest'];
type JsonField = 'settings' | 'configuration';

export const statusOf = (err: unknown) => (err instanceof ApiError ? err.status : undefined);
export const pretty = (o: Record<string, unknown>) => JSON.stringify(o, null, 2);

/** A textarea's JSON as an object, or what is wrong with it (said under the field, nothing sent). */
function parseObject(text: string): Record<string, unknown> | string {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'This is not valid JSON. Check the quotes, commas and braces.';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'Enter a JSON object, in braces: {"key": "value"}';
  return value as Record<string, unknown>;
}

/**
 * Edit campaign. The PATCH replaces each field it names whole, so only the fields changed here
 * are sent: what someone else changed meanwhile in another field is not undone. The API re-reads
 * and retries a write that raced another; it answers 409 `conflict` only when the campaign kept
 * changing, and then the person reloads and makes the change again.
 */
export function CampaignEditor({
  campaign: c,
  back,
  onSaved,
  onCancel,
  onReload,
}: {
  campaign: Campaign;
  back: string;
  onSaved: () => void;
  onCancel: () => void;
  onReload: () => void;
}) {
  const qc = useQueryClient();
  // FAQ rows have no id: a key per row, made here, keeps React's inputs in their rows on Remove.
  const [rows, setRows] = useState(() => c.faqs.map((f, key) => ({ key, ...f })));
  const [nextKey, setNextKey] = useState(c.faqs.length);
  // Row keys in the order their FAQs were sent: the API's `faqs.<i>.<field>` errors land on those rows.
  const [sentKeys, setSentKeys] = useState<number[]>([]);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [unchanged, setUnchanged] = useState(false);
  const save = useMutation({
    mutationFn: (body: Patch) =>
      call(
        api.PATCH('/v1/accounts/{accountId}/campaigns/{campaignId}', {
          params: { path: { accountId: c.accountId, campaignId: c.id } },
          body,
        }),
      ),
    onSuccess: (r) => {
      putSavedCampaign(qc, r.campaign);
      onSaved();
    },
  });
  const errors = { ...fieldErrors(save.error), ...local };
  const faqError = (key: number, field: 'question' | 'answer') => {
    const i = sentKeys.indexOf(key);
    return local[`faq.${key}.${field}`] ?? (i >= 0 ? errors[`faqs.${i}.${field}`] : undefined);
  };

  const submit = (form: FormData) => {
    const text = (name: string) => String(form.get(name) ?? '').replace(/\r\n/g, '\n');
    const body: Patch = {};
    const problems: Record<string, string> = {};
    const name = text('name').trim();
    if (name !== c.name) body.name = name;
    const instructions = text('instructions');
    if (instructions !== c.instructions) body.instructions = instructions;
    const questions = form.getAll('faqQuestion').map((q) => String(q).trim());
    const answers = form.getAll('faqAnswer').map((a) => String(a).replace(/\r\n/g, '\n'));
    const faqs: { key: number; question: string; answer: string }[] = [];
    rows.forEach(({ key }, i) => {
      const question = questions[i] ?? '';
      const answer = answers[i] ?? '';
      if (!question && !answer.trim()) return; // an empty row is left out, not refused
      if (!question) problems[`faq.${key}.question`] = 'Enter the question this answers';
      if (!answer.trim()) problems[`faq.${key}.answer`] = 'Enter the answer';
      faqs.push({ key, question, answer });
    });
    const plain = faqs.map(({ question, answer }) => ({ question, answer }));
    if (JSON.stringify(plain) !== JSON.stringify(c.faqs)) body.faqs = plain;
    for (const field of ['settings', 'configuration'] as const satisfies JsonField[]) {
      const typed = text(field);
      if (typed.trim() === pretty(c[field]).trim()) continue;
      const parsed = parseObject(typed);
      if (typeof parsed === 'string') problems[field] = parsed;
      // The generated type says Record<string, never> for "any JSON object".
      else body[field] = parsed as Record<string, never>;
    }
    setLocal(problems);
    setUnchanged(false);
    if (Object.keys(problems).length > 0) return;
    if (Object.keys(body).length === 0) return setUnchanged(true);
    setSentKeys(faqs.map((f) => f.key));
    save.mutate(body);
  };

  return (
    <form
      aria-label="Edit campaign"
      onSubmit={(e) => {
        e.preventDefault();
        if (!save.isPending) submit(new FormData(e.currentTarget));
      }}
    >
      <h2>Edit campaign</h2>
      <SaveRefusal error={save.error} back={back} onReload={onReload} />
      {errors.body && <p className="field-error">{errors.body}</p>}
      {unchanged && <p role="status">Nothing has changed yet: edit a field, or Cancel.</p>}
      <Field label="Campaign name" name="name" defaultValue={c.name} required error={errors.name} />
      <Field
        label="Instructions for the AI agent"
        name="instructions"
        rows={6}
        defaultValue={c.instructions}
        error={errors.instructions}
      />
      <fieldset aria-describedby={errors.faqs ? 'faqs-error' : undefined}>
        <legend>FAQs</legend>
        {rows.length === 0 && <p className="hint">No FAQs yet.</p>}
        {rows.map((row, i) => (
          <div key={row.key} className="faq">
            <Field
              label={`Question ${i + 1}`}
              name="faqQuestion"
              defaultValue={row.question}
              error={faqError(row.key, 'question')}
            />
            <Field
              label={`Answer ${i + 1}`}
              name="faqAnswer"
              rows={3}
              defaultValue={row.answer}
              error={faqError(row.key, 'answer')}
            />
            <button type="button" onClick={() => setRows((r) => r.filter((x) => x.key !== row.key))}>
              Remove FAQ {i + 1}
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => {
            setRows((r) => [...r, { key: nextKey, question: '', answer: '' }]);
            setNextKey((k) => k + 1);
          }}
        >
          Add FAQ
        </button>
        {errors.faqs && (
          <p id="faqs-error" className="field-error">
            {errors.faqs}
          </p>
        )}
      </fieldset>
      <Field
        label="Settings"
        name="settings"
        rows={5}
        defaultValue={pretty(c.settings)}
        hint='A JSON object, like {"tone": "friendly"}.'
        error={errors.settings}
      />
      <Field
        label="Configuration"
        name="configuration"
        rows={5}
        defaultValue={pretty(c.configuration)}
        hint="A JSON object."
        error={errors.configuration}
      />
      <FormActions submit="Save changes" disabled={save.isPending} onCancel={onCancel} />
    </form>
  );
}

/** A refused save: a conflict offers Reload, a campaign deleted meanwhile says so; the rest as everywhere. */
function SaveRefusal({ error, back, onReload }: { error: unknown; back: string; onReload: () => void }) {
  const code = error instanceof ApiError ? error.problem?.code : undefined;
  if (code === 'conflict')
    return (
      <div role="alert" className="form-error">
        <p>
          Someone else was changing this campaign at the same moment, so your changes were not saved. Reload the campaign to see
          it as it is now, then make your changes again (copy anything you typed that you want to keep first).
        </p>
        <button type="button" onClick={onReload}>
          Reload the campaign
        </button>
      </div>
    );
  if (statusOf(error) === 404)
    return (
      <div role="alert" className="form-error">
        <p>This campaign was deleted elsewhere, so your changes cannot be saved.</p>
        <Link to={back}>Back to campaigns</Link>
      </div>
    );
  return <FormError error={error} />;
}
