import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** The fixed key pair s3rver checks request signatures against. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface RunningS3 {
  /** `http://127.0.0.1:PORT`, for `STORAGE_URL=s3://BUCKET?endpoint=...&force_path_style=true`. */
  endpoint: string;
  port: number;
  /** Where the server keeps its objects (removed by `stop`). */
  directory: string;
  stop(): Promise<void>;
}

export interface S3ServerOptions {
  /** Buckets created before the server answers. */
  buckets?: string[];
}

/**
 * Starts s3rver in this process on a free port (the OS picks it), storing objects in a fresh
 * temporary directory. It checks SigV4 signatures, serves ranged and conditional GETs and
 * multipart uploads, which is what the object-storage code relies on.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<RunningS3> {
  const directory = await mkdtemp(join(tmpdir(), 'nessus-mcp-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    directory,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
