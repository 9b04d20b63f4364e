import preset from '../../jest.preset.js';

export default {
  ...preset,
  // One real redis-server per test run (registry tests need its Lua and atomicity).
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
};
