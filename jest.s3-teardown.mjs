export { teardown as default } from '@nessus-mcp/embedded-s3/jest-global-setup';
