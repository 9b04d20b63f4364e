// Import boundaries (run by `npm run lint`). Paths are resolved through the workspace symlinks,
// so a package reached by name shows up as packages/<name>/... and rules hold transitively.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'packages-never-import-apps',
      comment: 'Shared packages are libraries: they must not depend on a deployable app.',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^apps/|^@nessus-mcp/(gateway|worker|supervisor)(/|$)' },
    },
    {
      name: 'apps-do-not-import-each-other',
      comment: 'The gateway and the worker only share what lives in packages/.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'parser-and-schema-stay-pure',
      comment: 'The parser and the result schema know nothing of queues, Redis or HTTP, even indirectly.',
      severity: 'error',
      from: { path: '^packages/(nessus-parser|schema)/src' },
      to: { path: 'node_modules/(bullmq|ioredis|fastify|got|@fastify|@bull-board|@modelcontextprotocol|prom-client)/' },
    },
    {
      name: 'schema-uses-only-core-errors-and-ip',
      comment: 'From core, the schema package may only use the error type and the IP address module (core/errors, core/ip), never the queue side.',
      severity: 'error',
      from: { path: '^packages/schema/src' },
      to: { path: '^packages/core/', pathNot: '^packages/core/(dist|src)/(errors|ip)\\.(js|ts)$' },
    },
    {
      name: 'parser-is-standalone',
      comment: 'The parser depends on saxes and Node only, so it can be used on its own.',
      severity: 'error',
      from: { path: '^packages/nessus-parser/src' },
      to: { path: '^packages/(?!nessus-parser/)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(test|bench|examples)/|\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
