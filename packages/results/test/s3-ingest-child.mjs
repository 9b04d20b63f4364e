// Ingests a task's export through object storage and stops mid-upload, for the crash test: the
// first store object goes up, then it prints "uploading" and waits on the second until killed.
import { ingestExport } from '../dist/index.js';
import { S3ObjectStore, S3TaskFiles } from '../dist/s3.js';

const [bucket, prefix, cacheDir, taskId] = process.argv.slice(2);
const objects = new S3ObjectStore({ bucket, prefix, endpoint: process.env.S3_TEST_ENDPOINT, forcePathStyle: true });
let uploaded = 0;
const stalling = new Proxy(objects, {
  get(target, property) {
    if (property !== 'putFile') return Reflect.get(target, property).bind(target);
    return async (key, path) => {
      if (uploaded >= 1) {
        process.stdout.write('uploading\n');
        return new Promise(() => undefined);
      }
      uploaded += 1;
      return target.putFile(key, path);
    };
  },
});
await ingestExport({ files: new S3TaskFiles({ objects: stalling, cacheDir, cacheBytes: 1 << 20, uploadConcurrency: 1 }), taskId });
