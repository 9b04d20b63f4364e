import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { startS3Server } from '../src/s3-server.js';

describe('embedded S3 server', () => {
  it('answers on its own free port with the requested buckets, and leaves nothing behind when stopped', async () => {
    const [one, two] = await Promise.all([startS3Server({ buckets: ['first-bucket'] }), startS3Server()]);
    expect(one.port).not.toBe(two.port);
    // Unsigned requests are served (anonymous access), which is enough to see the bucket exists.
    const listing = await fetch(`${one.endpoint}/first-bucket`);
    expect(listing.status).toBe(200);
    expect(await listing.text()).toContain('<Name>first-bucket</Name>');
    expect((await fetch(`${one.endpoint}/other-bucket`)).status).toBe(404);
    await Promise.all([one.stop(), two.stop()]);
    expect(existsSync(one.directory)).toBe(false);
    await expect(fetch(one.endpoint)).rejects.toThrow();
  });
});
