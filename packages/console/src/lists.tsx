import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { ApiError } from './api/client';
import { errorSentence } from './api/words';

/**
 * A list as a table: a caption, a header cell per column and, when there is nothing to list,
 * one row across every column that says so (left out when `empty` is not given).
 */
export function Table<T>({
  caption,
  columns,
  items,
  row,
  empty,
}: {
  caption: ReactNode;
  columns: string[];
  items: T[];
  row: (item: T) => ReactNode;
  empty?: ReactNode;
}) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c} scope="col">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {empty !== undefined && items.length === 0 && (
          <tr>
            <td colSpan={columns.length}>{empty}</td>
          </tr>
        )}
        {items.map(row)}
      </tbody>
    </table>
  );
}

/** Pages by the API's cursor: the cursors of the pages visited, one per page, so Previous goes back along them. */
export function useCursorPages() {
  const [cursors, setCursors] = useState<string[]>(['']);
  return {
    /** The current page's cursor, '' for the first page. */
    cursor: cursors.at(-1) ?? '',
    isFirst: cursors.length === 1,
    next: (cursor: string) => setCursors((c) => [...c, cursor]),
    previous: () => setCursors((c) => c.slice(0, -1)),
    /** Back to the first page (the filters changed). */
    reset: () => setCursors(['']),
  };
}

/** Previous page and Next page, for a list paged by useCursorPages. */
export function Pager({
  label,
  pages,
  nextCursor,
}: {
  label: string;
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null | undefined;
}) {
  return (
    <nav aria-label={label} className="pager">
      <button type="button" disabled={pages.isFirst} onClick={pages.previous}>
        Previous page
      </button>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && pages.next(nextCursor)}>
        Next page
      </button>
    </nav>
  );
}

/** One CSV part as openapi-fetch answers it (`parseAs: 'text'`); its next part's cursor travels in x-next-cursor. */
type CsvPart = { data?: unknown; error?: unknown; response: Response };

/**
 * Downloads a list as one CSV file: `fetchPart` asks for `text/csv` with the list's filters and
 * the cursor given, part after part (following x-next-cursor) until the export is whole.
 */
export function CsvDownload({
  label,
  filename,
  fetchPart,
}: {
  label: string;
  filename: string;
  fetchPart: (cursor: string | undefined) => Promise<CsvPart>;
}) {
  const download = useMutation({
    mutationFn: async () => {
      const parts: string[] = [];
      let cursor: string | undefined;
      do {
        const { data, error, response } = await fetchPart(cursor);
        if (!response.ok) throw new ApiError(response.status, JSON.parse(String(error ?? '{}')));
        const text = String(data ?? '');
        // Later parts repeat the header line.
        parts.push(parts.length ? text.slice(text.indexOf('\n') + 1) : text);
        cursor = response.headers.get('x-next-cursor') ?? undefined;
      } while (cursor);
      const url = URL.createObjectURL(new Blob(parts, { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${filename}-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  });
  return (
    <p>
      <button type="button" onClick={() => download.isPending || download.mutate()} disabled={download.isPending}>
        {download.isPending ? 'Exporting…' : label}
      </button>
      {download.isError && <span role="alert"> {errorSentence(download.error)}</span>}
    </p>
  );
}
