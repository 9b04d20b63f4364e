/** Turning the text Nessus writes into typed values. Every function returns null for "absent or unreadable". */

const MONTHS: Readonly<Record<string, string>> = {
  Jan: '01',
  Feb: '02',
  Mar: '03',
  Apr: '04',
  May: '05',
  Jun: '06',
  Jul: '07',
  Aug: '08',
  Sep: '09',
  Oct: '10',
  Nov: '11',
  Dec: '12',
};

export function toNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

export function toInteger(text: string | undefined): number | null {
  const value = toNumber(text);
  return value === null || !Number.isInteger(value) ? null : value;
}

export function toBoolean(text: string | undefined): boolean | null {
  if (text === undefined) return null;
  switch (text.trim().toLowerCase()) {
    case 'true':
    case 'yes':
    case '1':
      return true;
    case 'false':
    case 'no':
    case '0':
      return false;
    default:
      return null;
  }
}

/**
 * Plugin dates are `2004/08/15`; Web App Scanning writes `2017-03-31T00:00:00+00:00`. Day-only
 * dates stay day-only (`2004-08-15`) so no time zone is invented; timestamps become UTC ISO.
 */
export function toIsoDate(text: string | undefined): string | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const day = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(trimmed);
  if (day) return `${day[1]}-${day[2]!.padStart(2, '0')}-${day[3]!.padStart(2, '0')}`;
  return toIsoTimestamp(trimmed);
}

/**
 * HOST_START / HOST_END are written like `Wed Mar 24 21:03:39 2021`, in the scanner's local
 * time with no zone. They are read as UTC so the same file gives the same output on every
 * machine; `HOST_START_TIMESTAMP` (epoch seconds, newer scanners) is preferred when present.
 */
export function toIsoTimestamp(text: string | undefined): string | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const ctime = /^\w{3} (\w{3}) +(\d{1,2}) (\d{2}:\d{2}:\d{2}) (\d{4})$/.exec(trimmed);
  if (ctime) {
    if (!Object.hasOwn(MONTHS, ctime[1]!)) return null;
    const month = MONTHS[ctime[1]!]!;
    const parsed = Date.parse(`${ctime[4]}-${month}-${ctime[2]!.padStart(2, '0')}T${ctime[3]}Z`);
    return Number.isNaN(parsed) ? null : new Date(parsed).toISOString();
  }
  if (/^\d{9,11}$/.test(trimmed)) return new Date(Number(trimmed) * 1000).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return null;
  const parsed = Date.parse(trimmed);
  return Number.isNaN(parsed) ? null : new Date(parsed).toISOString();
}

const RISK_FACTORS: Readonly<Record<string, string>> = {
  none: 'None',
  info: 'None',
  informational: 'None',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};

/** Nessus writes `High`; Web App Scanning writes `high` and `info`. */
export function normaliseRiskFactor(text: string | undefined): string | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const key = trimmed.toLowerCase();
  return Object.hasOwn(RISK_FACTORS, key) ? RISK_FACTORS[key]! : trimmed;
}

const SEVERITY_BY_RISK: Readonly<Record<string, number>> = { None: 0, Low: 1, Medium: 2, High: 3, Critical: 4 };

export function severityFromRiskFactor(riskFactor: string | null): number | null {
  return riskFactor !== null && Object.hasOwn(SEVERITY_BY_RISK, riskFactor) ? SEVERITY_BY_RISK[riskFactor]! : null;
}

/** `see_also` holds one URL per line. */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed !== '') out.push(trimmed);
  }
  return out;
}

/** A web application host is named by URL; its FQDN is the URL's host name. */
export function hostNameOfUrl(text: string): string | null {
  if (!/^https?:\/\//i.test(text)) return null;
  try {
    return new URL(text).hostname || null;
  } catch {
    return null;
  }
}
