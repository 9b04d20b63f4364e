import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../src/object-store.js';

/** The test run's S3 server (jest.s3-setup.mjs). */
export function s3Endpoint(): string {
  const endpoint = process.env.S3_TEST_ENDPOINT;
  if (!endpoint) throw new Error('S3_TEST_ENDPOINT is not set: run through jest with jest.s3-setup.mjs');
  return endpoint;
}

/** A fresh bucket on the test server, and an object store over it under `prefix`. */
export async function createTestBucket(prefix = 'nessus-mcp'): Promise<{ bucket: string; objects: S3ObjectStore }> {
  const bucket = `test-${randomBytes(6).toString('hex')}`;
  const objects = new S3ObjectStore({ bucket, prefix, endpoint: s3Endpoint(), forcePathStyle: true, partSize: 5 * 1024 * 1024 });
  await objects.client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { bucket, objects };
}
