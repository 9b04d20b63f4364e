export * from './scanner.js';
export * from './config.js';
export { formatScanName, parseTaskId } from './scan-name.js';
export { mapNessusStatus, computeProgress, type HostProgress } from './status-mapping.js';
export {
  validateScanCredentials,
  nessusCredentialFragment,
  type NessusSshCredential,
  type NessusCredentialsPayload,
  type NessusCredentialFragment,
} from './credentials.js';
export { LICENCE_MESSAGE } from './nessus-errors.js';
export { NessusScanner, type NessusScannerOptions, type ExportPollOptions } from './nessus-client.js';
export { MockScanner, type MockScannerOptions, type MockOutcome, type MockOperation, type MockScanRecord, type MockCall } from './mock-scanner.js';
export { createScanner, type ScannerFactoryOptions } from './scanner-factory.js';
export { ScannerRegistry, type ScannerRegistryOptions, type ScannerSelection, type InstanceLoad, type InstanceInfo, type Reservation } from './registry.js';
