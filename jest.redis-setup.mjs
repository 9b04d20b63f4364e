// globalSetup for suites that need Redis: one real redis-server per jest run (never a mock:
// BullMQ's Lua scripts need the real thing). Sets REDIS_URL for the test workers.
export { setup as default } from '@nessus-mcp/embedded-redis/jest-global-setup';
