// `npm run --silent token -- --role ROLE --platform CODE [--department D] [--org O] [--expert ID] [--sub S]`: prints a development token.
import { parseArgs } from 'node:util';
import { issueToken } from '../../gateway/tokens';
import { loadConfig } from '../../lib/config';
import { identitySchema } from '../../lib/identity';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      platform: { type: 'string' },
      department: { type: 'string' },
      org: { type: 'string' },
      expert: { type: 'string' },
      sub: { type: 'string' },
      expires: { type: 'string', default: '12h' },
    },
  });
  const parsed = identitySchema.safeParse({
    sub: values.sub ?? `${(values.role ?? 'user').toLowerCase()}-${values.platform ?? 'unknown'}`,
    role: values.role,
    platform: values.platform,
    department: values.department,
    org: values.org,
    expert: values.expert,
  });
  if (!parsed.success) {
    process.stderr.write(
      `cannot issue a token: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'claims'}: ${issue.message}`).join('; ')}\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`${await issueToken(loadConfig(), parsed.data, values.expires)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
