import preset from '../../jest.preset.js';

export default {
  ...preset,
  // One real redis-server per run (BullMQ's Lua scripts need the real thing); each test file uses its own database.
  globalSetup: '../../jest.redis-setup.mjs',
  globalTeardown: '../../jest.redis-teardown.mjs',
  testTimeout: 60000,
};
