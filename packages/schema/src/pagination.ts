import { AppError } from '@nessus-mcp/core/errors';

export const DEFAULT_PAGE = 1;
export const DEFAULT_PAGE_SIZE = 40;
export const MIN_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

function integerOf(name: string, value: unknown): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw new AppError('invalid_argument', `${name}: expected an integer; got ${JSON.stringify(value)}`, { details: { field: name } });
  }
  return number;
}

/** `page` is 1-based; 0 means every result on one response. Negative pages are refused. */
export function resolvePage(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_PAGE;
  const page = integerOf('page', value);
  if (page < 0) throw new AppError('invalid_argument', `page: must be 0 (everything) or a page number from 1; got ${page}`, { details: { field: 'page' } });
  return page;
}

/** Out-of-range sizes are clamped to 10–100 rather than refused: agents guess page sizes, and a near miss should still answer. */
export function resolvePageSize(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(MIN_PAGE_SIZE, integerOf('page_size', value)));
}

export interface PageWindow {
  page: number;
  page_size: number;
  total: number;
  total_pages: number;
  /** Slice of the ordered results this page holds: [start, end). */
  start: number;
  end: number;
  has_next: boolean;
  next_page: number | null;
}

/** Page 0 is one page holding everything; a page past the end is empty with `has_next: false`. */
export function pageWindow(total: number, page: number, pageSize: number): PageWindow {
  if (page === 0) {
    return { page, page_size: pageSize, total, total_pages: total > 0 ? 1 : 0, start: 0, end: total, has_next: false, next_page: null };
  }
  const totalPages = Math.ceil(total / pageSize);
  const start = Math.min(total, (page - 1) * pageSize);
  const end = Math.min(total, start + pageSize);
  const hasNext = page < totalPages;
  return { page, page_size: pageSize, total, total_pages: totalPages, start, end, has_next: hasNext, next_page: hasNext ? page + 1 : null };
}
