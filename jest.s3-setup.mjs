// globalSetup for suites that need object storage: one S3-compatible server (s3rver, in process,
// no network) per jest run on a free port. Sets S3_TEST_ENDPOINT and AWS credentials for the test workers.
export { setup as default } from '@nessus-mcp/embedded-s3/jest-global-setup';
