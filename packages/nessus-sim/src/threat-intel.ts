/**
 * Threat intelligence the bundled fixtures lack but current Nessus exports carry: CISA KEV
 * listing, EPSS and VPR. Added to the host templates once at load, so every export of the
 * simulator has realistic risk data to sort and filter on (see docs/simulator.md).
 */

/** How an export states the KEV listing: real exports use either, depending on the plugin feed. */
export type KevForm = 'element' | 'xref';

export interface KnownExploited {
  cve: string;
  /** CISA's dateAdded, as Nessus writes dates. */
  dateAdded: string;
  form: KevForm;
  /** Illustrative scores in the range these CVEs score in practice, not a copy of FIRST's or Tenable's data. */
  epss: number;
  vpr: number;
}

/** CVEs of the bundled fixtures that CISA's Known Exploited Vulnerabilities catalogue lists. */
export const KNOWN_EXPLOITED: readonly KnownExploited[] = [
  { cve: 'CVE-2012-1823', dateAdded: '2022/03/25', form: 'xref', epss: 0.974, vpr: 9.8 },
  { cve: 'CVE-2017-0199', dateAdded: '2021/11/03', form: 'element', epss: 0.973, vpr: 9.8 },
  { cve: 'CVE-2017-11882', dateAdded: '2021/11/03', form: 'element', epss: 0.975, vpr: 9.9 },
  { cve: 'CVE-2018-0802', dateAdded: '2021/11/03', form: 'xref', epss: 0.969, vpr: 9.7 },
  { cve: 'CVE-2018-4878', dateAdded: '2021/11/03', form: 'xref', epss: 0.968, vpr: 9.6 },
  { cve: 'CVE-2018-8174', dateAdded: '2022/02/15', form: 'element', epss: 0.962, vpr: 9.4 },
];

const BY_CVE = new Map(KNOWN_EXPLOITED.map((entry) => [entry.cve, entry]));
const ITEM_RE = /(<ReportItem\b[^>]*>)([\s\S]*?)(<\/ReportItem>)/g;
const CVE_RE = /<cve>\s*([^<\s]+)\s*<\/cve>/g;

/** A number in [0, 1) from the text, the same on every run. */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0) / 0x100000000;
}

function numberElement(body: string, name: string): number | null {
  const match = new RegExp(`<${name}>\\s*([0-9.]+)\\s*</${name}>`).exec(body);
  return match ? Number(match[1]) : null;
}

/**
 * Adds `cisa-known-exploited` (element or xref), `epss_score` and `vpr_score` to the ReportItems
 * that name CVEs, leaving any value the fixture already has. Scores of CVEs not in the table are
 * synthetic: EPSS from a hash of the CVE (mostly low, as real EPSS is), VPR from the CVSS score.
 */
export function addThreatIntel(items: string): string {
  return items.replace(ITEM_RE, (whole: string, open: string, body: string, close: string) => {
    const cves = [...body.matchAll(CVE_RE)].map((match) => match[1] ?? '');
    if (cves.length === 0) return whole;
    const listed = cves.map((cve) => BY_CVE.get(cve)).find((entry) => entry !== undefined);
    const added: string[] = [];
    if (listed && !body.includes('<cisa-known-exploited>') && !body.includes('CISA-KNOWN-EXPLOITED:')) {
      added.push(
        listed.form === 'element'
          ? `<cisa-known-exploited>${listed.dateAdded}</cisa-known-exploited>`
          : `<xref>CISA-KNOWN-EXPLOITED:${listed.dateAdded}</xref>`,
      );
    }
    if (!body.includes('<epss_score>')) {
      const epss = listed ? listed.epss : 0.0004 + unitHash(cves[0] ?? '') ** 4 * 0.6;
      added.push(`<epss_score>${epss.toFixed(4)}</epss_score>`);
    }
    if (!body.includes('<vpr_score>')) {
      const cvss = numberElement(body, 'cvss3_base_score') ?? numberElement(body, 'cvss_base_score');
      const vpr = listed ? listed.vpr : cvss === null ? null : Math.min(10, Math.max(0.1, cvss * 0.85));
      if (vpr !== null) added.push(`<vpr_score>${vpr.toFixed(1)}</vpr_score>`);
    }
    return added.length === 0 ? whole : `${open}${body}${added.join('\n')}\n${close}`;
  });
}
