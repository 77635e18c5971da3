/** A form field's text, trimmed (passwords are read as typed, not through this). */
export const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();
