// Keeps docker-compose.yml and the Dockerfile honest against the code: real entry points, known config variables, Redis fit for BullMQ, health checks.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import { parse } from 'yaml';
import { loadConfig, type HubConfig } from '../lib/config';

const ROOT = resolve(__dirname, '..');
/** Variables a hub container may set that are not hub configuration. */
const STANDARD_VARIABLES = new Set(['NODE_ENV']);
const SECRET_VARIABLES = ['HUB_JWT_SECRET', 'HUB_INTERNAL_SECRET', 'WEBHOOK_SECRET'] as const;
/** What an operator exports before `docker compose up`: secrets long enough for production. */
const OPERATOR_ENV: Record<string, string> = {
  HUB_JWT_SECRET: 'compose-test-jwt-secret-0123456789abcdef',
  HUB_INTERNAL_SECRET: 'compose-test-internal-secret-0123456789abcdef',
  WEBHOOK_SECRET: 'compose-test-webhook-secret-0123456789abcdef',
};
/** The HTTP processes, by compiled entry point, and the port each listens on (the jobs process serves /readyz too). */
const HTTP_PORTS: Record<string, (config: HubConfig) => number> = {
  'dist/jobs/main.js': (config) => config.JOBS_METRICS_PORT,
  'dist/gateway/main.js': (config) => config.GATEWAY_PORT,
  'dist/subgraphs/venues/main.js': (config) => config.VENUES_PORT,
  'dist/subgraphs/experts/main.js': (config) => config.EXPERTS_PORT,
  'dist/subgraphs/projects/main.js': (config) => config.PROJECTS_PORT,
};
const SUBGRAPH_URLS = { VENUES_URL: 'venues', EXPERTS_URL: 'experts', PROJECTS_URL: 'projects' } as const;

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readText(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

function loadServices(): Map<string, YamlMap> {
  const compose: unknown = parse(readText('docker-compose.yml'), { merge: true });
  if (!isMap(compose) || !isMap(compose.services))
    throw new Error('docker-compose.yml: expected a top-level "services" mapping');
  const services = new Map<string, YamlMap>();
  for (const [name, service] of Object.entries(compose.services)) {
    if (!isMap(service)) throw new Error(`docker-compose.yml: service ${name} is not a mapping`);
    services.set(name, service);
  }
  return services;
}

/** The keys of the zod object in lib/config.ts, read from its source so variables added later count too. */
function configKeys(): Set<string> {
  const source = readText('lib/config.ts');
  const start = source.indexOf('z.object({');
  const end = source.indexOf('\n});', start);
  if (start < 0 || end < 0)
    throw new Error('lib/config.ts: could not find the z.object({ ... }) of the configuration schema');
  return new Set([...source.slice(start, end).matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]));
}

function words(value: unknown): string[] {
  if (typeof value === 'string') return value.trim().split(/\s+/);
  if (Array.isArray(value)) return value.map(String);
  return [];
}

/** The compiled script a command runs, e.g. "dist/gateway/main.js", or undefined. */
function scriptOf(command: string[]): string | undefined {
  return command.find((word) => /^(\.\/)?dist\/.+\.js$/.test(word))?.replace(/^\.\//, '');
}

/** dist/X.js is compiled from X.ts at the repository root (rootDir ".", outDir "dist"). */
function sourceOf(script: string): string {
  return join(ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
}

function environmentOf(service: YamlMap): Record<string, string> {
  const environment = service.environment;
  if (environment === undefined) return {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const [name, ...value] = String(entry).split('=');
        return [name, value.join('=')];
      }),
    );
  }
  if (isMap(environment)) {
    return Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [name, value === null ? '' : String(value)]),
    );
  }
  throw new Error('environment must be a mapping or a list');
}

/** Compose's variable substitution: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (_whole: string, name: string, colon: string | undefined, kind: string | undefined, rest: string | undefined) => {
      const set = name in env && (colon !== ':' || env[name] !== '');
      if (set) return env[name];
      if (kind === '?') throw new Error(`${name}: ${rest ?? 'required'}`);
      return kind === '-' ? (rest ?? '') : '';
    },
  );
}

function configOf(service: YamlMap): HubConfig {
  const env = Object.fromEntries(
    Object.entries(environmentOf(service)).map(([name, value]) => [name, interpolate(value, OPERATOR_ENV)]),
  );
  return loadConfig(env);
}

function dependencies(service: YamlMap): Map<string, string | undefined> {
  const dependsOn = service.depends_on;
  if (Array.isArray(dependsOn)) return new Map(dependsOn.map((name) => [String(name), undefined]));
  if (!isMap(dependsOn)) return new Map();
  return new Map(
    Object.entries(dependsOn).map(([name, options]) => [name, isMap(options) ? String(options.condition) : undefined]),
  );
}

const services = loadServices();
/** The services built from the Dockerfile: the hub's own processes. */
const hubServices = [...services].filter(([, service]) => service.build !== undefined);
const oneShot = new Set(
  [...services.values()].flatMap((service) =>
    [...dependencies(service)]
      .filter(([, condition]) => condition === 'service_completed_successfully')
      .map(([name]) => name),
  ),
);
const longRunning = hubServices.filter(([name, service]) => !oneShot.has(name) && service.restart !== 'no');

describe('docker-compose.yml', () => {
  test('has the hub services, built from the Dockerfile', () => {
    expect(hubServices.map(([name]) => name).sort()).toEqual(
      expect.arrayContaining(['experts', 'gateway', 'migrate', 'projects', 'venues', 'workers']),
    );
  });

  describe('(a) every command runs a compiled entry point whose TypeScript source exists', () => {
    const buildFiles = (() => {
      const parsed = ts.getParsedCommandLineOfConfigFile(
        join(ROOT, 'tsconfig.build.json'),
        {},
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
            throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
          },
        },
      );
      if (!parsed) throw new Error('tsconfig.build.json could not be read');
      return { options: parsed.options, files: new Set(parsed.fileNames.map((file) => resolve(file))) };
    })();

    test('tsconfig.build.json compiles X.ts at the root to dist/X.js', () => {
      expect(resolve(buildFiles.options.rootDir ?? '')).toBe(ROOT);
      expect(resolve(buildFiles.options.outDir ?? '')).toBe(join(ROOT, 'dist'));
    });

    test.each(hubServices.map(([name]) => name))('%s', (name) => {
      const command = words(services.get(name)?.command);
      expect(command[0]).toBe('node');
      const script = scriptOf(command);
      expect(script).toBeDefined();
      const source = sourceOf(script ?? '');
      expect({ script, sourceExists: existsSync(source) }).toEqual({ script, sourceExists: true });
      expect({ script, inBuild: buildFiles.files.has(source) }).toEqual({ script, inBuild: true });
    });

    test("the Dockerfile's default command", () => {
      const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(readText('Dockerfile'));
      expect(cmd).not.toBeNull();
      const command: unknown = JSON.parse(cmd?.[1] ?? '[]');
      const script = scriptOf(words(command));
      expect(script).toBeDefined();
      expect(existsSync(sourceOf(script ?? ''))).toBe(true);
    });
  });

  describe('(b) every variable a hub service sets is in the config schema of lib/config.ts', () => {
    const keys = configKeys();

    test('the schema keys are found', () => {
      expect([...keys]).toEqual(expect.arrayContaining(['HUB_ENV', 'DATABASE_URL', 'REDIS_URL', ...SECRET_VARIABLES]));
    });

    test.each(hubServices.map(([name]) => name))('%s', (name) => {
      const service = services.get(name) ?? {};
      // An env_file would set variables this test cannot see.
      expect(service.env_file).toBeUndefined();
      const unknown = Object.keys(environmentOf(service)).filter(
        (variable) => !keys.has(variable) && !STANDARD_VARIABLES.has(variable),
      );
      expect(unknown).toEqual([]);
    });

    test.each(hubServices.map(([name]) => name))('%s: secrets come from the operator, never from the file', (name) => {
      const environment = environmentOf(services.get(name) ?? {});
      // Every hub process verifies tokens or signatures, so each must be given every secret: a missing one fails here.
      expect(Object.keys(environment)).toEqual(expect.arrayContaining([...SECRET_VARIABLES]));
      for (const variable of SECRET_VARIABLES)
        expect(environment[variable]).toMatch(new RegExp(`^\\$\\{${variable}:\\?[^}]+\\}$`));
    });

    test.each(hubServices.map(([name]) => name))(
      '%s: loadConfig accepts the environment once the secrets are given',
      (name) => {
        expect(() => configOf(services.get(name) ?? {})).not.toThrow();
      },
    );

    test.each(hubServices.map(([name]) => name))('%s: every URL it is given names a compose service', (name) => {
      const hosts = Object.values(environmentOf(services.get(name) ?? {}))
        .filter((value) => /^[a-z][a-z0-9+.-]*:\/\//.test(value) && !value.includes('${'))
        .map((value) => new URL(value).hostname);
      expect(hosts.filter((host) => !services.has(host))).toEqual([]);
    });
  });

  describe('the gateway reaches the subgraphs', () => {
    test.each(Object.entries(SUBGRAPH_URLS))(
      '%s points at the %s service on the port it listens on',
      (variable, subgraph) => {
        const gateway = services.get('gateway') ?? {};
        const target = services.get(subgraph) ?? {};
        const script = scriptOf(words(target.command)) ?? '';
        const port = HTTP_PORTS[script]?.(configOf(target));
        expect(environmentOf(gateway)[variable]).toBe(`http://${subgraph}:${port}/graphql`);
        // A subgraph bound to 127.0.0.1 inside its container is unreachable from the gateway's.
        expect(configOf(target).SUBGRAPH_HOST).toBe('0.0.0.0');
      },
    );
  });

  test('(c) redis keeps BullMQ keys: noeviction and appendonly', () => {
    const redis = [...services.values()].filter((service) => /^redis(:|$)/.test(String(service.image)));
    expect(redis).toHaveLength(1);
    const command = words(redis[0].command);
    const option = (name: string): string | undefined => {
      const index = command.indexOf(name);
      return index < 0 ? undefined : command[index + 1];
    };
    expect({ maxmemoryPolicy: option('--maxmemory-policy'), appendonly: option('--appendonly') }).toEqual({
      maxmemoryPolicy: 'noeviction',
      appendonly: 'yes',
    });
  });

  describe('(d) every long-running hub service has a health check', () => {
    test('the long-running services are found', () => {
      expect(longRunning.map(([name]) => name).sort()).toEqual(['experts', 'gateway', 'projects', 'venues', 'workers']);
    });

    test.each(longRunning.map(([name]) => name))('%s', (name) => {
      const service = services.get(name) ?? {};
      const healthcheck = service.healthcheck;
      expect(isMap(healthcheck)).toBe(true);
      const check = isMap(healthcheck) ? healthcheck : {};
      expect(check.disable).not.toBe(true);
      const probe = words(check.test);
      expect(['CMD', 'CMD-SHELL']).toContain(probe[0]);
      expect(probe.length).toBeGreaterThan(1);
      const script = scriptOf(words(service.command)) ?? '';
      // Every long-running service serves /readyz; one whose port this test does not know fails rather than going unchecked.
      expect({ script, knownPort: script in HTTP_PORTS }).toEqual({ script, knownPort: true });
      expect(probe.join(' ')).toContain(`http://127.0.0.1:${HTTP_PORTS[script](configOf(service))}/readyz`);
    });

    test('every service waited on as healthy has a health check', () => {
      const waitedOn = [...services.values()].flatMap((service) =>
        [...dependencies(service)].filter(([, condition]) => condition === 'service_healthy').map(([name]) => name),
      );
      expect(waitedOn.filter((name) => !isMap(services.get(name)?.healthcheck))).toEqual([]);
    });
  });
});
