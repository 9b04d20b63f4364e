import { describe, expect, it } from '@jest/globals';
import { loadRuntimeConfig } from '../src/config/runtime-config.js';
import { describeStorage, parseStorageUrl } from '../src/config/storage-url.js';

describe('STORAGE_URL', () => {
  it('reads bucket, prefix, endpoint, region and path style', () => {
    expect(parseStorageUrl('s3://scans/nessus-mcp/prod/?endpoint=http%3A%2F%2Fminio%3A9000&region=eu-west-1&force_path_style=true')).toEqual({
      kind: 's3',
      bucket: 'scans',
      prefix: 'nessus-mcp/prod',
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
    });
    expect(parseStorageUrl('s3://my.bucket-1')).toEqual({
      kind: 's3',
      bucket: 'my.bucket-1',
      prefix: '',
      endpoint: undefined,
      region: undefined,
      forcePathStyle: false,
    });
    expect(parseStorageUrl('s3://b12?endpoint=https://acc.r2.cloudflarestorage.com&region=auto').endpoint).toBe('https://acc.r2.cloudflarestorage.com');
  });

  it('describes the location for logs by bucket, prefix and endpoint host only', () => {
    expect(describeStorage(parseStorageUrl('s3://scans/p?endpoint=http://minio:9000'))).toBe('s3://scans/p (minio:9000)');
    expect(describeStorage(parseStorageUrl('s3://scans'))).toBe('s3://scans (AWS S3)');
  });

  it.each([
    ['http://bucket', /scheme 'http:' is not supported/],
    ['bucket/prefix', /not a URL/],
    ['s3://', /bucket name is missing/],
    ['s3://Bad_Bucket', /'Bad_Bucket' is not a valid bucket name/],
    ['s3://ab', /'ab' is not a valid bucket name/],
    ['s3://bucket/a//b', /empty, "." or ".." segment/],
    ['s3://bucket/a/../b', /empty, "." or ".." segment/],
    ['s3://bucket?endpoint=minio:9000', /endpoint scheme 'minio:' is not http: or https:/],
    ['s3://bucket?endpoint=not a url', /endpoint is not an absolute URL/],
    ['s3://bucket?force_path_style=yes', /force_path_style must be true or false/],
    ['s3://bucket?region=eu-west-1&region=us-east-1', /parameter 'region' is given twice/],
    ['s3://bucket#x', /fragment/],
  ])('refuses %j with a message naming the problem', (url, problem) => {
    let caught: unknown;
    try {
      parseStorageUrl(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'config_invalid', details: { variable: 'STORAGE_URL' } });
    expect((caught as Error).message).toMatch(problem);
  });

  it.each([
    ['s3://AKIAEXAMPLE:wJalrSECRETKEY@bucket/prefix', /credentials do not belong in the URL/],
    ['s3://bucket?endpoint=http://admin:wJalrSECRETKEY@minio:9000', /endpoint must not carry credentials/],
    ['s3://bucket?secret_access_key=wJalrSECRETKEY', /unknown parameter 'secret_access_key'/],
  ])('refuses credentials in %j without repeating them', (url, problem) => {
    let message = '';
    try {
      parseStorageUrl(url);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(problem);
    expect(message).not.toContain('wJalrSECRETKEY');
    expect(message).not.toContain('AKIAEXAMPLE');
  });

  it('is checked when the runtime configuration loads, with the cache size beside it', () => {
    expect(() => loadRuntimeConfig({ STORAGE_URL: 's3://x' })).toThrow(/STORAGE_URL: 'x' is not a valid bucket name/);
    expect(() => loadRuntimeConfig({ STORAGE_URL: 's3://bucket', STORAGE_CACHE_MB: '0' })).toThrow(/STORAGE_CACHE_MB=0 is not a whole number of megabytes/);
    const config = loadRuntimeConfig({ STORAGE_URL: 's3://bucket/p', STORAGE_CACHE_MB: '64' });
    expect(config.storage).toMatchObject({ bucket: 'bucket', prefix: 'p' });
    expect(config.storageCacheBytes).toBe(64 * 1024 * 1024);
    expect(loadRuntimeConfig({}).storage).toBeUndefined();
  });
});
