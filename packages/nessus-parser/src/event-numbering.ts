import { findingId, findingKeyText } from './finding-id.js';
import type { ReaderEvent } from './document-reader.js';
import type { ParseEvent, ParseSummary } from './types.js';

/**
 * Gives events their document-wide numbers (host and finding ordinals, which ReportHost of a
 * repeated name this is) and keeps the running summary. Runs on the consuming thread, in
 * document order, whichever thread read the XML.
 */
export class EventNumbering {
  private hostIndex = -1;
  private hostOccurrence = 0;
  private findingIndex = 0;
  /** One entry per distinct host name: the only state that grows with the file (a few bytes per host). */
  private readonly occurrences = new Map<string, number>();
  private readonly bySeverity: ParseSummary['by_severity'] = { '0': 0, '1': 0, '2': 0, '3': 0, '4': 0 };
  private scanStart: string | null = null;
  private scanEnd: string | null = null;

  number(event: ReaderEvent): ParseEvent {
    switch (event.type) {
      case 'scan':
        return event;
      case 'host': {
        const name = event.host.name;
        const occurrence = this.occurrences.get(name) ?? 0;
        this.occurrences.set(name, occurrence + 1);
        this.hostIndex += 1;
        this.hostOccurrence = occurrence;
        const { host_start: start, host_end: end } = event.host;
        if (start !== null && (this.scanStart === null || start < this.scanStart)) this.scanStart = start;
        if (end !== null && (this.scanEnd === null || end > this.scanEnd)) this.scanEnd = end;
        return { type: 'host', host: { index: this.hostIndex, occurrence, ...event.host } };
      }
      case 'finding': {
        const finding = event.finding;
        finding.index = this.findingIndex;
        finding.host_index = this.hostIndex;
        this.findingIndex += 1;
        if (this.hostOccurrence > 0) {
          const keyText = findingKeyText({
            host: finding.host,
            hostOccurrence: this.hostOccurrence,
            port: finding.port,
            protocol: finding.protocol,
            pluginId: finding.plugin_id,
            complianceCheckId: finding.compliance?.check_id ?? null,
          });
          finding.finding_id = findingId(keyText, event.repeat);
        }
        const severity = String(finding.severity);
        if (severity === '0' || severity === '1' || severity === '2' || severity === '3' || severity === '4') {
          this.bySeverity[severity] += 1;
        }
        return { type: 'finding', finding };
      }
    }
  }

  summary(truncatedFields: number): ParseSummary {
    return {
      hosts: this.hostIndex + 1,
      findings: this.findingIndex,
      by_severity: { ...this.bySeverity },
      scan_start: this.scanStart,
      scan_end: this.scanEnd,
      truncated_fields: truncatedFields,
    };
  }
}
