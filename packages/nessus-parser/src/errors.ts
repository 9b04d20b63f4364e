/**
 * Why a file was refused. The parser is standalone (no workspace imports), so this mirrors the
 * shape of `@nessus-mcp/core`'s AppError: a stable `code` callers map, plus a `reason` that says
 * which check failed.
 */
export type ParseFailureReason = 'not_well_formed' | 'unsupported_format' | 'not_nessus' | 'too_deep' | 'unreadable';

export class NessusParseError extends Error {
  /** Always `invalid_argument`: the file, not the system, is at fault. */
  readonly code = 'invalid_argument' as const;
  readonly reason: ParseFailureReason;
  /** 1-based line of the problem, where known. */
  readonly line: number | null;

  constructor(reason: ParseFailureReason, problem: string, line: number | null, options?: { cause?: unknown }) {
    super(line === null ? problem : `line ${line}: ${problem}`, options);
    this.name = 'NessusParseError';
    this.reason = reason;
    this.line = line;
  }

  /** Same error, placed `offset` lines further down (a ReportHost block parsed on its own). */
  shifted(offset: number): NessusParseError {
    const problem = this.line === null ? this.message : this.message.slice(`line ${this.line}: `.length);
    return new NessusParseError(this.reason, problem, this.line === null ? null : this.line + offset);
  }
}
