/**
 * Replaces known secret values (API keys, passwords, session tokens, SSH secrets) in text that
 * may reach logs or callers. Nessus error bodies are free text and could echo what we sent.
 */
export class SecretRedactor {
  private readonly secrets = new Set<string>();

  constructor(initial: Iterable<string | undefined> = []) {
    for (const value of initial) this.add(value);
  }

  /** Values shorter than 4 characters are not tracked: redacting them would mangle ordinary text. */
  add(value: string | undefined): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  delete(value: string | undefined): void {
    if (value) this.secrets.delete(value);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  /** A copy that also redacts `extra` (per-request secrets such as SSH passwords). */
  with(extra: Iterable<string>): SecretRedactor {
    const copy = new SecretRedactor(this.secrets);
    for (const value of extra) copy.add(value);
    return copy;
  }
}
