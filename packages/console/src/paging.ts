/**
 * Whether a page is part of a search still under way: fewer rows than asked, yet a cursor. The
 * history's filters without a list of their own (a campaign or contact across all sub-accounts)
 * stop at a read budget and say where to go on; such a page is not the whole answer.
 */
export const searchedInPart = (rows: number, limit: number, nextCursor: string | null | undefined) =>
  Boolean(nextCursor) && rows < limit;
