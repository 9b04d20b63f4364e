import { AppError } from '@nessus-mcp/core/errors';
import type { HostProgress } from './status-mapping.js';

/**
 * Tolerant readers for the Nessus JSON bodies this client uses (shapes from docs/nessus-api.md §B.3).
 * Only the fields we need are checked; a body missing one of them is a scanner error, not a crash.
 */

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(what: string): AppError {
  return new AppError('scanner_error', `Nessus answered with an unexpected body (${what}).`, { retryable: false });
}

function record(value: unknown, what: string): Json {
  if (!isRecord(value)) throw malformed(what);
  return value;
}

function idOf(value: unknown, what: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value !== '') return value;
  throw malformed(what);
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** `{"templates":[{"uuid","name",...}]}` → name → uuid. */
export function readTemplates(body: unknown): Map<string, string> {
  const templates = record(body, 'templates list').templates;
  if (!Array.isArray(templates)) throw malformed('templates list without "templates"');
  const byName = new Map<string, string>();
  for (const t of templates) {
    if (isRecord(t) && typeof t.name === 'string' && typeof t.uuid === 'string') byName.set(t.name, t.uuid);
  }
  return byName;
}

export interface NessusFolder {
  id: string;
  name: string;
  type: string | null;
}

/** `folders` array of `GET /folders` and `GET /scans`. */
export function readFolders(value: unknown): NessusFolder[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter(isRecord)
    .flatMap((f) => (f.id === undefined || typeof f.name !== 'string' ? [] : [{ id: idOf(f.id, 'folder id'), name: f.name, type: str(f.type) }]));
}

export function readFolderList(body: unknown): NessusFolder[] {
  return readFolders(record(body, 'folders list').folders);
}

export function readCreatedId(body: unknown, what: string): string {
  return idOf(record(body, what).id, what);
}

/** `POST /scans` → `{"scan":{"id":..}}`. */
export function readCreatedScan(body: unknown): string {
  return idOf(record(record(body, 'scan creation').scan, 'scan creation').id, 'scan id');
}

/** `POST /scans/{id}/launch` → `{"scan_uuid":"<52 chars>"}`. */
export function readLaunch(body: unknown): string {
  const uuid = record(body, 'launch').scan_uuid;
  if (typeof uuid !== 'string' || uuid === '') throw malformed('launch without scan_uuid');
  return uuid;
}

export interface ScanDetails {
  status: string;
  hostCount: number | null;
  hosts: HostProgress[];
}

/** `GET /scans/{id}`: `info.status`, `info.hostcount`, `hosts[].scanprogress*`. */
export function readScanDetails(body: unknown): ScanDetails {
  const root = record(body, 'scan details');
  const info = record(root.info, 'scan details without info');
  const hosts = Array.isArray(root.hosts) ? root.hosts.filter(isRecord) : [];
  return {
    status: str(info.status) ?? '',
    hostCount: num(info.hostcount),
    hosts: hosts.map((h) => ({ scanprogresscurrent: num(h.scanprogresscurrent), scanprogresstotal: num(h.scanprogresstotal) })),
  };
}

export interface ScanListItem {
  id: string;
  name: string;
  folderId: string | null;
  status: string;
  lastModified: number;
}

/** `GET /scans` → folders and scans; `scans` is `null`, not `[]`, when there are none (§B.3.6). */
export function readScanList(body: unknown): { folders: NessusFolder[]; scans: ScanListItem[] } {
  const root = record(body, 'scans list');
  const scans = Array.isArray(root.scans) ? root.scans.filter(isRecord) : [];
  return {
    folders: readFolders(root.folders),
    scans: scans.flatMap((s) =>
      s.id === undefined || typeof s.name !== 'string'
        ? []
        : [
            {
              id: idOf(s.id, 'scan id'),
              name: s.name,
              folderId: s.folder_id === undefined || s.folder_id === null ? null : idOf(s.folder_id, 'folder id'),
              status: str(s.status) ?? '',
              lastModified: num(s.last_modification_date) ?? 0,
            },
          ],
    ),
  };
}

/** `POST /scans/{id}/export` → `{"token":"<64 hex>","file":<int>}`; the file id drives status and download. */
export function readExportFile(body: unknown): string {
  return idOf(record(body, 'export request').file, 'export file id');
}

export function readExportStatus(body: unknown): string {
  return str(record(body, 'export status').status) ?? '';
}

/** `POST /file/upload` → `{"fileuploaded":"<name>"}`. */
export function readUpload(body: unknown): string {
  const name = record(body, 'file upload').fileuploaded;
  if (typeof name !== 'string' || name === '') throw malformed('file upload without fileuploaded');
  return name;
}

export function readSessionToken(body: unknown): string {
  const token = record(body, 'session').token;
  if (typeof token !== 'string' || token === '') throw malformed('session without token');
  return token;
}

export interface ServerProperties {
  version: string | null;
  product: string | null;
  licence: { type: string | null; name: string | null; restricted: boolean | null; ips: number | null } | null;
  scanApi: boolean | null;
}

/** Licence and feature flags; `scan_api` may sit under `license.features` or top-level `features` (§B.2, §B.3.2). */
export function readServerProperties(body: unknown): ServerProperties {
  const root = record(body, 'server properties');
  const licence = isRecord(root.license) ? root.license : null;
  const licenceFeatures = licence && isRecord(licence.features) ? licence.features : null;
  const features = isRecord(root.features) ? root.features : null;
  return {
    version: str(root.server_version) ?? str(root.nessus_ui_version),
    product: str(root.nessus_type),
    licence: licence ? { type: str(licence.type), name: str(licence.name), restricted: bool(licence.restricted), ips: num(licence.ips) } : null,
    scanApi: bool(licenceFeatures?.scan_api) ?? bool(features?.scan_api),
  };
}

export function readServerStatus(body: unknown): string | null {
  return isRecord(body) ? str(body.status) : null;
}

/** `progress` of a `/server/status` answer while loading (a number, or null when absent). */
export function readServerProgress(body: unknown): number | null {
  if (!isRecord(body)) return null;
  const value = typeof body.progress === 'string' ? Number(body.progress) : body.progress;
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : null;
}
