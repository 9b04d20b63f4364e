// Object storage, as its own entry point: the AWS SDK costs ~0.4 s to load, which processes
// keeping their task files on local disk do not pay (open-task-files.ts imports this lazily).
export { S3TaskFiles } from './s3-task-files.js';
export type { S3TaskFilesOptions } from './s3-task-files.js';
export { S3ObjectStore, objectStorageError } from './object-store.js';
export type { ObjectBody, ObjectInfo, ObjectStore, S3ObjectStoreOptions } from './object-store.js';
