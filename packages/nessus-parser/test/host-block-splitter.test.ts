import { describe, expect, it } from '@jest/globals';
import { HostBlockSplitter } from '../src/host-block-splitter.js';
import { chunked } from './nessus-documents.js';

interface Split {
  skeleton: string;
  blocks: string[];
}

function split(text: string, maxChunk?: number): Split {
  const out: Split = { skeleton: '', blocks: [] };
  let block: string | null = null;
  const decoder = new TextDecoder();
  const blockDecoder = new TextDecoder();
  const splitter = new HostBlockSplitter({
    skeleton: (bytes) => (out.skeleton += decoder.decode(bytes, { stream: true })),
    blockStart: () => (block = ''),
    blockData: (bytes) => (block += blockDecoder.decode(bytes, { stream: true })),
    blockEnd: () => {
      out.blocks.push(block ?? '');
      out.skeleton += '<ReportHost/>';
      block = null;
    },
  });
  const bytes = Buffer.from(text);
  for (const chunk of maxChunk === undefined ? [bytes] : chunked(bytes, maxChunk)) splitter.push(chunk);
  splitter.finish();
  return out;
}

const HOST_A = '<ReportHost name="a"><ReportItem pluginID="1"/></ReportHost>';
const HOST_B = '<ReportHost name="b>c" other=\'x\'><!-- </ReportHost> --><x><![CDATA[</ReportHost>]]></x></ReportHost >';

describe('HostBlockSplitter', () => {
  const doc = `<?xml version="1.0"?><?pi <ReportHost name="in pi">?><!-- <ReportHost name="in comment"> --><NessusClientData_v2><Report>\n${HOST_A}\n${HOST_B}<ReportHost name="empty"/><ReportHostsExtra/></Report></NessusClientData_v2>`;

  it('cuts out each ReportHost element whole, leaving a placeholder in the skeleton', () => {
    const { skeleton, blocks } = split(doc);
    expect(blocks).toEqual([HOST_A, HOST_B, '<ReportHost name="empty"/>']);
    expect(skeleton).toBe(
      '<?xml version="1.0"?><?pi <ReportHost name="in pi">?><!-- <ReportHost name="in comment"> --><NessusClientData_v2><Report>\n<ReportHost/>\n<ReportHost/><ReportHost/><ReportHostsExtra/></Report></NessusClientData_v2>',
    );
  });

  it('gives the same cut however the bytes are chunked', () => {
    const whole = split(doc);
    for (const max of [1, 2, 3, 5, 7, 13]) expect(split(doc, max)).toEqual(whole);
  });

  it('cuts a host short at a processing instruction hiding </ReportHost>, leaving its parser to fail', () => {
    const { blocks } = split('<Report><ReportHost name="a"><?pi </ReportHost>?></ReportHost></Report>');
    expect(blocks[0]).toBe('<ReportHost name="a"><?pi </ReportHost>');
  });

  it('hands over an unterminated block so the parser can report it', () => {
    const { blocks } = split('<Report><ReportHost name="a"><ReportItem>');
    expect(blocks).toEqual([]);
    const partial: string[] = [];
    const splitter = new HostBlockSplitter({
      skeleton: () => undefined,
      blockStart: () => partial.push(''),
      blockData: (bytes) => (partial[partial.length - 1] += Buffer.from(bytes).toString()),
      blockEnd: () => undefined,
    });
    splitter.push(Buffer.from('<Report><ReportHost name="a"><ReportItem>'));
    splitter.finish();
    expect(partial).toEqual(['<ReportHost name="a"><ReportItem>']);
    expect(splitter.insideBlock).toBe(true);
  });
});
