import preset from '../../jest.preset.js';

export default { ...preset, globalSetup: '<rootDir>/test/support/build-dist.mjs' };
