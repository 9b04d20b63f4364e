export { startWorkerApp, type WorkerApp, type WorkerAppOptions } from './worker-app.js';
export { loadWorkerSettings, type WorkerSettings } from './worker-settings.js';
export { createScanProcessor, classifyFailure } from './scan-pipeline/scan-processor.js';
export type { IngestExport, ScanPipelineDeps } from './scan-pipeline/scan-step-context.js';
export { HOUSEKEEPING_EVERY_MS } from './housekeeping/housekeeping-worker.js';
