/**
 * Drift between repeated scans of a target, the way a real network changes from one week to the
 * next: some findings fixed, some new, some severities changed, an occasional host down. The
 * first scan of a target is its template as is; scan n (n >= 2) applies edits decided only by
 * (target address, n, item ordinal), so a rerun of the same sequence exports the same bytes.
 *
 * With rate r: each item is dropped with probability r/2 and has its severity moved by one
 * with probability r/2; with probability r/2 a copy of it appears on another port (a new
 * finding); the host is down (absent from the export) with probability r/4. The Nessus Scan
 * Information item (19506) is never touched: it describes the scan, not the host.
 */

/** Deterministic uniform value in [0, 1) for the given parts (FNV-1a, then an avalanche). */
export function driftRandom(...parts: readonly (string | number)[]): number {
  let hash = 0x811c9dc5;
  const text = parts.join('\u0000');
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}

/** Whether the host is down in scan `run` of it. */
export function hostDown(target: string, run: number, rate: number): boolean {
  return rate > 0 && run > 1 && driftRandom(target, run, 'down') < rate / 4;
}

const ITEM_RE = /<ReportItem\b([^>]*)>[\s\S]*?<\/ReportItem>\s*/g;
const SCAN_INFO_PLUGIN = '19506';

function attribute(attributes: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(attributes)?.[1];
}

/** The ReportItems of one host in scan `run` of it (`items` is the host's items as exported the first time). */
export function driftItems(items: string, target: string, run: number, rate: number): string {
  if (rate <= 0 || run <= 1) return items;
  const present = new Set<string>();
  for (const match of items.matchAll(ITEM_RE)) {
    const attributes = match[1] ?? '';
    present.add(`${attribute(attributes, 'port')}/${attribute(attributes, 'protocol')}/${attribute(attributes, 'pluginID')}`);
  }
  let ordinal = 0;
  const added: string[] = [];
  const edited = items.replace(ITEM_RE, (item: string, attributes: string) => {
    const at = ordinal++;
    const plugin = attribute(attributes, 'pluginID') ?? '';
    if (plugin === SCAN_INFO_PLUGIN) return item;
    const roll = driftRandom(target, run, at, 'item');
    if (driftRandom(target, run, at, 'new') < rate / 2) {
      const port = Number(attribute(attributes, 'port') ?? 0);
      const moved = 1024 + ((port + 1 + Math.floor(driftRandom(target, run, at, 'port') * 30_000)) % 60_000);
      const key = `${moved}/${attribute(attributes, 'protocol')}/${plugin}`;
      if (moved !== port && !present.has(key)) {
        present.add(key);
        added.push(item.replace(/\bport="\d+"/, `port="${moved}"`));
      }
    }
    if (roll < rate / 2) return '';
    if (roll < rate) {
      return item.replace(/\bseverity="(\d)"/, (_whole, value: string) => {
        const severity = Number(value);
        return `severity="${severity >= 4 ? 3 : severity + 1}"`;
      });
    }
    return item;
  });
  return edited + added.join('');
}
