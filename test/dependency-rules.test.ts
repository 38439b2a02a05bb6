// The dependency rules (.dependency-cruiser.cjs, docs/architecture.md) hold on the production code: lib/ imports nothing
// above it, each domain is entered through its index.ts, domains import only jobs/catalogue.ts from jobs/, the gateway
// and the workers do not import each other, and there is no cycle. The second test proves the rules can fail: a
// fixture that breaks each of them, once, is reported exactly so.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

/** Runs dependency-cruiser's CLI over `cwd` with the repo's rules and returns what it reports, as "rule: from -> to". */
function cruise(cwd: string): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    // A violation makes the CLI exit non-zero; the JSON report is on stdout either way.
    execFile(
      process.execPath,
      [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', '.'],
      { cwd, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        let report: { summary: { violations: Violation[] } };
        try {
          report = JSON.parse(stdout) as { summary: { violations: Violation[] } };
        } catch {
          reject(new Error(`dependency-cruiser gave no report (${error?.message ?? 'no error'}):\n${stderr}`));
          return;
        }
        resolvePromise(
          report.summary.violations
            .map((violation) => `${violation.rule.name}: ${violation.from} -> ${violation.to}`)
            .sort(),
        );
      },
    );
  });
}

it('finds no violation of the dependency rules in app/, gateway/, jobs/, lib/, schema/ and subgraphs/', async () => {
  expect(await cruise(ROOT)).toEqual([]);
}, 180_000);

describe('on a fixture that breaks each rule once', () => {
  let fixture: string;
  const files: Record<string, string> = {
    'tsconfig.json': JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
    }),
    // lib imports upward.
    'lib/kernel.ts': "import { started } from '../gateway/server';\nexport const kernel = started;\n",
    // The gateway imports the workers, and they import it back (a type only, which counts): two rules and a cycle,
    // reported once.
    'gateway/server.ts': "import { work } from '../jobs/worker';\nexport const started = work;\n",
    'jobs/worker.ts':
      "import type { started } from '../gateway/server';\nexport const work = 1;\nexport type Started = typeof started;\n",
    'jobs/catalogue.ts': "export const QUEUES = ['a'] as const;\n",
    // Domain a: into b's door and the catalogue (allowed), into b's service and a worker (not).
    'subgraphs/a/index.ts': "export { service } from './service';\n",
    'subgraphs/a/service.ts': [
      "import { door } from '../b/index';",
      "import { inside } from '../b/service';",
      "import { QUEUES } from '../../jobs/catalogue';",
      "import { work } from '../../jobs/worker';",
      'export const service = [door, inside, QUEUES, work];',
      '',
    ].join('\n'),
    'subgraphs/b/index.ts': "export const door = 'b';\n",
    'subgraphs/b/service.ts': "export const inside = 'b';\n",
    // The composition root: a domain through its folder's index (allowed) and past it (not).
    'app/main.ts':
      "import { service } from '../subgraphs/a';\nimport { inside } from '../subgraphs/b/service';\nexport const main = [service, inside];\n",
    // Tests may reach into a domain: not cruised.
    'test/case.test.ts': "import { inside } from '../subgraphs/b/service';\nexport const used = inside;\n",
  };

  beforeAll(() => {
    fixture = mkdtempSync(join(tmpdir(), 'hub-dependency-rules-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(fixture, path)), { recursive: true });
      writeFileSync(join(fixture, path), text);
    }
  });
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));

  it('reports each broken rule, and nothing for the imports the rules allow', async () => {
    expect(await cruise(fixture)).toEqual(
      [
        'domain-imports-another-domain-inside: subgraphs/a/service.ts -> subgraphs/b/service.ts',
        'domain-imports-jobs-beyond-catalogue: subgraphs/a/service.ts -> jobs/worker.ts',
        'gateway-imports-jobs: gateway/server.ts -> jobs/worker.ts',
        'jobs-import-gateway: jobs/worker.ts -> gateway/server.ts',
        'lib-imports-upward: lib/kernel.ts -> gateway/server.ts',
        'no-cycle: gateway/server.ts -> jobs/worker.ts',
        'outside-imports-domain-inside: app/main.ts -> subgraphs/b/service.ts',
      ].sort(),
    );
  }, 180_000);
});
