import preset from '../../jest.preset.js';

export default {
  ...preset,
  globalSetup: '../../jest.redis-setup.mjs',
  globalTeardown: '../../jest.redis-teardown.mjs',
  moduleNameMapper: {
    ...preset.moduleNameMapper,
    // @fastify/static (under Bull Board) require()s content-disposition 3, which is ESM-only: Node 20.19
    // loads it (require(esm)) but Jest's module loader cannot. v2 has the same `create` API in CommonJS.
    '^content-disposition$': '<rootDir>/../../node_modules/content-disposition/dist/index.js',
  },
};
