export { S3RVER_CREDENTIALS, startS3Server } from './s3-server.js';
export type { RunningS3, S3ServerOptions } from './s3-server.js';
