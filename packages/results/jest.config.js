import preset from '../../jest.preset.js';

export default {
  ...preset,
  // One S3-compatible server (s3rver) per run for the object-storage task files; each suite makes its own bucket.
  globalSetup: '../../jest.s3-setup.mjs',
  globalTeardown: '../../jest.s3-teardown.mjs',
};
