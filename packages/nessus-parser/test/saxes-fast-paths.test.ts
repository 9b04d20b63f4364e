import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { SaxesParser } from 'saxes';
import { installSaxesFastPaths } from '../src/saxes-fast-paths.js';
import { chunked, MALFORMED_SAMPLE, nessusXml, sample, V1_SAMPLE, WELL_FORMED_SAMPLES } from './nessus-documents.js';

/** Every event saxes reports, with the position it reports it at. */
function trace(chunks: Iterable<Uint8Array>, fast: boolean): string[] {
  const parser = new SaxesParser({ xmlns: false, position: true });
  if (fast) expect(installSaxesFastPaths(parser)).toBe(true);
  const out: string[] = [];
  const at = () => `${parser.line}:${parser.column}`;
  parser.on('opentag', (tag) => out.push(`open ${tag.name} ${JSON.stringify(tag.attributes)} ${at()}`));
  parser.on('closetag', (tag) => out.push(`close ${tag.name} ${at()}`));
  parser.on('text', (text) => out.push(`text ${JSON.stringify(text)} ${at()}`));
  parser.on('cdata', (text) => out.push(`cdata ${JSON.stringify(text)} ${at()}`));
  parser.on('comment', (text) => out.push(`comment ${JSON.stringify(text)} ${at()}`));
  parser.on('error', (error) => out.push(`error ${error.message}`));
  const decoder = new TextDecoder();
  for (const chunk of chunks) parser.write(decoder.decode(chunk, { stream: true }));
  parser.write(decoder.decode());
  parser.close();
  return out;
}

const TRICKY = Buffer.from(
  `${nessusXml([
    {
      name: 'ünï',
      items: [
        {
          children: [['plugin_output', '日本語 😀 & <tag> "q" ]] ] > ->\n\ttab']],
          raw: '<!-- c --><description><![CDATA[]]]]><![CDATA[>]]></description><x a="1&amp;2" b=\'>\'/>',
        },
      ],
    },
  ])}`.replace(/\n/g, '\r\n') + '\r<!-- lone CR above -->',
);
const BAD_TEXT = Buffer.from('<r>ok ]]> bad \u0001 <a-b.c:d_e f="1"/>\uD800x</r>');
const XML11 = Buffer.from('<?xml version="1.1"?><r>line\u0085next\u2028</r>');

describe('saxes fast paths', () => {
  it.each([...WELL_FORMED_SAMPLES.map(sample), MALFORMED_SAMPLE, V1_SAMPLE])('report exactly what plain saxes reports for %s', (file) => {
    const bytes = readFileSync(file);
    expect(trace([bytes], true)).toEqual(trace([bytes], false));
  });

  it.each([
    ['CRLF, CR, CDATA, comments, entities and astral characters', TRICKY],
    ['forbidden characters and "]]>" in text', BAD_TEXT],
    ['an XML 1.1 document', XML11],
  ])('report exactly what plain saxes reports for %s, however the input is chunked', (_name, bytes) => {
    const expected = trace([bytes], false);
    expect(trace([bytes], true)).toEqual(expected);
    for (const max of [1, 3, 7]) expect(trace(chunked(bytes, max), true)).toEqual(trace(chunked(bytes, max), false));
  });
});
