import { setup } from '@nessus-mcp/embedded-redis/jest-global-setup';

export default setup;
