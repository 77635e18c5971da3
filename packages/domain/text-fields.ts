import * as z from '#core/zod';

/**
 * The text the API accepts. Every string a client sends is either one line (names,
 * references, ids, emails: no control character at all, so nothing it holds can break an
 * email header, a log line or a CSV row, or hide text from the reader) or free text
 * (instructions, answers: newlines and tabs are kept, every other control character is
 * refused). The rule is each field's `pattern` in the published schema, so clients read it
 * there; the tests check that every string field of every request has one.
 */
const C0_WITHOUT_TAB_LF_CR = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f';
const DEL_AND_C1 = '\\u007f-\\u009f';
const C0 = '\\u0000-\\u001f';
/** U+2028/U+2029 break lines as \n does (in JavaScript, JSON-in-HTML and many editors). */
const LINE_BREAKS = '\\u2028\\u2029';

export const singleLinePattern = new RegExp(`^[^${C0}${DEL_AND_C1}${LINE_BREAKS}]*$`);
export const freeTextPattern = new RegExp(`^[^${C0_WITHOUT_TAB_LF_CR}${DEL_AND_C1}]*$`);
const lineMessage = 'must be one line without control characters';
const freeTextMessage = 'must not contain control characters (newlines and tabs are allowed)';

/** One line of at most `max` characters. */
export const line = (max: number) => z.string().check(z.maxLength(max), z.regex(singleLinePattern, lineMessage));

/**
 * One line, trimmed, of `min` to `max` characters (names, references). The pattern and the
 * length are checked on the text as sent, as the published schema states them (trimming first
 * would let `"Bloom\u2028"` through, since U+2028 is white space to `trim`); only then is it
 * trimmed and held to `min`.
 */
export const trimmedLine = (max: number, min = 1) =>
  z.string().check(z.maxLength(max), z.regex(singleLinePattern, lineMessage), z.trim(), z.minLength(min));

/** Free text of at most `max` characters: newlines and tabs allowed. */
export const freeText = (max: number) => z.string().check(z.maxLength(max), z.regex(freeTextPattern, freeTextMessage));

/** An http(s) URL (never `javascript:`, `data:`, `file:`…) of at most `max` characters, as sent (nothing trimmed). */
export const httpUrl = (max = 2048) =>
  z.withMeta(
    z.string().check(
      z.maxLength(max),
      // abort: one issue per field, not the pattern's and the parse's both.
      z.regex(new RegExp(`^[Hh][Tt][Tt][Pp][Ss]?://[^${C0}${DEL_AND_C1}${LINE_BREAKS}\\s]+$`), {
        error: urlMessage,
        abort: true,
      }),
      z.refine(parsesAsHttpUrl, urlMessage),
    ),
    { format: 'uri' },
  );
const urlMessage = 'must be an http(s) URL';

function parsesAsHttpUrl(s: string): boolean {
  if (!URL.canParse(s)) return false;
  const url = new URL(s);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/** A pagination cursor as this API hands them out (base64url). */
export const cursor = (max: number) => z.string().check(z.maxLength(max), z.regex(/^[A-Za-z0-9_-]*$/, 'invalid cursor'));
