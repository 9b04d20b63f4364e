import { describe, expect, it } from '@jest/globals';
import { pageWindow, resolvePage, resolvePageSize } from '../src/pagination.js';

describe('pagination', () => {
  it('defaults to page 1 of 40 and clamps sizes into 10–100', () => {
    expect(resolvePage(undefined)).toBe(1);
    expect(resolvePageSize(undefined)).toBe(40);
    expect(resolvePageSize(1)).toBe(10);
    expect(resolvePageSize(5000)).toBe(100);
    expect(resolvePageSize('25')).toBe(25);
  });

  it('refuses negative or fractional pages', () => {
    expect(() => resolvePage(-1)).toThrow(expect.objectContaining({ code: 'invalid_argument' }) as unknown as Error);
    expect(() => resolvePage(1.5)).toThrow(/integer/);
    expect(() => resolvePageSize('ten')).toThrow(/integer/);
  });

  it('slices pages and announces the next one', () => {
    expect(pageWindow(95, 1, 40)).toMatchObject({ start: 0, end: 40, total_pages: 3, has_next: true, next_page: 2 });
    expect(pageWindow(95, 3, 40)).toMatchObject({ start: 80, end: 95, has_next: false, next_page: null });
  });

  it('returns an empty last page past the end', () => {
    expect(pageWindow(95, 7, 40)).toMatchObject({ start: 95, end: 95, total_pages: 3, has_next: false, next_page: null });
    expect(pageWindow(0, 1, 40)).toMatchObject({ start: 0, end: 0, total_pages: 0, has_next: false });
  });

  it('puts everything on one page for page 0', () => {
    expect(pageWindow(95, 0, 40)).toMatchObject({ start: 0, end: 95, total_pages: 1, has_next: false, next_page: null });
  });
});
