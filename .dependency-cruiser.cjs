// The dependency rules of docs/architecture.md, checked by dependency-cruiser: `npm run depcheck` (part of
// `npm run lint`) and test/dependency-rules.test.ts. Arrows point down: app -> gateway, jobs, subgraphs -> lib.
// Tests (test/) and benchmarks (bench/) are not cruised: they may reach into a domain to arrange a case.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lib-imports-upward',
      comment:
        'lib/ is the shared kernel every process uses; it imports nothing from gateway/, jobs/, subgraphs/ or app/.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(gateway|jobs|subgraphs|app)/' },
    },
    {
      name: 'domain-imports-another-domain-inside',
      comment: "A domain uses another only through that domain's door, subgraphs/<other>/index.ts.",
      severity: 'error',
      from: { path: '^subgraphs/([^/]+)/' },
      to: { path: '^subgraphs/[^/]+/', pathNot: ['^subgraphs/$1/', '^subgraphs/[^/]+/index\\.ts$'] },
    },
    {
      name: 'outside-imports-domain-inside',
      comment:
        'Outside subgraphs/ (app/, gateway/, jobs/, schema/...), a domain is imported only through its index.ts.',
      severity: 'error',
      from: { pathNot: '^(subgraphs|test|bench)/' },
      to: { path: '^subgraphs/[^/]+/', pathNot: '^subgraphs/[^/]+/index\\.ts$' },
    },
    {
      name: 'domain-imports-jobs-beyond-catalogue',
      comment: 'A domain imports from jobs/ only the typed catalogue of queues, job names and payloads.',
      severity: 'error',
      from: { path: '^subgraphs/' },
      to: { path: '^jobs/', pathNot: '^jobs/catalogue\\.ts$' },
    },
    {
      name: 'jobs-import-gateway',
      comment: 'Workers never import the gateway.',
      severity: 'error',
      from: { path: '^jobs/' },
      to: { path: '^gateway/' },
    },
    {
      name: 'gateway-imports-jobs',
      comment: 'The gateway never imports the workers; what both need (queue names) lives in lib/.',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^jobs/' },
    },
    {
      name: 'no-cycle',
      comment: 'No import cycles.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // The production code; a fixture elsewhere (test/dependency-rules.test.ts) is cruised with its own includeOnly.
    includeOnly: '^(app|gateway|jobs|lib|schema|subgraphs)/',
    doNotFollow: { path: 'node_modules' },
    // `import type` counts: a type is a dependency of the design as much as a value is.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
