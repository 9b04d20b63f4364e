import { teardown } from '@nessus-mcp/embedded-redis/jest-global-setup';

export default teardown;
