import { describe, expect, it } from 'vitest';
import { searchedInPart } from '#console/src/paging';

// A history page filtered by a campaign or contact across all sub-accounts stops at the API's
// read budget: fewer rows than asked with a cursor is a search under way, not the answer.
describe('searchedInPart', () => {
  it('is a part when a short page comes with a cursor', () => {
    expect(searchedInPart(0, 50, 'c1')).toBe(true);
    expect(searchedInPart(12, 50, 'c1')).toBe(true);
  });
  it('is whole when the page is full or the list ends', () => {
    expect(searchedInPart(50, 50, 'c1')).toBe(false);
    expect(searchedInPart(12, 50, null)).toBe(false);
    expect(searchedInPart(0, 50, undefined)).toBe(false);
    expect(searchedInPart(0, 50, '')).toBe(false);
  });
});
