import { describe, expect, it } from '@jest/globals';
import { nessusXml, onlyFinding, parseText } from './nessus-documents.js';

const host = (children: Array<[string, string]>, attrs: Record<string, string> = {}, raw = '') =>
  nessusXml([{ name: '192.0.2.10', properties: { 'host-ip': '192.0.2.10' }, items: [{ attrs, children, raw }] }]);

describe('ReportItem attributes', () => {
  it('types port, plugin id and severity as numbers and lower-cases the protocol', async () => {
    const finding = await onlyFinding(host([], { port: '8443', protocol: 'UDP', pluginID: '56310', severity: '4', svc_name: 'https?' }));
    expect(finding).toMatchObject({ port: 8443, protocol: 'udp', plugin_id: 56310, severity: 4, svc_name: 'https?' });
    expect(finding.plugin_name).toBe('Test plugin');
    expect(finding.plugin_family).toBe('General');
  });
});

describe('repeated children', () => {
  it('keeps every cve, bid, xref, cwe, iava and msft as arrays in document order', async () => {
    const finding = await onlyFinding(
      host([
        ['cve', 'CVE-2021-0001'],
        ['cve', 'CVE-2021-0002'],
        ['bid', '100'],
        ['bid', '200'],
        ['xref', 'CWE:79'],
        ['xref', 'OWASP:2017-A7'],
        ['cwe', '79'],
        ['iava', '2021-A-0001'],
        ['iavb', '2021-B-0002'],
        ['iavt', '2021-T-0003'],
        ['msft', 'MS17-010'],
        ['mskb', '4012212'],
        ['osvdb', '1234'],
        ['cpe', 'cpe:/a:openbsd:openssh'],
        ['edb-id', '41987'],
        ['cert', '123456'],
      ]),
    );
    expect(finding.cve).toEqual(['CVE-2021-0001', 'CVE-2021-0002']);
    expect(finding.bid).toEqual(['100', '200']);
    expect(finding.xref).toEqual(['CWE:79', 'OWASP:2017-A7']);
    expect(finding.cwe).toEqual(['79']);
    expect(finding.iava).toEqual(['2021-A-0001']);
    expect(finding.iavb).toEqual(['2021-B-0002']);
    expect(finding.iavt).toEqual(['2021-T-0003']);
    expect(finding.msft).toEqual(['MS17-010']);
    expect(finding.mskb).toEqual(['4012212']);
    expect(finding.osvdb).toEqual(['1234']);
    expect(finding.cpe).toEqual(['cpe:/a:openbsd:openssh']);
    expect(finding.edb_id).toEqual(['41987']);
    expect(finding.cert).toEqual(['123456']);
  });

  it('splits see_also on new lines and joins repeated see_also elements', async () => {
    const finding = await onlyFinding(
      host([
        ['see_also', 'https://a.example/1\nhttps://a.example/2\n'],
        ['see_also', 'https://b.example/'],
      ]),
    );
    expect(finding.see_also).toEqual(['https://a.example/1', 'https://a.example/2', 'https://b.example/']);
  });

  it('gives an item without CVEs an empty cve list', async () => {
    expect((await onlyFinding(host([]))).cve).toEqual([]);
  });

  it('keeps an element named __proto__ as a field, leaving the finding a plain object', async () => {
    const finding = await onlyFinding(
      host([
        ['__proto__', 'a'],
        ['__proto__', 'b'],
      ]),
    );
    expect(Object.getPrototypeOf(finding)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(finding, '__proto__')?.value).toEqual(['a', 'b']);
  });

  it('keeps an unknown element that repeats as a list instead of dropping values', async () => {
    const finding = await onlyFinding(
      host([
        ['new_nessus_field', 'one'],
        ['new_nessus_field', 'two'],
        ['other_new', 'x'],
      ]),
    );
    expect(finding.new_nessus_field).toEqual(['one', 'two']);
    expect(finding.other_new).toBe('x');
  });
});

describe('booleans', () => {
  it('turns exploit flags into booleans', async () => {
    const finding = await onlyFinding(
      host([
        ['exploit_available', 'true'],
        ['exploited_by_malware', 'false'],
        ['exploited_by_nessus', 'true'],
        ['exploit_framework_metasploit', 'true'],
        ['exploit_framework_core', 'false'],
        ['exploit_framework_canvas', 'true'],
        ['exploit_framework_brand_new', 'true'],
        ['in_the_news', 'true'],
        ['unsupported_by_vendor', 'false'],
      ]),
    );
    expect(finding).toMatchObject({
      exploit_available: true,
      exploited_by_malware: false,
      exploited_by_nessus: true,
      exploit_framework_metasploit: true,
      exploit_framework_core: false,
      exploit_framework_canvas: true,
      exploit_framework_brand_new: true,
      in_the_news: true,
      unsupported_by_vendor: false,
    });
  });

  it('leaves exploit_available null when the item does not say', async () => {
    expect((await onlyFinding(host([]))).exploit_available).toBeNull();
  });
});

describe('scores', () => {
  it('reads CVSS v2 and v3 scores as numbers with their vectors as strings', async () => {
    const finding = await onlyFinding(
      host([
        ['cvss_base_score', '7.5'],
        ['cvss_temporal_score', '6.5'],
        ['cvss_vector', 'CVSS2#AV:N/AC:L/Au:N/C:P/I:P/A:P'],
        ['cvss3_base_score', '9.8'],
        ['cvss3_temporal_score', '8.8'],
        ['cvss3_vector', 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
        ['vpr_score', '6.7'],
      ]),
    );
    expect(finding).toMatchObject({
      cvss_base_score: 7.5,
      cvss_temporal_score: 6.5,
      cvss_vector: 'CVSS2#AV:N/AC:L/Au:N/C:P/I:P/A:P',
      cvss3_base_score: 9.8,
      cvss3_temporal_score: 8.8,
      cvss3_vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      vpr_score: 6.7,
      cvss_score: 9.8,
      cvss_version: '3',
    });
  });

  it('prefers CVSS v4 for cvss_score and reads its threat score and vectors', async () => {
    const finding = await onlyFinding(
      host([
        ['cvss_base_score', '5.0'],
        ['cvss3_base_score', '6.1'],
        ['cvss4_base_score', '8.7'],
        ['cvss4_threat_score', '8.2'],
        ['cvss4_vector', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N'],
        ['cvss4_threat_vector', 'CVSS:4.0/E:P'],
      ]),
    );
    expect(finding).toMatchObject({
      cvss_score: 8.7,
      cvss_version: '4',
      cvss4_base_score: 8.7,
      cvss4_threat_score: 8.2,
      cvss4_vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N',
      cvss4_threat_vector: 'CVSS:4.0/E:P',
      cvss3_base_score: 6.1,
      cvss_base_score: 5,
    });
  });

  it('falls back to CVSS v2 and has no cvss_score when no version is present', async () => {
    expect(await onlyFinding(host([['cvss_base_score', '4.3']]))).toMatchObject({ cvss_score: 4.3, cvss_version: '2' });
    expect(await onlyFinding(host([]))).toMatchObject({ cvss_score: null, cvss_version: null });
  });

  it('keeps both the severity attribute and a CVSS v3 score that disagrees with it', async () => {
    const finding = await onlyFinding(
      host(
        [
          ['cvss3_base_score', '9.8'],
          ['risk_factor', 'Critical'],
        ],
        { severity: '1' },
      ),
    );
    expect(finding.severity).toBe(1);
    expect(finding.cvss3_base_score).toBe(9.8);
    expect(finding.risk_factor).toBe('Critical');
  });

  it('reads EPSS as a 0-1 number', async () => {
    expect((await onlyFinding(host([['epss_score', '0.97565']]))).epss_score).toBe(0.97565);
  });

  it('gives null for a score Nessus left empty or unreadable', async () => {
    const finding = await onlyFinding(
      host([
        ['cvss3_base_score', ''],
        ['vpr_score', 'n/a'],
      ]),
    );
    expect(finding.cvss3_base_score).toBeNull();
    expect(finding.vpr_score).toBeNull();
  });
});

describe('dates', () => {
  it('writes plugin and patch dates as ISO dates', async () => {
    const finding = await onlyFinding(
      host([
        ['plugin_publication_date', '2004/08/15'],
        ['plugin_modification_date', '2020/06/12'],
        ['patch_publication_date', '2017/3/14'],
        ['vuln_publication_date', '2017-03-31T00:00:00+00:00'],
        ['cisa-known-exploited', '2021/11/03'],
      ]),
    );
    expect(finding).toMatchObject({
      plugin_publication_date: '2004-08-15',
      plugin_modification_date: '2020-06-12',
      patch_publication_date: '2017-03-14',
      vuln_publication_date: '2017-03-31T00:00:00.000Z',
      cisa_known_exploited: '2021-11-03',
    });
  });
});

describe('CISA known exploited listing', () => {
  it('reads the listing date from a CISA-KNOWN-EXPLOITED xref when there is no element', async () => {
    const finding = await onlyFinding(
      host([
        ['xref', 'IAVA:2017-A-0065'],
        ['xref', 'CISA-KNOWN-EXPLOITED:2022/03/25'],
      ]),
    );
    expect(finding.cisa_known_exploited).toBe('2022-03-25');
    expect(finding.xref).toEqual(['IAVA:2017-A-0065', 'CISA-KNOWN-EXPLOITED:2022/03/25']);
  });

  it('prefers the cisa-known-exploited element over the xref', async () => {
    const finding = await onlyFinding(
      host([
        ['cisa-known-exploited', '2021/11/03'],
        ['xref', 'CISA-KNOWN-EXPLOITED:2022/03/25'],
      ]),
    );
    expect(finding.cisa_known_exploited).toBe('2021-11-03');
  });

  it('gives null on every finding that is not listed', async () => {
    const finding = await onlyFinding(
      host([
        ['xref', 'CWE:79'],
        ['xref', 'CISA-KNOWN-EXPLOITED:soon'],
      ]),
    );
    expect(finding).toHaveProperty('cisa_known_exploited', null);
  });
});

describe('text fields', () => {
  it('keeps synopsis, description, solution and plugin output as written', async () => {
    const finding = await onlyFinding(
      host([
        ['synopsis', 'S'],
        ['description', '  indented\n  text\n'],
        ['solution', 'Upgrade.'],
        ['plugin_output', '\nPort 22/tcp was found to be open\n'],
      ]),
    );
    expect(finding).toMatchObject({
      synopsis: 'S',
      description: '  indented\n  text\n',
      solution: 'Upgrade.',
      plugin_output: '\nPort 22/tcp was found to be open\n',
    });
  });

  it('normalises the risk factor spelling', async () => {
    expect((await onlyFinding(host([['risk_factor', 'high']]))).risk_factor).toBe('High');
    expect(await onlyFinding(host([['risk_factor', 'constructor']], { severity: '' }))).toMatchObject({ risk_factor: 'constructor', severity: 0 });
    expect((await onlyFinding(host([['risk_factor', 'None']]))).risk_factor).toBe('None');
  });

  it('carries the host context on every finding', async () => {
    const { findings } = await parseText(
      nessusXml([
        {
          name: 'web01',
          properties: { 'host-ip': '192.0.2.7', 'host-fqdn': 'web01.example.org', 'netbios-name': 'WEB01', 'operating-system': 'Linux Kernel 5.4' },
          items: [{}, { attrs: { port: '22' } }],
        },
      ]),
    );
    for (const finding of findings) {
      expect(finding).toMatchObject({
        host: 'web01',
        host_ip: '192.0.2.7',
        host_fqdn: 'web01.example.org',
        netbios_name: 'WEB01',
        operating_system: 'Linux Kernel 5.4',
      });
    }
  });
});

describe('compliance items', () => {
  const complianceItem = (result: string, severity: string) =>
    host(
      [],
      { pluginID: '21157', pluginName: 'Unix Compliance Checks', pluginFamily: 'Policy Compliance', severity, port: '0', protocol: '' },
      `<cm:compliance-check-name>1.1.1 Ensure cramfs is disabled</cm:compliance-check-name>
<cm:compliance-check-id>abc123</cm:compliance-check-id>
<cm:compliance-audit-file>CIS_Ubuntu_L2.audit</cm:compliance-audit-file>
<cm:compliance-result>${result}</cm:compliance-result>
<cm:compliance-actual-value>install cramfs /bin/false</cm:compliance-actual-value>
<cm:compliance-policy-value>expect: install cramfs /bin/true</cm:compliance-policy-value>
<cm:compliance-info>Disable unused file systems.</cm:compliance-info>
<cm:compliance-solution>Edit /etc/modprobe.d/cramfs.conf</cm:compliance-solution>
<cm:compliance-reference>800-53|CM-7,CSCv7|5.1</cm:compliance-reference>
<cm:compliance-see-also>https://workbench.cisecurity.org/files/2611</cm:compliance-see-also>
<cm:compliance-uname>Linux ip-10-10-23-102</cm:compliance-uname>`,
    );

  it('gathers cm:compliance-* elements into a compliance object', async () => {
    const finding = await onlyFinding(complianceItem('FAILED', '3'));
    expect(finding.compliance).toEqual({
      check_name: '1.1.1 Ensure cramfs is disabled',
      check_id: 'abc123',
      audit_file: 'CIS_Ubuntu_L2.audit',
      result: 'FAILED',
      actual_value: 'install cramfs /bin/false',
      policy_value: 'expect: install cramfs /bin/true',
      info: 'Disable unused file systems.',
      solution: 'Edit /etc/modprobe.d/cramfs.conf',
      reference: '800-53|CM-7,CSCv7|5.1',
      see_also: 'https://workbench.cisecurity.org/files/2611',
      other: { uname: 'Linux ip-10-10-23-102' },
    });
  });

  it('takes the result as written, never from the severity', async () => {
    expect((await onlyFinding(complianceItem('PASSED', '1'))).compliance?.result).toBe('PASSED');
    expect((await onlyFinding(complianceItem('WARNING', '3'))).compliance?.result).toBe('WARNING');
    expect((await onlyFinding(complianceItem('ERROR', '0'))).compliance?.result).toBe('ERROR');
  });

  it('recognises the compliance namespace by URI, whatever its prefix', async () => {
    const xml = host([], {}, '<audit:compliance-result xmlns:audit="http://www.nessus.org/cm">PASSED</audit:compliance-result>');
    expect((await onlyFinding(xml)).compliance?.result).toBe('PASSED');
  });

  it('gives ordinary vulnerability items a null compliance', async () => {
    expect((await onlyFinding(host([]))).compliance).toBeNull();
  });
});

describe('Web App Scanning dialect', () => {
  const was = `<?xml version="1.0" ?><NessusClientData_v2><Policy><policyName></policyName><Preferences><ServerPreferences><name>was scan</name><scanner_type>cloud</scanner_type></ServerPreferences></Preferences></Policy>
<Report xmlns:cm="http://www.nessus.org/cm" name="example.com" version="1.1" type="was"><ReportHost name="https://app.example.com/"><HostProperties><tag name="host-fqdn">https://app.example.com/</tag><tag name="HOST_START">2021-03-12T12:34:30.12031+00:00</tag></HostProperties>
<ReportItem pluginFamily="Cross Site Scripting" pluginName="Cross-Site Scripting (XSS)" pluginID="98104" severity="3" protocol="TCP" svc_name="http" port="443">
<plugin_name>Cross-Site Scripting (XSS)</plugin_name><risk_factor>high</risk_factor><cvss>7.5</cvss><cvssv3>7.1</cvssv3>
<see_also>https://owasp.org/xss</see_also><see_also>https://cwe.mitre.org/79</see_also><xref>CWE:79</xref><xref>OWASP:2017-A7</xref>
</ReportItem></ReportHost></Report></NessusClientData_v2>`;

  it('maps cvss/cvssv3, upper-case protocol and lower-case risk factor onto the standard fields', async () => {
    const { findings, hosts, scan } = await parseText(was);
    expect(findings[0]).toMatchObject({
      host: 'https://app.example.com/',
      host_ip: null,
      host_fqdn: 'app.example.com',
      protocol: 'tcp',
      port: 443,
      risk_factor: 'High',
      cvss_base_score: 7.5,
      cvss3_base_score: 7.1,
      cvss_score: 7.1,
      cvss_version: '3',
      see_also: ['https://owasp.org/xss', 'https://cwe.mitre.org/79'],
      xref: ['CWE:79', 'OWASP:2017-A7'],
      plugin_name: 'Cross-Site Scripting (XSS)',
    });
    expect(findings[0]).not.toHaveProperty('cvss');
    expect(findings[0]).not.toHaveProperty('cvssv3');
    expect(hosts[0]).toMatchObject({ host_ip: null, host_start: '2021-03-12T12:34:30.120Z' });
    expect(scan).toMatchObject({ report_type: 'was', preferences: { name: 'was scan', scanner_type: 'cloud' } });
  });
});
