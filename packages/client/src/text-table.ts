export type Alignment = 'left' | 'right';

export interface Column {
  header: string;
  align?: Alignment;
  /** Longer cells are cut with an ellipsis. */
  maxWidth?: number;
}

function fit(text: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || text.length <= maxWidth) return text;
  return `${text.slice(0, Math.max(0, maxWidth - 1))}…`;
}

/** A plain-text table: a header row, a rule, then the rows, columns separated by two spaces. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => columns.map((column, i) => fit(row[i] ?? '', column.maxWidth)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((row) => (row[i] ?? '').length)));
  const render = (row: readonly string[]): string =>
    row
      .map((cell, i) => ((columns[i]?.align ?? 'left') === 'right' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.header)), render(widths.map((w) => '-'.repeat(w))), ...cells.map(render)].join('\n');
}
