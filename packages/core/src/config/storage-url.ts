import { AppError } from '../errors.js';

/**
 * Where task files live, from `STORAGE_URL`:
 * `s3://BUCKET[/PREFIX][?endpoint=URL&region=R&force_path_style=true]`. Credentials never come
 * from the URL: the AWS credential chain supplies them (environment, profiles, instance roles),
 * so a URL that carries any is refused rather than half-used.
 */
export interface S3Location {
  kind: 's3';
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string;
  /** An S3-compatible server (MinIO, R2, ...); unset means AWS S3. */
  endpoint: string | undefined;
  region: string | undefined;
  forcePathStyle: boolean;
}

export type StorageLocation = S3Location;

const FORM = 's3://BUCKET[/PREFIX][?endpoint=URL&region=R&force_path_style=true]';
const PARAMS = new Set(['endpoint', 'region', 'force_path_style']);
/** S3's bucket naming rules (3-63 characters, lower case, digits, dots and hyphens). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{1,40}$/;

function invalid(problem: string): AppError {
  return new AppError('config_invalid', `STORAGE_URL: ${problem} (expected ${FORM})`, { details: { variable: 'STORAGE_URL' } });
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(`the ${what} is not valid percent-encoding`);
  }
}

function parseEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('endpoint is not an absolute URL such as http://minio:9000');
  }
  if (url.username || url.password) {
    throw invalid('endpoint must not carry credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile) instead');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`endpoint scheme '${url.protocol}' is not http: or https:`);
  if (url.search || url.hash) throw invalid(`endpoint of host '${url.host}' must not have a query or fragment`);
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Parses and checks `STORAGE_URL`. Messages name the part at fault and never repeat the URL:
 * whatever was put in it by mistake (a key in the userinfo or the query) stays out of logs.
 */
export function parseStorageUrl(raw: string): StorageLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  if (!scheme) throw invalid('not a URL');
  if (scheme[1]!.toLowerCase() !== 's3') throw invalid(`scheme '${scheme[1]}:' is not supported; only s3: (AWS S3 or an S3-compatible server)`);
  const rest = raw.slice(scheme[0].length);
  const queryAt = rest.search(/[?#]/);
  const beforeQuery = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const query = queryAt < 0 ? '' : rest.slice(queryAt);
  if (query.includes('#')) throw invalid('a fragment (#...) is not allowed');
  const slash = beforeQuery.indexOf('/');
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  if (authority.includes('@')) {
    throw invalid('credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile, or an instance role) instead');
  }
  const bucket = authority;
  if (!bucket) throw invalid('the bucket name is missing');
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw invalid(`'${bucket.slice(0, 80)}' is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`);
  }
  const segments = slash < 0 ? [] : beforeQuery.slice(slash + 1).split('/');
  while (segments.length > 0 && segments.at(-1) === '') segments.pop();
  const decoded = segments.map((segment) => decode(segment, 'prefix'));
  if (decoded.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw invalid('the prefix has an empty, "." or ".." segment');
  }
  const prefix = decoded.join('/');
  if (prefix.length > 512) throw invalid('the prefix is longer than 512 characters');

  const params = new URLSearchParams(query.slice(1));
  const seen = new Set<string>();
  for (const name of params.keys()) {
    // Only the parameter's name is shown: an unexpected parameter may well be a secret.
    if (!PARAMS.has(name)) throw invalid(`unknown parameter '${name.slice(0, 40)}' (known: endpoint, region, force_path_style)`);
    if (seen.has(name)) throw invalid(`parameter '${name}' is given twice`);
    seen.add(name);
  }
  const endpointText = params.get('endpoint');
  const endpoint = endpointText === null ? undefined : parseEndpoint(endpointText);
  const region = params.get('region') ?? undefined;
  if (region !== undefined && !REGION.test(region)) throw invalid(`region '${region.slice(0, 40)}' is not a region name such as eu-west-1 or auto`);
  const pathStyle = params.get('force_path_style');
  if (pathStyle !== null && pathStyle !== 'true' && pathStyle !== 'false') throw invalid(`force_path_style must be true or false`);
  return { kind: 's3', bucket, prefix, endpoint, region, forcePathStyle: pathStyle === 'true' };
}

/** A description for logs: bucket, prefix and endpoint host, nothing else. */
export function describeStorage(location: StorageLocation): string {
  const where = location.endpoint === undefined ? 'AWS S3' : new URL(location.endpoint).host;
  return `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''} (${where})`;
}
