import { describeNessusContract } from './scanner-contract.js';
import { FAKE_ACCESS_KEY, FAKE_PASSWORD, FAKE_SECRET_KEY, FAKE_USER, startFakeNessus } from './fake-nessus.js';

describeNessusContract('recorded Nessus response shapes (local replay server)', async () => {
  const fake = await startFakeNessus();
  return {
    url: fake.url,
    apiKeys: { access: FAKE_ACCESS_KEY, secret: FAKE_SECRET_KEY },
    login: { username: FAKE_USER, password: FAKE_PASSWORD },
    setFaults: async (patch) => fake.setFaults(patch),
    resetFaults: async () => fake.resetFaults(),
    expireSessions: async () => fake.expireSessions(),
    close: () => fake.close(),
  };
});
