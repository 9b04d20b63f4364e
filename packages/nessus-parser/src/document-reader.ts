import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import { NessusParseError } from './errors.js';
import type { ParseFailureReason } from './errors.js';
import { buildFinding, buildHost } from './finding-builder.js';
import { setOwn } from './own-property.js';
import { installSaxesFastPaths } from './saxes-fast-paths.js';
import type { HostContext, RawItem } from './finding-builder.js';
import { findingId, findingKeyText } from './finding-id.js';
import type { Finding, HostInfo, ScanInfo } from './types.js';

export const COMPLIANCE_NAMESPACE = 'http://www.nessus.org/cm';
export const DEFAULT_MAX_FIELD_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;

/**
 * What a reader produces before document-wide numbering. Host and finding indexes, the
 * host-name occurrence and ids of repeated host names are assigned by `EventNumbering`, in
 * document order, so a block parsed on a worker needs no knowledge of the blocks before it.
 */
export type ReaderEvent =
  { type: 'scan'; scan: ScanInfo } | { type: 'host'; host: Omit<HostInfo, 'index' | 'occurrence'> } | { type: 'finding'; finding: Finding; repeat: number };

/**
 * - `document`: a whole export, read on one thread.
 * - `skeleton`: a whole export whose ReportHost blocks were cut out and replaced by
 *   `<ReportHost/>` (workers parse them); checks everything around them.
 * - `block`: one ReportHost element on its own.
 */
export type ReaderMode = 'document' | 'skeleton' | 'block';

export interface ReaderOptions {
  mode: ReaderMode;
  maxFieldBytes: number;
  maxDepth: number;
  /** Namespace prefixes in scope where a block starts (`cm` → the compliance namespace). */
  namespaces?: Record<string, string>;
}

const enum Ctx {
  Ignore,
  Root,
  Policy,
  Preferences,
  ServerPrefs,
  Preference,
  Report,
  HostPlaceholder,
  Host,
  HostProps,
  Item,
}

const enum Target {
  PolicyName,
  PreferenceName,
  PreferenceValue,
  ServerPrefDirect,
  HostTag,
  ItemField,
  ComplianceField,
}

/** Preferences worth carrying into the scan metadata; the rest is scanner tuning. */
const KEPT_PREFERENCES = new Set([
  'TARGET',
  'name',
  'description',
  'scan_description',
  'whoami',
  'feed_type',
  'scanner_type',
  'wizard_uuid',
  'tenableio.scan_uuid',
  'report_task_id',
  'scan_start_timestamp',
  'scan_end_timestamp',
  'port_range',
  'safe_checks',
  'max_hosts',
  'max_checks',
  'plugin_feed_version',
  'sc_version',
]);

const TRUNCATION_MARKER = (cap: number): string => `\n[truncated by nessus-parser at ${cap} bytes]`;

/** Reads Nessus v2 XML pushed to it in text chunks and turns it into typed events. */
export class DocumentReader {
  readonly events: ReaderEvent[] = [];
  /** Text fields cut at the size cap so far. */
  truncatedFields = 0;

  private readonly parser: SaxesParser;
  private readonly mode: ReaderMode;
  private readonly maxFieldBytes: number;
  /** Text kept per field in UTF-16 units; a longer field surely exceeds the byte cap too. */
  private readonly maxFieldChars: number;
  private readonly maxDepth: number;
  private readonly depthOffset: number;
  private readonly stack: Ctx[] = [];
  private readonly namespaceScopes: Array<{ depth: number; prefixes: Map<string, string> }> = [];
  private readonly fieldNames = new Map<string, string>();

  private sawRoot = false;
  private scanEmitted = false;
  private policyName: string | null = null;
  private readonly preferences: Record<string, string> = {};
  private pluginCount: number | null = null;
  private prefName: string | null = null;
  private prefValue: string | null = null;

  private hostName = '';
  private hostProps: Record<string, string> = {};
  private host: HostContext | null = null;
  private repeats = new Map<string, number>();
  private item: RawItem | null = null;

  private captureDepth = -1;
  private captureTarget: Target = Target.ItemField;
  private captureName = '';
  private captureText = '';
  private captureDropped = false;
  private failure: NessusParseError | null = null;
  private endLine: number | null = null;

  constructor(options: ReaderOptions) {
    this.mode = options.mode;
    this.maxFieldBytes = options.maxFieldBytes;
    this.maxFieldChars = options.maxFieldBytes;
    this.maxDepth = options.maxDepth;
    // A block sits at NessusClientData_v2/Report/ReportHost: count the two levels it lost.
    this.depthOffset = options.mode === 'block' ? 2 : 0;
    if (options.namespaces) {
      this.namespaceScopes.push({ depth: 0, prefixes: new Map(Object.entries(options.namespaces)) });
    }
    const parser = new SaxesParser({ xmlns: false, position: true });
    installSaxesFastPaths(parser);
    this.parser = parser;
    parser.on('error', (err) => {
      throw this.fail('not_well_formed', err.message.replace(/^\d+:\d+: /, ''));
    });
    parser.on('opentag', (tag) => this.open(tag));
    parser.on('closetag', () => this.close());
    parser.on('text', (text) => this.text(text));
    parser.on('cdata', (text) => this.text(text));
  }

  /** 1-based line the parser has reached. */
  get line(): number {
    return this.endLine ?? this.parser.line;
  }

  write(chunk: string): void {
    if (this.failure) throw this.failure;
    this.parser.write(chunk);
    this.boundParserBuffer();
  }

  end(): void {
    if (this.failure) throw this.failure;
    // saxes resets its position once closed; keep where the document ended.
    this.endLine = this.parser.line;
    this.parser.close();
    if (!this.sawRoot) throw this.fail('not_nessus', 'no root element: the file is empty or not XML');
  }

  /** Namespace prefixes in scope at the current point (for a block handed to a worker). */
  namespacesInScope(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const scope of this.namespaceScopes) for (const [prefix, uri] of scope.prefixes) out[prefix] = uri;
    return out;
  }

  /** Collected scan metadata (for a file whose Report never opened). */
  private scanInfo(reportName: string | null, reportType: string | null): ScanInfo {
    const target = this.preferences.TARGET;
    return {
      report_name: reportName,
      policy_name: this.policyName,
      report_type: reportType,
      plugin_count: this.pluginCount,
      preferences: { ...this.preferences },
      targets: target === undefined ? [] : target.split(/[\s,]+/).filter((t) => t !== ''),
    };
  }

  private fail(reason: ParseFailureReason, problem: string): NessusParseError {
    if (!this.sawRoot && reason === 'not_well_formed') {
      reason = 'not_nessus';
      problem = `not a Nessus export (no XML root element): ${problem}`;
    }
    this.failure ??= new NessusParseError(reason, problem, this.parser.line);
    return this.failure;
  }

  /**
   * saxes holds a whole text node in memory before reporting it; a hostile file with one
   * gigabyte of text would take a gigabyte. Trimming its buffer to just over the cap keeps
   * memory flat, and the field is still reported (and marked) as truncated.
   */
  private boundParserBuffer(): void {
    const internals = this.parser as unknown as { text?: unknown };
    const buffered = internals.text;
    if (typeof buffered === 'string' && buffered.length > this.maxFieldChars + 1) {
      internals.text = buffered.slice(0, this.maxFieldChars + 1);
    }
  }

  private open(tag: SaxesTagPlain): void {
    const name = tag.name;
    const depth = this.stack.length;
    if (depth + this.depthOffset >= this.maxDepth) {
      throw this.fail('too_deep', `elements nested deeper than ${this.maxDepth} levels`);
    }
    const attrs = tag.attributes;
    for (const key in attrs) {
      if (key.startsWith('xmlns:')) this.declareNamespace(depth, key.slice(6), attrs[key]!);
    }
    const parent = depth === 0 ? -1 : this.stack[depth - 1]!;
    if (name === 'ReportHost' && parent !== Ctx.Report && !(depth === 0 && this.mode === 'block')) {
      throw this.fail('not_nessus', 'ReportHost outside a Report element');
    }
    let ctx = Ctx.Ignore;
    switch (parent) {
      case -1:
        ctx = this.openRoot(name, attrs);
        break;
      case Ctx.Root:
        if (name === 'Policy') ctx = Ctx.Policy;
        else if (name === 'Report') {
          ctx = Ctx.Report;
          this.emitScan(attrs.name ?? null, attrs.type ?? null);
        }
        break;
      case Ctx.Policy:
        if (name === 'policyName') this.capture(depth, Target.PolicyName, name);
        else if (name === 'Preferences') ctx = Ctx.Preferences;
        break;
      case Ctx.Preferences:
        if (name === 'ServerPreferences') ctx = Ctx.ServerPrefs;
        break;
      case Ctx.ServerPrefs:
        if (name === 'preference') {
          ctx = Ctx.Preference;
          this.prefName = null;
          this.prefValue = null;
        } else {
          // Web App Scanning writes settings as direct children (`<name>`, `<scanner_type>`).
          this.capture(depth, Target.ServerPrefDirect, name);
        }
        break;
      case Ctx.Preference:
        if (name === 'name') this.capture(depth, Target.PreferenceName, name);
        else if (name === 'value') this.capture(depth, Target.PreferenceValue, name);
        break;
      case Ctx.Report:
        if (name === 'ReportHost') {
          if (this.mode === 'skeleton') ctx = Ctx.HostPlaceholder;
          else {
            ctx = Ctx.Host;
            this.startHost(attrs.name ?? '');
          }
        }
        break;
      case Ctx.Host:
        if (name === 'HostProperties') ctx = Ctx.HostProps;
        else if (name === 'ReportItem') {
          ctx = Ctx.Item;
          this.emitHostOnce();
          this.item = { attributes: attrs, children: new Map(), compliance: null, truncated: [] };
        }
        break;
      case Ctx.HostProps:
        if (name === 'tag') this.capture(depth, Target.HostTag, attrs.name ?? '');
        break;
      case Ctx.Item:
        this.openItemChild(depth, name);
        break;
      default:
        break;
    }
    this.stack.push(ctx);
  }

  private openRoot(name: string, attrs: Record<string, string>): Ctx {
    this.sawRoot = true;
    if (this.mode === 'block') {
      this.startHost(attrs.name ?? '');
      return Ctx.Host;
    }
    if (name === 'NessusClientData_v2') return Ctx.Root;
    if (name === 'NessusClientData') {
      throw this.fail('unsupported_format', 'legacy Nessus v1 export (root NessusClientData); export the scan as .nessus v2');
    }
    throw this.fail('not_nessus', `not a Nessus export: root element is <${name}>, expected <NessusClientData_v2>`);
  }

  private openItemChild(depth: number, name: string): void {
    const colon = name.indexOf(':');
    if (colon > 0) {
      const prefix = name.slice(0, colon);
      const uri = this.resolvePrefix(prefix);
      if (uri === undefined) throw this.fail('not_well_formed', `unbound namespace prefix "${prefix}" in <${name}>`);
      if (uri === COMPLIANCE_NAMESPACE) {
        this.capture(depth, Target.ComplianceField, name.slice(colon + 1));
        return;
      }
    }
    let field = this.fieldNames.get(name);
    if (field === undefined) {
      field = name.replace(/[-:.]/g, '_');
      // Bounded: a hostile file could use millions of distinct element names.
      if (this.fieldNames.size < 10_000) this.fieldNames.set(name, field);
    }
    this.capture(depth, Target.ItemField, field);
  }

  private declareNamespace(depth: number, prefix: string, uri: string): void {
    const top = this.namespaceScopes[this.namespaceScopes.length - 1];
    if (top !== undefined && top.depth === depth + 1) top.prefixes.set(prefix, uri);
    else this.namespaceScopes.push({ depth: depth + 1, prefixes: new Map([[prefix, uri]]) });
  }

  private resolvePrefix(prefix: string): string | undefined {
    if (prefix === 'xml') return 'http://www.w3.org/XML/1998/namespace';
    for (let i = this.namespaceScopes.length - 1; i >= 0; i--) {
      const uri = this.namespaceScopes[i]!.prefixes.get(prefix);
      if (uri !== undefined) return uri;
    }
    return undefined;
  }

  private capture(depth: number, target: Target, name: string): void {
    this.captureDepth = depth + 1;
    this.captureTarget = target;
    this.captureName = name;
    this.captureText = '';
    this.captureDropped = false;
  }

  private text(text: string): void {
    if (this.stack.length !== this.captureDepth) return;
    const room = this.maxFieldChars + 1 - this.captureText.length;
    if (text.length <= room) this.captureText += text;
    else {
      if (room > 0) this.captureText += text.slice(0, room);
      this.captureDropped = true;
    }
  }

  private close(): void {
    const depth = this.stack.length;
    const ctx = this.stack.pop();
    if (this.namespaceScopes.length > 0 && this.namespaceScopes[this.namespaceScopes.length - 1]!.depth === depth) {
      this.namespaceScopes.pop();
    }
    if (depth === this.captureDepth) {
      this.captureDepth = -1;
      this.finishCapture();
      return;
    }
    switch (ctx) {
      case Ctx.Preference:
        if (this.prefName !== null) this.keepPreference(this.prefName, this.prefValue ?? '');
        break;
      case Ctx.HostProps:
        this.emitHostOnce();
        break;
      case Ctx.Item:
        this.finishItem();
        break;
      case Ctx.Host:
        this.emitHostOnce();
        this.host = null;
        break;
      case Ctx.Root:
        if (!this.scanEmitted) this.emitScan(null, null);
        break;
      default:
        break;
    }
  }

  private finishCapture(): void {
    let text = this.captureText;
    let truncated = this.captureDropped || text.length > this.maxFieldChars;
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so only long text needs measuring.
    if (!truncated && text.length * 3 > this.maxFieldBytes && Buffer.byteLength(text) > this.maxFieldBytes) truncated = true;
    if (truncated) {
      text = cutToBytes(text, this.maxFieldBytes) + TRUNCATION_MARKER(this.maxFieldBytes);
      this.truncatedFields += 1;
    }
    const name = this.captureName;
    switch (this.captureTarget) {
      case Target.ItemField: {
        const item = this.item;
        if (item === null) return;
        const existing = item.children.get(name);
        if (existing === undefined) item.children.set(name, [text]);
        else existing.push(text);
        if (truncated) item.truncated.push(name);
        return;
      }
      case Target.ComplianceField: {
        const item = this.item;
        if (item === null) return;
        item.compliance ??= new Map();
        const existing = item.compliance.get(name);
        item.compliance.set(name, existing === undefined ? text : `${existing}\n${text}`);
        if (truncated) item.truncated.push(`compliance.${name.replace(/^compliance-/, '').replace(/-/g, '_')}`);
        return;
      }
      case Target.HostTag:
        setOwn(this.hostProps, name, text);
        return;
      case Target.PolicyName:
        this.policyName = text;
        return;
      case Target.PreferenceName:
        this.prefName = text.trim();
        return;
      case Target.PreferenceValue:
        this.prefValue = text;
        return;
      case Target.ServerPrefDirect:
        this.keepPreference(name, text);
        return;
    }
  }

  private keepPreference(name: string, value: string): void {
    if (name === 'plugin_set') {
      let count = 0;
      for (const id of value.split(';')) if (id.trim() !== '') count += 1;
      this.pluginCount = count;
    } else if (KEPT_PREFERENCES.has(name)) {
      this.preferences[name] = value.trim();
    }
  }

  private emitScan(reportName: string | null, reportType: string | null): void {
    if (this.scanEmitted || this.mode === 'block') return;
    this.scanEmitted = true;
    this.events.push({ type: 'scan', scan: this.scanInfo(reportName, reportType) });
  }

  private startHost(name: string): void {
    this.hostName = name;
    this.hostProps = {};
    this.host = null;
    this.repeats = new Map();
  }

  /**
   * Nessus writes HostProperties before the items; the host is announced when they end (or at
   * the first item, for a host without properties) so every finding carries its host context.
   */
  private emitHostOnce(): void {
    if (this.host !== null) return;
    const host = buildHost(this.hostName, this.hostProps);
    this.host = host;
    this.events.push({ type: 'host', host });
  }

  private finishItem(): void {
    const item = this.item;
    const host = this.host;
    this.item = null;
    if (item === null || host === null) return;
    const finding = buildFinding(item, host);
    const keyText = findingKeyText({
      host: finding.host,
      hostOccurrence: 0,
      port: finding.port,
      protocol: finding.protocol,
      pluginId: finding.plugin_id,
      complianceCheckId: finding.compliance?.check_id ?? null,
    });
    const repeat = this.repeats.get(keyText) ?? 0;
    this.repeats.set(keyText, repeat + 1);
    finding.finding_id = findingId(keyText, repeat);
    this.events.push({ type: 'finding', finding, repeat });
  }
}

const utf8 = new TextEncoder();

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
function cutToBytes(text: string, maxBytes: number): string {
  const bytes = utf8.encode(text.length > maxBytes ? text.slice(0, maxBytes) : text);
  if (bytes.length <= maxBytes) return text.slice(0, maxBytes);
  // `stream: true` holds back a trailing partial character instead of emitting U+FFFD.
  return new TextDecoder().decode(bytes.subarray(0, maxBytes), { stream: true });
}
