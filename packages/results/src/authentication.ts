import type { Finding } from '@nessus-mcp/nessus-parser';
import type { AuthenticationStatus } from '@nessus-mcp/schema';

/** What one plugin said about the credentials on one host. */
export type CredentialSignal = 'success' | 'partial' | 'failed' | 'not_used';

export interface AuthenticationEvidence {
  host: string;
  plugin_id: number;
  plugin_name: string;
  signal: CredentialSignal;
  /** The line of plugin output that carries the signal. */
  detail: string;
}

export interface AuthenticationVerdict {
  status: AuthenticationStatus;
  evidence: AuthenticationEvidence[];
  /** What to check next, when the credentials did not fully work. */
  hints: string[];
}

/**
 * Plugins that report on credentials. 141118 / 110385 / 117885 / 104410 are the "Target Credential
 * Status/Issues by Authentication Protocol" family (Nessus 8+), more precise than 19506's summary line;
 * 21745 is the older "Authentication Failure - Local Checks Not Run".
 */
const SCAN_INFORMATION = 19506;
const SIGNAL_PLUGINS: ReadonlyMap<number, CredentialSignal> = new Map([
  [141118, 'success'], // Valid Credentials Provided
  [110385, 'partial'], // Insufficient Privilege
  [117885, 'partial'], // Intermittent Authentication Failure
  [104410, 'failed'], // Failure for Provided Credentials
  [21745, 'failed'], // Authentication Failure - Local Checks Not Run
]);
const CREDENTIALED_LINE = /Credentialed checks\s*:\s*(yes|no|partial)[^\n]*/i;
const MAX_EVIDENCE = 50;
const MAX_DETAIL = 300;

function firstLine(text: string | null): string {
  const line =
    (text ?? '')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}…` : line;
}

const HINTS: Record<'failed' | 'partial', string[]> = {
  failed: [
    'Check the SSH username and password or private key (and its passphrase) given to the scan.',
    'Check that the SSH port is reachable from the scanner and that the account may log in over SSH (AllowUsers, PasswordAuthentication).',
    'See plugins 21745 / 104410 in the results (filter {"plugin_id": [21745, 104410]}) for the protocol and reason Nessus gave.',
  ],
  partial: [
    'Some hosts or checks lacked privileges: use a privileged scan (sudo/su escalation) or an account with root rights.',
    'See plugins 110385 / 117885 in the results (filter {"plugin_id": [110385, 117885]}) for the affected hosts and checks.',
  ],
};

/** Folds the credential-related findings of a scan into one status with its evidence. */
export class AuthenticationTracker {
  private readonly byHost = new Map<number | string, Set<CredentialSignal>>();
  private readonly evidence: AuthenticationEvidence[] = [];

  observe(finding: Finding): void {
    let signal: CredentialSignal | undefined;
    let detail: string;
    if (finding.plugin_id === SCAN_INFORMATION) {
      const match = CREDENTIALED_LINE.exec(finding.plugin_output ?? '');
      if (!match) return;
      const answer = (match[1] ?? '').toLowerCase();
      signal = answer === 'yes' ? 'success' : answer === 'partial' ? 'partial' : 'not_used';
      detail = match[0].trim();
    } else {
      signal = SIGNAL_PLUGINS.get(finding.plugin_id);
      if (!signal) return;
      detail = firstLine(finding.plugin_output) || finding.plugin_name;
    }
    const key = typeof finding.host_index === 'number' ? finding.host_index : finding.host;
    let signals = this.byHost.get(key);
    if (!signals) this.byHost.set(key, (signals = new Set()));
    signals.add(signal);
    if (this.evidence.length < MAX_EVIDENCE) {
      this.evidence.push({ host: finding.host, plugin_id: finding.plugin_id, plugin_name: finding.plugin_name, signal, detail });
    }
  }

  /**
   * `credentialed` is what the caller knows of the scan type; when unknown, a scan counts as
   * credentialed if any host shows a credential signal other than "not used". Per host, a
   * success mixed with a failure or a privilege issue is partial; "Credentialed checks : no"
   * on a credentialed scan is a failure. The scan is success or failed only when every host
   * with evidence agrees, partial otherwise.
   */
  verdict(credentialed?: boolean): AuthenticationVerdict {
    const hostStatuses = [...this.byHost.values()].map((signals): 'success' | 'partial' | 'failed' | 'not_used' => {
      const success = signals.has('success');
      const failed = signals.has('failed');
      if (signals.has('partial') || (success && failed)) return 'partial';
      if (failed) return 'failed';
      if (success) return 'success';
      return 'not_used';
    });
    const isCredentialed = credentialed ?? hostStatuses.some((status) => status !== 'not_used');
    if (!isCredentialed) return { status: 'not_applicable', evidence: this.evidence, hints: [] };
    const statuses = hostStatuses.map((status) => (status === 'not_used' ? 'failed' : status));
    let status: AuthenticationStatus;
    if (statuses.length === 0 || statuses.every((s) => s === 'failed')) status = 'failed';
    else if (statuses.every((s) => s === 'success')) status = 'success';
    else status = 'partial';
    return { status, evidence: this.evidence, hints: status === 'success' ? [] : HINTS[status] };
  }
}
