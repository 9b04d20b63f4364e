import { NessusMcpError } from './errors.js';
import { paginationLineSchema, parseResponse, scanMetadataSchema, schemaLineSchema, vulnerabilitySchema } from './response-schemas.js';
import type { PaginationLine, ResultsPage, ResultsSchemaLine, ScanMetadata, Vulnerability } from './types.js';

export interface JsonLine {
  /** 1-based line number in the text, so errors point where an editor would. */
  line: number;
  value: unknown;
}

/**
 * Splits JSON-NL into values. Blank lines (and a trailing newline) are skipped; `\r\n` endings are
 * accepted. A line that is not JSON is an `invalid_response` error naming its line number.
 */
export function parseJsonLines(text: string): JsonLine[] {
  const out: JsonLine[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const raw = (lines[index] ?? '').trim();
    if (raw === '') continue;
    try {
      out.push({ line: index + 1, value: JSON.parse(raw) });
    } catch {
      const preview = raw.length > 60 ? `${raw.slice(0, 60)}…` : raw;
      throw new NessusMcpError('invalid_response', `results line ${index + 1} is not JSON: ${preview}`, { details: { line: index + 1 } });
    }
  }
  return out;
}

function lineType(entry: JsonLine): string {
  const { value } = entry;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new NessusMcpError('invalid_response', `results line ${entry.line} is not a JSON object`, { details: { line: entry.line } });
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    throw new NessusMcpError('invalid_response', `results line ${entry.line} has no "type"`, { details: { line: entry.line } });
  }
  return type;
}

/**
 * Reads one `get_scan_results` answer: a schema line, a scan_metadata line, one vulnerability
 * line per finding and, except for page 0, a pagination line. Lines of a type this client does not
 * know are skipped, so a gateway may add line types without breaking older clients.
 */
export function parseResultsPage(text: string): ResultsPage {
  let schema: ResultsSchemaLine | null = null;
  let metadata: ScanMetadata | null = null;
  let pagination: PaginationLine | null = null;
  const vulnerabilities: Vulnerability[] = [];
  for (const entry of parseJsonLines(text)) {
    const at = `results line ${entry.line}`;
    switch (lineType(entry)) {
      case 'schema':
        if (schema) throw new NessusMcpError('invalid_response', `${at}: a second schema line`, { details: { line: entry.line } });
        schema = parseResponse(schemaLineSchema, entry.value, at);
        break;
      case 'scan_metadata':
        metadata = parseResponse(scanMetadataSchema, entry.value, at);
        break;
      case 'vulnerability':
        vulnerabilities.push(parseResponse(vulnerabilitySchema, entry.value, at));
        break;
      case 'pagination':
        pagination = parseResponse(paginationLineSchema, entry.value, at);
        break;
      default:
        break;
    }
  }
  if (!schema) throw new NessusMcpError('invalid_response', 'results have no schema line');
  if (!metadata) throw new NessusMcpError('invalid_response', 'results have no scan_metadata line');
  return { schema, metadata, vulnerabilities, pagination };
}
