import { S3RVER_CREDENTIALS, startS3Server, type RunningS3 } from './s3-server.js';

/**
 * Jest globalSetup/globalTeardown for suites that need object storage: one S3-compatible server
 * per test run on a free port. Test workers read S3_TEST_ENDPOINT and the standard AWS
 * credential variables (the ones s3rver accepts), and each suite creates its own bucket.
 */
declare global {
  var __nessusMcpS3: RunningS3 | undefined;
}

export async function setup(): Promise<void> {
  if (process.env.S3_TEST_ENDPOINT && !process.env.S3_TEST_SPAWNED) return;
  const server = await startS3Server();
  globalThis.__nessusMcpS3 = server;
  process.env.S3_TEST_ENDPOINT = server.endpoint;
  process.env.S3_TEST_SPAWNED = '1';
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION = 'us-east-1';
}

export async function teardown(): Promise<void> {
  await globalThis.__nessusMcpS3?.stop();
  globalThis.__nessusMcpS3 = undefined;
}
