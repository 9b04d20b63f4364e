import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Harness } from './sim-harness.js';
import { ADVANCED_UUID, inspectXml, rawRequest, startHarness } from './sim-harness.js';

const SSH = (entry: Record<string, unknown>): Record<string, unknown> => ({
  credentials: { add: { Host: { SSH: [entry] } } },
});

describe('export and download', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.sim.close();
  });
  beforeEach(() => {
    h.sim.reset();
  });

  const finishedScan = async (settings: Record<string, unknown>, extra?: Record<string, unknown>): Promise<number> => {
    const id = await h.createScan(settings, extra);
    await h.call('POST', `/scans/${id}/launch`);
    expect(await h.runToEnd(id)).toBe('completed');
    return id;
  };

  it('produces a well-formed .nessus with one ReportHost per expanded target address', async () => {
    const id = await finishedScan({ name: 'task <1> & co', text_targets: '10.0.0.1-3, 192.168.7.0/30\nscanme.example.org' });
    const xml = await h.exportText(id);
    const shape = inspectXml(xml);
    expect(shape.root).toBe('NessusClientData_v2');
    expect(shape.reportHosts).toBe(8);
    expect(shape.hostIps.slice(0, 7)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '192.168.7.0', '192.168.7.1', '192.168.7.2', '192.168.7.3']);
    expect(xml).toContain('<ReportHost name="scanme.example.org">');
    expect(xml).toContain('<tag name="host-fqdn">scanme.example.org</tag>');
    expect(xml).toContain('<Report name="task &lt;1&gt; &amp; co"');
    expect(xml).toContain('<preference><name>TARGET</name><value>10.0.0.1-3,192.168.7.0/30,scanme.example.org</value></preference>');
    expect(xml).not.toContain('192.168.2.104');
    expect(xml.match(/<tag name="HOST_START">/g)).toHaveLength(8);
  });

  it('builds hosts from the bundled real fixtures, each with its ReportItems', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1-5' });
    const xml = await h.exportText(id);
    expect(xml).toContain('pluginName="Nessus Scan Information"');
    expect(xml).toContain('cvss3_base_score');
    expect(xml.match(/<ReportItem /g)?.length).toBeGreaterThan(300);
    for (const fixtureIdentity of ['192.168.2.100', '192.168.16.133', 'adam.ad.demo.io', 'testphp.vulnweb.com']) {
      expect([fixtureIdentity, xml.includes(fixtureIdentity)]).toEqual([fixtureIdentity, false]);
    }
  });

  it('marks the findings of CISA KEV-listed CVEs in both forms real exports use, with EPSS and VPR', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1-5' });
    const xml = await h.exportText(id);
    const items = [...xml.matchAll(/<ReportItem [^>]*>([\s\S]*?)<\/ReportItem>/g)].map((match) => match[1] ?? '');
    const itemOf = (cve: string): string => items.find((item) => item.includes(`<cve>${cve}</cve>`)) ?? '';
    expect(itemOf('CVE-2017-11882')).toContain('<cisa-known-exploited>2021/11/03</cisa-known-exploited>');
    expect(itemOf('CVE-2012-1823')).toContain('<xref>CISA-KNOWN-EXPLOITED:2022/03/25</xref>');
    expect(itemOf('CVE-2012-1823')).toMatch(/<epss_score>0\.9740<\/epss_score>/);
    // A score the fixture already had is kept.
    expect(itemOf('CVE-2012-1823').match(/<vpr_score>/g)).toHaveLength(1);
    const withCve = items.filter((item) => item.includes('<cve>'));
    expect(withCve.length).toBeGreaterThan(100);
    expect(withCve.every((item) => item.includes('<epss_score>'))).toBe(true);
    expect(items.filter((item) => /cisa-known-exploited|CISA-KNOWN-EXPLOITED/.test(item)).length).toBeGreaterThanOrEqual(7);
    expect(items.filter((item) => !item.includes('<cve>')).some((item) => item.includes('<epss_score>'))).toBe(false);
  });

  it('declares the exact Content-Length and serves the same bytes on a repeat download', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1-2' });
    const exported = (await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).json as { file: number; token: string };
    expect(exported.token).toMatch(/^[0-9a-f]{64}$/);
    const statusPath = `/scans/${id}/export/${exported.file}/status`;
    expect((await h.call('GET', statusPath)).json).toEqual({ status: 'loading' });
    expect((await h.call('GET', statusPath)).json).toEqual({ status: 'ready' });
    const first = await h.call('GET', `/scans/${id}/export/${exported.file}/download`);
    expect(Number(first.headers.get('content-length'))).toBe(Buffer.byteLength(first.text));
    expect(first.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\.nessus"$/);
    const again = await h.call('GET', `/tokens/${exported.token}/download`);
    expect(again.text).toBe(first.text);
  });

  it('refuses to export a running scan and to download before ready', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.1' });
    expect((await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).status).toBe(409);
    await h.call('POST', `/scans/${id}/launch`);
    const running = await h.call('POST', `/scans/${id}/export`, { format: 'nessus' });
    expect(running.status).toBe(409);
    expect(running.json).toEqual({ error: 'Can not export running scans' });
    await h.runToEnd(id);
    expect((await h.call('POST', `/scans/${id}/export`, { format: 'pdf' })).status).toBe(400);
    const { file } = (await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).json as { file: number };
    expect((await h.call('GET', `/scans/${id}/export/${file}/download`)).status).toBe(409);
  });

  it('answers unknown export files with 404 file not found', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1' });
    for (const path of [`/scans/${id}/export/123/status`, `/scans/${id}/export/123/download`, '/tokens/abc/status']) {
      const answer = await h.call('GET', path);
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual({ error: 'The requested file was not found' });
    }
  });

  it('reports Credentialed checks : yes and plugin 141118 for the valid SSH password', async () => {
    const id = await finishedScan(
      { text_targets: '10.0.0.1-2' },
      SSH({ auth_method: 'password', username: 'scan', password: 'scan-password', elevate_privileges_with: 'sudo' }),
    );
    const xml = await h.exportText(id);
    expect(xml.match(/Credentialed checks : yes/g)).toHaveLength(2);
    expect(xml).not.toContain('Credentialed checks : no');
    expect(xml.match(/<tag name="Credentialed_Scan">true<\/tag>/g)).toHaveLength(2);
    expect(xml.match(/pluginID="141118"/g)).toHaveLength(2);
    expect(xml).not.toContain('pluginID="21745"');
    expect(xml).not.toContain('scan-password');
  });

  it('accepts any private key for the valid user', async () => {
    const id = await finishedScan(
      { text_targets: '10.0.0.1' },
      SSH({ auth_method: 'public key', username: 'scan', private_key: 'id_ed25519', private_key_passphrase: 'x' }),
    );
    expect(await h.exportText(id)).toContain('Credentialed checks : yes');
  });

  it('takes a private key uploaded as multipart to /file/upload and referenced by its returned name', async () => {
    const form = new FormData();
    form.append('Filedata', new Blob(['-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n']), 'id rsa.key');
    form.append('no_enc', '0');
    const upload = await fetch(`${h.sim.url}/file/upload`, {
      method: 'POST',
      headers: { 'X-ApiKeys': 'accessKey=sim-access-key; secretKey=sim-secret-key' },
      body: form,
    });
    expect(upload.status).toBe(200);
    const { fileuploaded } = (await upload.json()) as { fileuploaded: string };
    expect(fileuploaded).toBe('id_rsa.key');
    const id = await finishedScan(
      { text_targets: '10.0.0.1' },
      SSH({
        auth_method: 'public key',
        username: 'scan',
        private_key: fileuploaded,
        elevate_privileges_with: 'su+sudo',
        su_user: 'admin',
        escalation_account: 'root',
        escalation_password: 'root-pw',
      }),
    );
    expect(await h.exportText(id)).toContain('Credentialed checks : yes');
  });

  it('fails the login of a su+sudo credential without su_user (the su login)', async () => {
    const id = await finishedScan(
      { text_targets: '10.0.0.1' },
      SSH({ auth_method: 'password', username: 'scan', password: 'scan-password', elevate_privileges_with: 'su+sudo', escalation_password: 'root-pw' }),
    );
    expect(await h.exportText(id)).toContain('Credentialed checks : no');
  });

  it('judges the SSH port by settings.ssh_port and ignores a port inside the credential entry, as Nessus does', async () => {
    const valid = { auth_method: 'password', username: 'scan', password: 'scan-password' };
    const onDefault = await finishedScan({ text_targets: '10.0.0.1' }, SSH({ ...valid, port: 2222 }));
    expect(await h.exportText(onDefault)).toContain('Credentialed checks : yes');
    const elsewhere = await finishedScan({ text_targets: '10.0.0.1', ssh_port: '2222' }, SSH(valid));
    expect(await h.exportText(elsewhere)).toContain('Credentialed checks : no');
    const explicit = await finishedScan({ text_targets: '10.0.0.1', ssh_port: '22' }, SSH(valid));
    expect(await h.exportText(explicit)).toContain('Credentialed checks : yes');
  });

  it('refuses a settings.ssh_port that is not a port number as a string with 400', async () => {
    const valid = SSH({ auth_method: 'password', username: 'scan', password: 'scan-password' });
    for (const sshPort of [22, 'ssh', '70000']) {
      const answer = await h.call('POST', '/scans', { uuid: ADVANCED_UUID, settings: { name: 'x', text_targets: '10.0.0.1', ssh_port: sshPort }, ...valid });
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('ssh_port');
    }
  });

  it('reports Credentialed checks : no with authentication-failure plugins for a wrong password', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1-2' }, SSH({ auth_method: 'password', username: 'scan', password: 'not-it' }));
    const xml = await h.exportText(id);
    expect(xml.match(/Credentialed checks : no/g)).toHaveLength(2);
    expect(xml).not.toContain('Credentialed checks : yes');
    expect(xml.match(/<tag name="Credentialed_Scan">false<\/tag>/g)).toHaveLength(2);
    expect(xml.match(/pluginID="21745"/g)).toHaveLength(2);
    expect(xml.match(/pluginID="104410"/g)).toHaveLength(2);
    expect(xml).not.toContain('pluginID="141118"');
    expect(xml).not.toContain('not-it');
  });

  it('reports no credentialed checks and no auth plugins when no credentials were given', async () => {
    const xml = await h.exportText(await finishedScan({ text_targets: '10.0.0.1-5' }));
    expect(xml.match(/Credentialed checks : no/g)).toHaveLength(5);
    expect(xml).not.toMatch(/pluginID="(21745|104410|141118)"/);
  });

  it('rejects malformed SSH credentials with 400', async () => {
    const create = async (entry: Record<string, unknown>): Promise<number> =>
      (
        await h.call('POST', '/scans', {
          uuid: 'ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66',
          settings: { name: 'x', text_targets: '10.0.0.1' },
          ...SSH(entry),
        })
      ).status;
    expect(await create({ auth_method: 'password', username: 'scan' })).toBe(400);
    expect(await create({ auth_method: 'password', username: 'scan', password: 'p', elevate_privileges_with: 'doas' })).toBe(400);
    expect(await create({ auth_method: 'kerberos', username: 'scan' })).toBe(400);
  });

  it('exports only the hosts finished before a stop', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.0/28' });
    await h.call('POST', `/scans/${id}/launch`);
    h.advance(1000 + 6000);
    await h.call('POST', `/scans/${id}/stop`);
    expect(await h.runToEnd(id)).toBe('canceled');
    const hosts = inspectXml(await h.exportText(id)).reportHosts;
    expect(hosts).toBeGreaterThan(0);
    expect(hosts).toBeLessThan(16);
  });

  it('keeps an export loading forever under export_mode stuck', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1' });
    h.sim.setFaults({ export_mode: 'stuck' });
    const { file } = (await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).json as { file: number };
    for (let poll = 0; poll < 5; poll += 1) {
      expect((await h.call('GET', `/scans/${id}/export/${file}/status`)).json).toEqual({ status: 'loading' });
    }
  });

  it('fails an export under export_mode error', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1' });
    h.sim.setFaults({ export_mode: 'error' });
    const { file } = (await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).json as { file: number };
    expect((await h.call('GET', `/scans/${id}/export/${file}/status`)).json).toEqual({ status: 'error' });
    expect((await h.call('GET', `/scans/${id}/export/${file}/download`)).status).toBe(404);
  });

  it('answers 500 {"status":"error"} once and 404 on every later poll under export_mode error_500_then_404', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1' });
    h.sim.setFaults({ export_mode: 'error_500_then_404' });
    const { file } = (await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).json as { file: number };
    expect(await h.call('GET', `/scans/${id}/export/${file}/status`)).toMatchObject({ status: 500, json: { status: 'error' } });
    for (let poll = 0; poll < 3; poll += 1) {
      expect(await h.call('GET', `/scans/${id}/export/${file}/status`)).toMatchObject({ status: 404, json: { error: 'The requested file was not found' } });
    }
    expect((await h.call('GET', `/scans/${id}/export/${file}/download`)).status).toBe(404);
  });

  it('answers 404 from the first poll under export_mode lost', async () => {
    const id = await finishedScan({ text_targets: '10.0.0.1' });
    h.sim.setFaults({ export_mode: 'lost' });
    const { file } = (await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).json as { file: number };
    expect((await h.call('GET', `/scans/${id}/export/${file}/status`)).status).toBe(404);
  });

  const readyExport = async (): Promise<string> => {
    const id = await finishedScan({ text_targets: '10.0.0.1-2' });
    const { file } = (await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).json as { file: number };
    await h.call('GET', `/scans/${id}/export/${file}/status`);
    await h.call('GET', `/scans/${id}/export/${file}/status`);
    return `/scans/${id}/export/${file}/download`;
  };

  it('cuts a download mid-body under download_mode truncated', async () => {
    const path = await readyExport();
    h.sim.setFaults({ download_mode: 'truncated' });
    const answer = await rawRequest(h.sim, 'GET', path);
    expect(answer.statusLine).toBe('200');
    const declared = Number(/content-length: (\d+)/.exec(answer.head)?.[1]);
    expect(answer.body.length).toBeGreaterThan(0);
    expect(answer.body.length).toBeLessThan(declared);
    expect(answer.ending).not.toBe('end');
  });

  it('delivers the complete file in 16 KiB paced chunks under download_mode slow', async () => {
    const path = await readyExport();
    const normal = await h.call('GET', path);
    h.sim.setFaults({ download_mode: 'slow' });
    const chunks: number[] = [];
    const response = await fetch(`${h.sim.url}${path}`, { headers: { 'X-ApiKeys': 'accessKey=sim-access-key; secretKey=sim-secret-key' } });
    const reader = response.body?.getReader();
    let text = '';
    const decoder = new TextDecoder();
    for (;;) {
      const part = await reader?.read();
      if (!part || part.done) break;
      chunks.push(part.value.length);
      text += decoder.decode(part.value, { stream: true });
    }
    expect(text).toBe(normal.text);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.floor(Buffer.byteLength(normal.text) / (16 * 1024)));
    expect(Math.max(...chunks)).toBeLessThanOrEqual(16 * 1024);
  });

  it('streams the whole file without Content-Length under download_mode chunked', async () => {
    const path = await readyExport();
    const normal = await h.call('GET', path);
    h.sim.setFaults({ download_mode: 'chunked' });
    const answer = await rawRequest(h.sim, 'GET', path);
    expect(answer.statusLine).toBe('200');
    expect(answer.head).not.toContain('content-length');
    expect(answer.head).toContain('transfer-encoding: chunked');
    expect(answer.body.toString()).toBe(normal.text);
    expect(answer.ending).toBe('end');
  });

  it('answers 404 file not found for a ready export under download_mode expired', async () => {
    const path = await readyExport();
    h.sim.setFaults({ download_mode: 'expired' });
    const answer = await h.call('GET', path);
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({ error: 'The requested file was not found' });
  });
});
