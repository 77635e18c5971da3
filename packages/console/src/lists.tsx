import { type ReactNode, useState } from 'react';

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
