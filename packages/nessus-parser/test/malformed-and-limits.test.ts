import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { NessusParseError } from '../src/errors.js';
import { chunked, collect, escapeXml, MALFORMED_SAMPLE, nessusXml, onlyFinding, parseText, sample, V1_SAMPLE } from './nessus-documents.js';

const expectParseError = (error: unknown, reason: string, line: number | null): NessusParseError => {
  expect(error).toBeInstanceOf(NessusParseError);
  const parseError = error as NessusParseError;
  expect(parseError.reason).toBe(reason);
  expect(parseError.line).toBe(line);
  expect(parseError.code).toBe('invalid_argument');
  expect(parseError.message).not.toContain('\n');
  return parseError;
};

const fromString = (xml: string) => collect([Buffer.from(xml)]);

describe('files that are not Nessus v2 exports', () => {
  it('names the line of the malformed tag in a broken export', async () => {
    const { error, findings } = await collect(MALFORMED_SAMPLE);
    const parseError = expectParseError(error, 'not_well_formed', 1488);
    expect(parseError.message).toMatch(/^line 1488: /);
    // Items completed before the fault were handed out whole; nothing after it.
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => Number.isInteger(f.plugin_id) && f.host === 'snorby.org')).toBe(true);
  });

  it('refuses the legacy v1 format by name', async () => {
    const { error, findings } = await collect(V1_SAMPLE);
    expect(expectParseError(error, 'unsupported_format', 2).message).toContain('legacy Nessus v1');
    expect(findings).toEqual([]);
  });

  it('refuses another XML document', async () => {
    const { error } = await fromString('<?xml version="1.0"?>\n<html><body/></html>');
    expect(expectParseError(error, 'not_nessus', 2).message).toContain('<html>');
  });

  it('refuses an empty file', async () => {
    expectParseError((await fromString('')).error, 'not_nessus', 1);
  });

  it('reports a file cut short inside a host, after yielding the complete items', async () => {
    const xml = nessusXml([{ name: 'a', items: [{}, {}] }]);
    const cut = xml.slice(0, xml.lastIndexOf('</ReportItem>'));
    const { error, findings } = await fromString(cut);
    expect(expectParseError(error, 'not_well_formed', cut.split('\n').length).message).toMatch(/unclosed/);
    expect(findings).toHaveLength(1);
  });

  it('reports a missing file without a stack trace', async () => {
    const { error } = await collect('/nonexistent/scan.nessus');
    expect(expectParseError(error, 'unreadable', null).message).toBe('/nonexistent/scan.nessus: no such file');
  });
});

describe('safety', () => {
  it('never expands DTD entities (no billion laughs, no external files)', async () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE NessusClientData_v2 [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;"><!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<NessusClientData_v2><Report name="r"><ReportHost name="a"><ReportItem port="0" protocol="tcp" severity="0" pluginID="1" pluginName="x" pluginFamily="y"><plugin_output>&lol2;&xxe;</plugin_output></ReportItem></ReportHost></Report></NessusClientData_v2>`;
    const { error, findings } = await fromString(lol);
    expectParseError(error, 'not_well_formed', 3);
    expect(findings).toEqual([]);
  });

  it('cuts a text field at the cap, marks it and counts it', async () => {
    const long = 'A'.repeat(5000);
    const { findings, summary } = await collect(
      [
        Buffer.from(
          nessusXml([
            {
              name: 'a',
              items: [
                {
                  children: [
                    ['plugin_output', long],
                    ['synopsis', 'short'],
                  ],
                },
              ],
            },
          ]),
        ),
      ],
      {
        workers: 0,
        maxFieldBytes: 1024,
      },
    );
    const output = findings[0]?.plugin_output as string;
    expect(output.startsWith('A'.repeat(1024))).toBe(true);
    expect(output).toContain('[truncated by nessus-parser at 1024 bytes]');
    expect(output.length).toBeLessThan(1100);
    expect(findings[0]?.truncated_fields).toEqual(['plugin_output']);
    expect(findings[0]?.synopsis).toBe('short');
    expect(summary?.truncated_fields).toBe(1);
  });

  it('never cuts a multi-byte character in half', async () => {
    const { findings } = await collect([Buffer.from(nessusXml([{ name: 'a', items: [{ children: [['description', 'é'.repeat(100)]] }] }]))], {
      workers: 0,
      maxFieldBytes: 65,
    });
    const description = findings[0]?.description as string;
    expect(description.startsWith('é'.repeat(32))).toBe(true);
    expect(description).not.toContain('\uFFFD');
  });

  it('keeps a text field exactly at the cap untouched', async () => {
    const { findings } = await collect([Buffer.from(nessusXml([{ name: 'a', items: [{ children: [['plugin_output', 'B'.repeat(1024)]] }] }]))], {
      workers: 0,
      maxFieldBytes: 1024,
    });
    expect(findings[0]?.plugin_output).toBe('B'.repeat(1024));
    expect(findings[0]).not.toHaveProperty('truncated_fields');
  });

  it('refuses elements nested deeper than the cap', async () => {
    const deep = `${'<x>'.repeat(40)}${'</x>'.repeat(40)}`;
    const xml = nessusXml([{ name: 'a', items: [{ raw: deep }] }]);
    const { error, findings } = await collect([Buffer.from(xml)], { workers: 0, maxDepth: 32 });
    expectParseError(error, 'too_deep', xml.split('\n').findIndex((line) => line.includes('<x>')) + 1);
    expect(findings).toEqual([]);
  });
});

describe('text round trip', () => {
  it('decodes multi-byte UTF-8, CRLF line ends, CDATA and the five XML entities', async () => {
    const xml = nessusXml([
      {
        name: 'hôte-ünïcode',
        items: [{ raw: '\n<plugin_output><![CDATA[<raw> & </ReportHost> ]]>after &amp; &lt; &gt; &quot; &apos;\n日本語 😀</plugin_output>' }],
      },
    ]).replace(/\n/g, '\r\n');
    const finding = await onlyFinding(xml);
    expect(finding.host).toBe('hôte-ünïcode');
    expect(finding.plugin_output).toBe('<raw> & </ReportHost> after & < > " \'\n日本語 😀');
  });

  it('reads the same findings whatever the chunk boundaries (1 to 7 bytes at a time)', async () => {
    const tricky = nessusXml([
      {
        name: 'ünï',
        items: [
          {
            children: [
              ['plugin_output', '日本語 😀 & <tag> "q"\n'],
              ['cve', 'CVE-1'],
            ],
            raw: '<!-- </ReportHost> --><description><![CDATA[</ReportItem>]]></description>',
          },
        ],
      },
      { name: 'b', items: [{}] },
    ]).replace(/\n/g, '\r\n');
    for (const source of [
      Buffer.from(tricky),
      readFileSync(sample('savon-noir_python-libnessus__nessus_report_local_3.nessus')),
      readFileSync(sample('DefectDojo_django-DefectDojo__nessus_was_many_vuln.xml')),
    ]) {
      const whole = await collect([source]);
      expect(whole.error).toBeNull();
      const pieces = await collect(chunked(source, 7));
      expect(pieces.error).toBeNull();
      expect(pieces.events).toEqual(whole.events);
    }
  });

  it('reads a byte-order mark at the start of the file', async () => {
    const { findings } = await parseText(`\uFEFF${nessusXml([{ name: 'a', items: [{}] }])}`);
    expect(findings).toHaveLength(1);
  });

  it('escapes nothing on the way out: attribute entities come back decoded', async () => {
    const { hosts } = await parseText(nessusXml([{ name: 'a&b <c>', items: [] }]));
    expect(hosts[0]?.name).toBe('a&b <c>');
    expect(escapeXml(hosts[0]!.name)).toBe('a&amp;b &lt;c&gt;');
  });
});
