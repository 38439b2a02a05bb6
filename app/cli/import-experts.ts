// `npm run import-experts -- DIR [--dry-run]`: imports an expert pool from DIR/experts.csv and, when present,
// DIR/employment.csv and DIR/conflicts.csv (MASTER-DATA.md, Bulk import). All or nothing: any bad row refuses the whole
// import and every bad row is printed as `file:line: column: what is wrong` (exit code 1). A second run of the same files
// says "no changes". Progress goes to stderr when it is a terminal.
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { announceChange } from '../../lib/change-feed';
import { loadConfig } from '../../lib/config';
import { migrateHub, openHubDatabases } from '../hub-databases';
import { createLogger } from '../../lib/logger';
import { runMain } from '../../lib/process';
import { openRedis } from '../../lib/redis';
import { importExpertFiles, summarizeImport, type ImportProgress } from '../../subgraphs/experts';
import { VenuesService } from '../../subgraphs/venues';

const USAGE =
  'usage: npm run import-experts -- DIR [--dry-run]\n  DIR holds experts.csv (code,name,home_platform,specialties,employer,status) and optionally employment.csv and conflicts.csv';

/** A progress bar on one terminal line, redrawn at most every 100 ms and on each phase's end. */
function progressBar(stream: NodeJS.WriteStream): ((progress: ImportProgress) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let drawnAt = 0;
  return ({ phase, done, total }) => {
    const now = Date.now();
    if (done < total && now - drawnAt < 100) return;
    drawnAt = now;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    stream.write(`\r${phase.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}\x1b[K`);
    if (done >= total) stream.write('\n');
  };
}

function readOptional(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

const logger = createLogger('import-experts');
runMain(logger, async () => {
  const args = process.argv.slice(2);
  const dryRun = args.includes('--dry-run');
  const unknown = args.filter((arg) => arg.startsWith('-') && arg !== '--dry-run');
  const dirs = args.filter((arg) => !arg.startsWith('-'));
  if (dirs.length !== 1 || unknown.length > 0) {
    process.stderr.write(`${unknown.length ? `unknown option ${unknown.join(' ')}\n` : ''}${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const dir = dirs[0];
  if (!existsSync(join(dir, 'experts.csv'))) {
    process.stderr.write(`${join(dir, 'experts.csv')}: no such file; the directory must hold experts.csv\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const files = {
    experts: readFileSync(join(dir, 'experts.csv'), 'utf8'),
    employment: readOptional(join(dir, 'employment.csv')),
    conflicts: readOptional(join(dir, 'conflicts.csv')),
  };
  const config = loadConfig();
  const databases = openHubDatabases(config);
  try {
    await migrateHub(databases);
    const started = Date.now();
    const report = await importExpertFiles(databases.experts.db, new VenuesService(databases.venues.db), files, {
      actor: { sub: `cli:${userInfo().username}`, role: 'PROVINCIAL_ADMIN', platform: '410000' },
      dryRun,
      onProgress: progressBar(process.stderr),
    });
    for (const error of report.errors) process.stdout.write(`${error}\n`);
    process.stdout.write(`${summarizeImport(report)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (report.errors.length > 0) process.exitCode = 1;
    if (report.applied) {
      // Gateways drop cached answers that may hold the old pool (best effort: without Redis they expire on their own).
      const redis = openRedis(config.REDIS_URL, { failFast: true });
      await announceChange(redis, config.HUB_QUEUE_PREFIX, 'import-experts');
      redis.disconnect();
    }
  } finally {
    await databases.close();
  }
});
