import { describe, expect, it } from '@jest/globals';
import { collect, nessusXml, parseText, sample } from './nessus-documents.js';

describe('scan metadata', () => {
  it('reports the report name, policy name, TARGET and plugin count before any host', async () => {
    const { events, scan } = await parseText(
      nessusXml([{ name: 'a', items: [{}] }], {
        reportName: 'Weekly DMZ',
        preferences: { TARGET: '192.0.2.0/24, 198.51.100.7', plugin_set: '10001;10002;10003;', whoami: 'scanner', bw_prevent_core_updates: 'yes' },
      }),
    );
    expect(events[0]?.type).toBe('scan');
    expect(scan).toEqual({
      report_name: 'Weekly DMZ',
      policy_name: 'Test policy',
      report_type: null,
      plugin_count: 3,
      preferences: { TARGET: '192.0.2.0/24, 198.51.100.7', whoami: 'scanner' },
      targets: ['192.0.2.0/24', '198.51.100.7'],
    });
  });

  it('gives the earliest host start and latest host end in the summary', async () => {
    const { summary } = await parseText(
      nessusXml([
        { name: 'a', properties: { HOST_START: 'Thu Mar 20 00:30:57 2014', HOST_END: 'Thu Mar 20 01:22:17 2014' } },
        { name: 'b', properties: { HOST_START: 'Thu Mar 20 00:10:00 2014', HOST_END: 'Thu Mar 20 00:50:00 2014' } },
      ]),
    );
    expect(summary).toMatchObject({ scan_start: '2014-03-20T00:10:00.000Z', scan_end: '2014-03-20T01:22:17.000Z' });
  });
});

describe('hosts', () => {
  it('reads every HostProperties tag, typing the well-known ones', async () => {
    const { hosts } = await parseText(
      nessusXml([
        {
          name: '192.0.2.10',
          properties: {
            'host-ip': '192.0.2.10',
            'host-fqdn': 'db.example.org',
            'netbios-name': 'DB01',
            'operating-system': 'Microsoft Windows Server 2019',
            'mac-address': '00:50:56:aa:bb:cc',
            HOST_START: 'Wed Mar 24 21:03:39 2021',
            HOST_END: 'Wed Mar 24 22:01:47 2021',
            Credentialed_Scan: 'true',
            'cpe-0': 'cpe:/o:microsoft:windows',
            'cpe-1': 'cpe:/a:microsoft:iis:10.0',
            'patch-summary-total-cves': '43',
            'policy-used': 'Advanced',
          },
        },
      ]),
    );
    expect(hosts[0]).toMatchObject({
      index: 0,
      occurrence: 0,
      name: '192.0.2.10',
      host_ip: '192.0.2.10',
      host_fqdn: 'db.example.org',
      netbios_name: 'DB01',
      operating_system: 'Microsoft Windows Server 2019',
      mac_address: '00:50:56:aa:bb:cc',
      host_start: '2021-03-24T21:03:39.000Z',
      host_end: '2021-03-24T22:01:47.000Z',
      credentialed_scan: true,
      cpe: ['cpe:/o:microsoft:windows', 'cpe:/a:microsoft:iis:10.0'],
    });
    expect(hosts[0]?.properties).toMatchObject({ 'cpe-0': 'cpe:/o:microsoft:windows', 'patch-summary-total-cves': '43', 'policy-used': 'Advanced' });
  });

  it('prefers HOST_START_TIMESTAMP when the scanner wrote one', async () => {
    const { hosts } = await parseText(nessusXml([{ name: 'a', properties: { HOST_START: 'Wed Mar 24 23:03:39 2021', HOST_START_TIMESTAMP: '1616619819' } }]));
    expect(hosts[0]?.host_start).toBe('2021-03-24T21:03:39.000Z');
  });

  it('keeps two ReportHost blocks with the same name as two hosts with distinct finding ids', async () => {
    const { hosts, findings } = await parseText(
      nessusXml([
        { name: 'dup.example.org', items: [{ attrs: { pluginID: '1' } }] },
        { name: 'dup.example.org', items: [{ attrs: { pluginID: '1' } }] },
      ]),
    );
    expect(hosts.map((h) => [h.index, h.occurrence])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(findings.map((f) => f.host_index)).toEqual([0, 1]);
    expect(findings[0]?.finding_id).not.toBe(findings[1]?.finding_id);
  });

  it('announces a host that has no HostProperties before its findings', async () => {
    const xml = nessusXml([]).replace(
      '</Report>',
      '<ReportHost name="bare"><ReportItem port="0" protocol="tcp" severity="0" pluginID="1" pluginName="x" pluginFamily="y"/></ReportHost></Report>',
    );
    const { events } = await parseText(xml);
    expect(events.map((e) => e.type)).toEqual(['scan', 'host', 'finding', 'end']);
  });
});

describe('findings', () => {
  it('yields one finding per ReportItem, never merging items of the same plugin', async () => {
    const { findings } = await parseText(
      nessusXml([
        {
          name: 'a',
          items: [{ attrs: { pluginID: '14272', port: '22' } }, { attrs: { pluginID: '14272', port: '80' } }, { attrs: { pluginID: '14272', port: '80' } }],
        },
      ]),
    );
    expect(findings.map((f) => [f.plugin_id, f.port])).toEqual([
      [14272, 22],
      [14272, 80],
      [14272, 80],
    ]);
    expect(new Set(findings.map((f) => f.finding_id)).size).toBe(3);
    expect(findings.map((f) => f.index)).toEqual([0, 1, 2]);
  });

  it('gives the same finding ids on every run of the same file', async () => {
    const first = await collect(sample('mitre_saf__nessus_sample.nessus'));
    const second = await collect(sample('mitre_saf__nessus_sample.nessus'));
    const ids = first.findings.map((f) => f.finding_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(second.findings.map((f) => f.finding_id)).toEqual(ids);
  });

  it('gives compliance checks of one plugin on one host distinct ids', async () => {
    const { findings } = await collect(sample('mitre_saf__nessus_sample.nessus'));
    const checks = findings.filter((f) => f.compliance !== null);
    expect(checks).toHaveLength(381);
    expect(new Set(checks.map((f) => f.finding_id)).size).toBe(381);
  });
});

describe('degenerate reports', () => {
  it('reads an empty report: scan metadata and zero counts', async () => {
    const { scan, hosts, findings, summary } = await parseText(nessusXml([]));
    expect(scan?.report_name).toBe('Test report');
    expect(hosts).toEqual([]);
    expect(findings).toEqual([]);
    expect(summary).toMatchObject({ hosts: 0, findings: 0, by_severity: { '0': 0, '1': 0, '2': 0, '3': 0, '4': 0 } });
  });

  it('counts a host with no items as a host', async () => {
    const { summary } = await parseText(nessusXml([{ name: 'quiet', properties: { 'host-ip': '192.0.2.1' } }]));
    expect(summary).toMatchObject({ hosts: 1, findings: 0 });
  });

  it('reads an informational-only report', async () => {
    const { summary, findings } = await parseText(
      nessusXml([{ name: 'a', items: [{ attrs: { severity: '0' }, children: [['risk_factor', 'None']] }, { attrs: { severity: '0', pluginID: '2' } }] }]),
    );
    expect(summary?.by_severity).toEqual({ '0': 2, '1': 0, '2': 0, '3': 0, '4': 0 });
    expect(findings.every((f) => f.severity === 0)).toBe(true);
  });
});
