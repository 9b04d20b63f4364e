import { describe, expect, it } from '@jest/globals';
import { extractHostTemplates, loadHostTemplates, templateByteLength } from '../src/host-templates.js';

describe('host templates from the bundled fixtures', () => {
  const templates = loadHostTemplates();

  it('cuts every ReportHost of the three fixtures, smallest first', () => {
    expect(templates).toHaveLength(5);
    const sizes = templates.map(templateByteLength);
    expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
    expect(templates[0]?.source).toBe('savon-noir_python-libnessus__nessus_report_local_3.nessus#192.168.2.104');
  });

  it('keeps one credentialed-checks slot per host and drops the credential outcome plugins', () => {
    for (const template of templates) {
      expect(template.body.filter((part) => part === 'credentialed_checks')).toHaveLength(1);
      expect(template.plugins.some((plugin) => [21745, 104410, 110385, 141118].includes(plugin.pluginId))).toBe(false);
      expect(template.plugins.some((plugin) => plugin.pluginId === 19506)).toBe(true);
    }
  });

  it('counts ReportItems by severity as the fixtures hold them', () => {
    const libnessus = templates.filter((template) => template.source.startsWith('savon-noir'));
    // MANIFEST: 2 / 31 / 73 items per host; one 21745 item each is removed from the last two.
    expect(libnessus.map((template) => template.plugins.length).sort((a, b) => a - b)).toEqual([2, 30, 72]);
  });

  it('refuses a fixture host without a Nessus Scan Information item', () => {
    const xml = '<ReportHost name="h"><HostProperties><tag name="host-ip">1.2.3.4</tag></HostProperties></ReportHost>';
    expect(() => extractHostTemplates(xml, 'bad.nessus')).toThrow('no plugin 19506');
  });
});
