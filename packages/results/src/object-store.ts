import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AppError } from '@nessus-mcp/core/errors';

/** What a reader learns of an object: enough to stream it and to tell whether it changed. */
export interface ObjectInfo {
  size: number;
  etag: string;
}

export interface ObjectBody extends ObjectInfo {
  stream: Readable;
}

/**
 * The few operations task files need from a bucket. Keys are relative to the store's prefix.
 * `put*` resolve only once the server acknowledged the whole object (durable); a missing object
 * reads as null, never as an error.
 */
export interface ObjectStore {
  putFile(key: string, path: string): Promise<ObjectInfo>;
  putBytes(key: string, body: Buffer | string, contentType?: string): Promise<ObjectInfo>;
  head(key: string): Promise<ObjectInfo | null>;
  get(key: string): Promise<ObjectBody | null>;
  /** The object's bytes unless its ETag is still `etag` (then `unchanged`). */
  getIfChanged(key: string, etag: string | undefined): Promise<{ bytes: Buffer; etag: string } | 'unchanged' | null>;
  /** Downloads the object to `path`; its info, or null when it does not exist. */
  download(key: string, path: string): Promise<ObjectInfo | null>;
  /** Every key under `prefix`. */
  list(prefix: string): Promise<string[]>;
  deleteMany(keys: string[]): Promise<void>;
}

export interface S3ObjectStoreOptions {
  bucket: string;
  prefix: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  forcePathStyle?: boolean;
  /** Bytes per multipart part; objects at most this size go up in one PUT. */
  partSize?: number;
}

/** S3's minimum part size; larger parts mean fewer requests for a big export. */
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404;
}

/**
 * Turns an SDK or network failure into an AppError that names the operation and the server's
 * answer (error name and HTTP status), never a signed URL or a header. Throttling, 5xx and
 * network errors are retryable: the worker's step retry gets them.
 */
export function objectStorageError(error: unknown, doing: string): AppError {
  if (error instanceof AppError) return error;
  const status = statusOf(error);
  const name = error instanceof S3ServiceException ? error.name : ((error as NodeJS.ErrnoException).code ?? (error as Error).name ?? 'Error');
  const retryable = status === undefined || status >= 500 || status === 429 || name === 'SlowDown';
  const says = status === undefined ? name : `${name} (HTTP ${status})`;
  return new AppError('internal', `Object storage (STORAGE_URL) failed to ${doing}: ${says}.`, {
    retryable,
    cause: error,
    details: { storage_error: name, ...(status === undefined ? {} : { http_status: status }) },
  });
}

/** An S3 bucket (or S3-compatible server) under a key prefix, through the AWS SDK v3. */
export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ? `${options.prefix}/` : '';
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.client = new S3Client({
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      // The SDK refuses to sign without a region; S3-compatible servers accept any.
      region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? false,
      // Recent SDKs add CRC32 checksums to every upload; several S3-compatible servers reject or
      // mishandle them. Checksums are still sent where S3 requires one (DeleteObjects).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /**
   * Checks at start that the bucket exists and these credentials may use it, so a wrong
   * STORAGE_URL or missing credentials are refused before any task depends on them.
   */
  async checkAccess(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const status = statusOf(error);
      const problem =
        status === 404
          ? 'the bucket does not exist'
          : status === 403 || status === 401
            ? 'access is denied (check the credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the instance role)'
            : status === 301 || status === 400
              ? `the server refused the request (HTTP ${status}; check region and force_path_style)`
              : `the server could not be reached or answered badly (${(error as NodeJS.ErrnoException).code ?? (error as Error).name ?? 'error'}${status === undefined ? '' : `, HTTP ${status}`})`;
      throw new AppError('config_invalid', `STORAGE_URL: bucket '${this.bucket}' is not usable: ${problem}`, {
        cause: error,
        details: { variable: 'STORAGE_URL' },
      });
    }
  }

  async putFile(key: string, path: string): Promise<ObjectInfo> {
    const { size } = await stat(path);
    return this.upload(key, createReadStream(path), size);
  }

  async putBytes(key: string, body: Buffer | string, contentType = 'application/octet-stream'): Promise<ObjectInfo> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    try {
      const result = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: bytes, ContentType: contentType }));
      return { size: bytes.length, etag: result.ETag ?? '' };
    } catch (error) {
      throw objectStorageError(error, 'write an object');
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const result = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return { size: result.ContentLength ?? 0, etag: result.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw objectStorageError(error, 'read an object');
    }
  }

  async get(key: string): Promise<ObjectBody | null> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return { stream: result.Body as Readable, size: result.ContentLength ?? 0, etag: result.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw objectStorageError(error, 'read an object');
    }
  }

  async getIfChanged(key: string, etag: string | undefined): Promise<{ bytes: Buffer; etag: string } | 'unchanged' | null> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key), ...(etag ? { IfNoneMatch: etag } : {}) }));
      const bytes = Buffer.from(await result.Body!.transformToByteArray());
      return { bytes, etag: result.ETag ?? '' };
    } catch (error) {
      if (statusOf(error) === 304) return 'unchanged';
      if (isNotFound(error)) return null;
      throw objectStorageError(error, 'read an object');
    }
  }

  async download(key: string, path: string): Promise<ObjectInfo | null> {
    const body = await this.get(key);
    if (!body) return null;
    try {
      await pipeline(body.stream, createWriteStream(path));
    } catch (error) {
      throw objectStorageError(error, 'download an object');
    }
    return { size: body.size, etag: body.etag };
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(prefix), ContinuationToken: token }));
        for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key.slice(this.prefix.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw objectStorageError(error, 'list objects');
    }
    return keys;
  }

  async deleteMany(keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      let result;
      try {
        result = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((key) => ({ Key: this.key(key) })), Quiet: true } }),
        );
      } catch (error) {
        throw objectStorageError(error, 'delete objects');
      }
      const failed = result.Errors?.filter((entry) => entry.Code !== 'NoSuchKey') ?? [];
      if (failed.length > 0) {
        throw new AppError('internal', `Object storage (STORAGE_URL) failed to delete ${failed.length} object(s): ${failed[0]!.Code ?? 'error'}.`, {
          retryable: true,
        });
      }
    }
  }

  destroy(): void {
    this.client.destroy();
  }

  private key(key: string): string {
    return `${this.prefix}${key}`;
  }

  /** One PUT for a small object, a multipart upload (parts in parallel) for a large one. */
  private async upload(key: string, body: Readable, size: number): Promise<ObjectInfo> {
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: this.key(key), Body: body },
        partSize: this.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      });
      const result = await upload.done();
      return { size, etag: result.ETag ?? '' };
    } catch (error) {
      body.destroy();
      throw objectStorageError(error, 'upload an object');
    }
  }
}
