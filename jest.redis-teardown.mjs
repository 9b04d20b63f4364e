export { teardown as default } from '@nessus-mcp/embedded-redis/jest-global-setup';
