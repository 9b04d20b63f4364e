// Runs an ingest that never finishes on its own, for the crash test: it prints "ingesting"
// once findings are being written, then keeps feeding findings until the parent kills it.
import { LocalTaskFiles, ingestExport } from '../dist/index.js';

const [dataDir, taskId] = process.argv.slice(2);

async function* endless() {
  yield { type: 'scan', scan: { report_name: 'endless', policy_name: null, report_type: null, plugin_count: null, preferences: {}, targets: [] } };
  yield {
    type: 'host',
    host: {
      index: 0,
      occurrence: 0,
      name: '10.0.0.1',
      host_ip: '10.0.0.1',
      host_fqdn: null,
      netbios_name: null,
      operating_system: null,
      mac_address: null,
      host_start: null,
      host_end: null,
      credentialed_scan: null,
      properties: {},
    },
  };
  for (let index = 0; ; index += 1) {
    yield {
      type: 'finding',
      finding: {
        finding_id: `e${index}`,
        index,
        host: '10.0.0.1',
        host_index: 0,
        host_ip: '10.0.0.1',
        host_fqdn: null,
        netbios_name: null,
        operating_system: null,
        port: 22,
        protocol: 'tcp',
        svc_name: 'ssh',
        plugin_id: 1000 + (index % 50),
        plugin_name: 'Endless',
        plugin_family: 'General',
        severity: index % 5,
        risk_factor: null,
        cve: [],
        cvss_score: null,
        cvss_version: null,
        cvss_base_score: null,
        cvss3_base_score: null,
        cvss4_base_score: null,
        exploit_available: null,
        synopsis: null,
        description: 'x'.repeat(2000),
        solution: null,
        plugin_output: null,
        compliance: null,
      },
    };
    if (index === 2000) process.stdout.write('ingesting\n');
    if (index % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

await ingestExport({ files: new LocalTaskFiles(dataDir), taskId, events: endless() });
