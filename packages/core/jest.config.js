import preset from '../../jest.preset.js';

export default { ...preset, globalSetup: '../../jest.redis-setup.mjs', globalTeardown: '../../jest.redis-teardown.mjs' };
