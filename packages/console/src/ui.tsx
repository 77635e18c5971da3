import { type UseQueryResult, useMutation } from '@tanstack/react-query';
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import type { Schemas } from './api/client';
import { errorSentence } from './api/words';

/** A labelled input (a textarea when given `rows`) with its error under it, tied by aria-describedby so a screen reader reads both. */
export function Field(props: {
  label: string;
  name: string;
  error?: string;
  hint?: string;
  type?: string;
  defaultValue?: string | number;
  required?: boolean;
  autoComplete?: string;
  min?: number;
  step?: string;
  inputMode?: 'numeric' | 'decimal';
  placeholder?: string;
  rows?: number;
}) {
  const id = useId();
  const { label, error, hint, rows, ...input } = props;
  const described = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ') || undefined;
  const aria = { 'aria-invalid': error ? true : undefined, 'aria-describedby': described };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {rows ? (
        <textarea
          id={id}
          rows={rows}
          name={input.name}
          defaultValue={input.defaultValue}
          required={input.required}
          placeholder={input.placeholder}
          {...aria}
        />
      ) : (
        <input id={id} {...input} {...aria} />
      )}
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The form-level message of a refusal (role=alert: announced when it appears). */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="form-error">
      {errorSentence(error)}
    </p>
  );
}

/** Loading, failure with a retry, or the content: never a blank page. */
export function Loaded<T>({
  query,
  label,
  children,
}: {
  query: UseQueryResult<T>;
  label: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <p aria-busy="true">Loading {label}…</p>;
  if (query.isError)
    return (
      <div role="alert" className="form-error">
        <p>
          Could not load {label}. {errorSentence(query.error)}
        </p>
        <button type="button" onClick={() => void query.refetch()}>
          Retry
        </button>
      </div>
    );
  return <>{children(query.data)}</>;
}

/** A modal dialog on the native <dialog>: focus trapped and restored, Escape closes. */
export function Dialog({
  title,
  open,
  onClose,
  children,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>{title}</h2>
      {open && children}
    </dialog>
  );
}

/** A region named by its heading (the id that ties them is made here, so no two can clash). */
export function Section({ title, className, children }: { title: string; className?: string; children: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className={className}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** A form's last row: its submit button (disabled while sending, or until it can be sent) and Cancel. */
export function FormActions({ submit, disabled, onCancel }: { submit: string; disabled: boolean; onCancel: () => void }) {
  return (
    <div className="actions">
      <button type="submit" disabled={disabled}>
        {submit}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

/**
 * A button that asks first: its dialog says what will happen (children) and `act` runs only on
 * the confirm button, once at a time; a refusal is said in the dialog. On success the dialog
 * closes and `onDone` follows, or, given `result`, the dialog stays open and shows the answer.
 * Cancel, Escape or closing forgets the attempt.
 */
export function ConfirmButton<T>(props: {
  label: string;
  ariaLabel?: string;
  disabled?: boolean;
  title: string;
  confirm: string;
  act: () => Promise<T>;
  onDone?: (answer: T) => void;
  result?: (answer: T, close: () => void) => ReactNode;
  children: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const action = useMutation({
    mutationFn: props.act,
    onSuccess: (answer) => {
      if (!props.result) setOpen(false);
      props.onDone?.(answer);
    },
  });
  const close = () => {
    setOpen(false);
    action.reset();
  };
  return (
    <>
      <button type="button" aria-label={props.ariaLabel} disabled={props.disabled} onClick={() => setOpen(true)}>
        {props.label}
      </button>
      <Dialog title={props.title} open={open} onClose={close}>
        {action.isSuccess && props.result ? (
          props.result(action.data, close)
        ) : (
          <>
            {props.children}
            <FormError error={action.error} />
            <div className="actions">
              <button type="button" disabled={action.isPending} onClick={() => action.isPending || action.mutate()}>
                {props.confirm}
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

/** A secret the server shows only now (a signing secret, a password): read-only, with a copy button. */
export function ShownOnce({ label, value, copyLabel }: { label: string; value: string; copyLabel: string }) {
  const id = useId();
  const [copied, setCopied] = useState<'yes' | 'failed'>();
  return (
    <div className="notice">
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input id={id} readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
      </div>
      <button
        type="button"
        onClick={() =>
          navigator.clipboard.writeText(value).then(
            () => setCopied('yes'),
            () => setCopied('failed'),
          )
        }
      >
        {copyLabel}
      </button>
      <p role="status">
        {copied === 'yes' && 'Copied.'}
        {copied === 'failed' && 'Could not copy: select it and copy it yourself.'}
      </p>
    </div>
  );
}

/** "At this pace…" for a balance's runway (API.md): nothing when there is no use to judge by. */
export function RunwayLine({ runway, testId }: { runway: Schemas['PoolBalance']['runway']; testId: string }) {
  if (!runway) return null;
  const days = runway.days === 1 ? '1 day' : `${credits(runway.days)} days`;
  return (
    <p data-testid={testId}>
      At this pace your credits last about {days} (about {credits(runway.burnPerDay)} a day over the last{' '}
      {runway.basis === '7d' ? '7' : '30'} days).
    </p>
  );
}

export const credits = (n: number) => n.toLocaleString('en-US');
export const money = (minor: number, currency: string) =>
  (minor / 100).toLocaleString('en-US', { style: 'currency', currency: currency.toUpperCase() });
export const day = (iso: string) => iso.slice(0, 10);
