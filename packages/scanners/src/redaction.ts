/**
 * Replaces known secret values (API keys, passwords, session tokens, SSH secrets) in text that
 * may reach logs or callers. Nessus error bodies are free text and could echo what we sent.
 */
export class SecretRedactor {
  private readonly secrets = new Set<string>();

  constructor(
    initial: Iterable<string | undefined> = [],
    /** Secrets added to the parent later (a session token from a login mid-call) still count. */
    private readonly parent?: SecretRedactor,
  ) {
    for (const value of initial) this.add(value);
  }

  /** Values shorter than 4 characters are not tracked: redacting them would mangle ordinary text. */
  add(value: string | undefined): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const secret of [...this.all()].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  /** A redactor that also hides `extra` (per-request secrets such as SSH passwords). */
  with(extra: Iterable<string>): SecretRedactor {
    return new SecretRedactor(extra, this);
  }

  private all(): Set<string> {
    return this.parent ? new Set([...this.parent.all(), ...this.secrets]) : this.secrets;
  }
}
