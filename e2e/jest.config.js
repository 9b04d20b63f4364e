import preset from '../jest.preset.js';

// End-to-end suites spawn real processes; run them one file at a time.
export default { ...preset, testTimeout: 120000, maxWorkers: 1 };
