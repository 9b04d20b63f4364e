import { createHash } from 'node:crypto';

export interface ScanTemplate {
  uuid: string;
  name: string;
  title: string;
  description: string;
  cloud_only: boolean;
  subscription_only: boolean;
  is_agent: boolean;
  more_info: string | null;
  manager_only: boolean;
  unsupported: boolean;
  desc: string;
  icon: string;
}

/** UUIDs published for stock templates (docs/nessus-api.md §B.3.3). */
const KNOWN_UUIDS: Record<string, string> = {
  basic: '731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65',
  advanced: 'ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66',
  discovery: 'bbd4f805-3966-d464-b2d1-0079eb89d69708c3a05ec2812bcf',
  webapp: 'c3cbcd46-329f-a9ed-1077-554f8c2af33d0d44f09d736969bf',
  compliance: '40345bfc-48be-37bc-9bce-526bdce37582e8fee83bcefdc746',
  patch_audit: '0625147c-30fe-d79f-e54f-ce7ccd7523e9b63d84cb81c23c2f',
  malware: 'd16c51fa-597f-67a8-9add-74d5ab066b49a918400c42a035f7',
};

const CATALOGUE: readonly [name: string, title: string, description: string][] = [
  ['advanced', 'Advanced Scan', 'Configure a scan without using any recommendations.'],
  ['basic', 'Basic Network Scan', 'A full system scan suitable for any host.'],
  ['discovery', 'Host Discovery', 'A simple scan to discover live hosts and open ports.'],
  ['webapp', 'Web Application Tests', 'Scan for published and unknown web vulnerabilities.'],
  ['compliance', 'Policy Compliance Auditing', 'Audit system configurations against a known baseline.'],
  ['patch_audit', 'Credentialed Patch Audit', 'Authenticate to hosts and enumerate missing updates.'],
  ['malware', 'Malware Scan', 'Scan for malware on Windows and Unix systems.'],
  ['pci', 'PCI Quarterly External Scan', 'Approved for quarterly external scanning as required by PCI.'],
  ['asv', 'PCI ASV Scan', 'Internal PCI network scan.'],
  ['mdm', 'MDM Config Audit', 'Audit the configuration of mobile device managers.'],
  ['mobile', 'Mobile Device Scan', 'Assess mobile devices via Microsoft Exchange or an MDM.'],
  ['offline', 'Offline Config Audit', 'Audit the configuration of network devices.'],
  ['cloud_audit', 'Audit Cloud Infrastructure', 'Audit the configuration of third-party cloud services.'],
  ['scap', 'SCAP and OVAL Auditing', 'Audit systems using SCAP and OVAL definitions.'],
  ['advanced_dynamic', 'Advanced Dynamic Scan', 'Configure a dynamic plugin scan without recommendations.'],
  ['active_directory', 'Active Directory Starter Scan', 'Look for misconfigurations in Active Directory.'],
  ['credential_validation', 'Credential Validation', 'Validate the credentials of hosts on the network.'],
];

/** A 52-character UUID (36-character GUID + 16 hex), the shape real template UUIDs have (B.0). */
export function nessusUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}${hex.slice(32, 48)}`;
}

export const SCAN_TEMPLATES: readonly ScanTemplate[] = CATALOGUE.map(([name, title, description]) => ({
  uuid: KNOWN_UUIDS[name] ?? nessusUuid(`template:${name}`),
  name,
  title,
  description,
  cloud_only: false,
  subscription_only: false,
  is_agent: false,
  more_info: null,
  manager_only: false,
  unsupported: false,
  desc: description,
  icon: `${name}_scan`,
}));

export function templateByUuid(uuid: string): ScanTemplate | undefined {
  return SCAN_TEMPLATES.find((template) => template.uuid === uuid);
}
