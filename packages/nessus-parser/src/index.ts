export { parseNessus, parseNessusFindings, summarizeNessus } from './parse-nessus.js';
export type { NessusInput } from './input-source.js';
export { NessusParseError } from './errors.js';
export type { ParseFailureReason } from './errors.js';
export { COMPLIANCE_NAMESPACE, DEFAULT_MAX_DEPTH, DEFAULT_MAX_FIELD_BYTES } from './document-reader.js';
export { FIELD_TYPES } from './fields.js';
export type { FieldType } from './fields.js';
export type * from './types.js';
