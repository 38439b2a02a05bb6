// The import scenario: 30,000 experts with employment and conflict histories written as CSV into a temp directory, then
// loaded through the pool import (the function behind `npm run import-experts` and importExperts), timed; then the same
// files again, which must change nothing (MASTER-DATA.md: under a minute on this machine, idempotent by code).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseUrl } from '../lib/config';
import { toCsv } from '../lib/csv';
import { openDomainDatabase } from '../lib/db';
import { HENAN_CITIES, ZHUMADIAN_COUNTIES } from '../app/seed/henan';
import { createRandom } from '../app/seed/random';
import { INITIAL_SPECIALTIES } from '../subgraphs/experts/migrations/008_master_data';
import { importExpertFiles, summarizeImport } from '../subgraphs/experts/pool-import';
import type { ExpertsDatabase } from '../subgraphs/experts/types';
import { VenuesService } from '../subgraphs/venues';
import type { VenuesDatabase } from '../subgraphs/venues';
import type { ScenarioContext, ScenarioReport } from './scenarios';

const EXPERTS = Number(process.env.BENCH_IMPORT_EXPERTS ?? 30_000);
const ACTOR = { sub: 'bench-import', role: 'PROVINCIAL_ADMIN', platform: '410000' };

/** experts.csv, employment.csv (1-3 jobs each) and conflicts.csv (about 5% of experts) in a new temp directory. */
function writeFiles(dir: string): Record<string, number> {
  const rng = createRandom(18);
  const homes = [...HENAN_CITIES, ...ZHUMADIAN_COUNTIES].map((division) => division.code);
  const experts: string[][] = [['code', 'name', 'home_platform', 'specialties', 'employer', 'status']];
  const employment: string[][] = [['expert_code', 'employer', 'from', 'to']];
  const conflicts: string[][] = [['expert_code', 'organisation', 'kind']];
  const surnames = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴'];
  for (let i = 0; i < EXPERTS; i++) {
    const code = `BENCH-E-${String(i + 1).padStart(6, '0')}`;
    const specialties = [...new Set([rng.pick(INITIAL_SPECIALTIES), rng.pick(INITIAL_SPECIALTIES)])].slice(
      0,
      rng.int(1, 2),
    );
    const employer = `示例单位${rng.int(1, 3000)}号, 有限公司`;
    experts.push([
      code,
      `${rng.pick(surnames)}示例${i}`,
      rng.pick(homes),
      specialties.join(';'),
      employer,
      rng.chance(0.01) ? 'SUSPENDED' : 'ACTIVE',
    ]);
    let year = 2024 - rng.int(1, 10);
    employment.push([code, employer, `${year}-0${rng.int(1, 9)}-01`, '']);
    for (let past = rng.int(0, 2); past > 0; past--) {
      const ended = year - 1;
      year = ended - rng.int(1, 6);
      employment.push([code, `示例旧单位${rng.int(1, 3000)}号`, `${year}-03-01`, `${ended}-12-31`]);
    }
    if (rng.chance(0.05))
      conflicts.push([
        code,
        `示例企业${rng.int(1, 5000)}号`,
        rng.pick(['KINSHIP', 'ECONOMIC_INTEREST', 'OTHER'] as const),
      ]);
  }
  writeFileSync(join(dir, 'experts.csv'), `\uFEFF${toCsv(experts)}`);
  writeFileSync(join(dir, 'employment.csv'), toCsv(employment));
  writeFileSync(join(dir, 'conflicts.csv'), toCsv(conflicts));
  return { experts: experts.length - 1, employment: employment.length - 1, conflicts: conflicts.length - 1 };
}

export async function importScenario(context: ScenarioContext): Promise<ScenarioReport> {
  const dir = mkdtempSync(join(tmpdir(), 'hub-import-'));
  const experts = openDomainDatabase<ExpertsDatabase>(databaseUrl(context.config, 'experts'), 'experts');
  const venues = openDomainDatabase<VenuesDatabase>(databaseUrl(context.config, 'venues'), 'venues');
  try {
    const rows = writeFiles(dir);
    context.log(
      `import: ${rows.experts} experts, ${rows.employment} employment rows, ${rows.conflicts} conflicts as CSV in ${dir}`,
    );
    const run = async () => {
      const started = performance.now();
      const files = {
        experts: readFileSync(join(dir, 'experts.csv'), 'utf8'),
        employment: readFileSync(join(dir, 'employment.csv'), 'utf8'),
        conflicts: readFileSync(join(dir, 'conflicts.csv'), 'utf8'),
      };
      const report = await importExpertFiles(experts.db, new VenuesService(venues.db), files, { actor: ACTOR });
      const seconds = (performance.now() - started) / 1000;
      context.log(`import: ${summarizeImport(report)} in ${seconds.toFixed(1)} s`);
      if (report.errors.length)
        throw new Error(`the generated files were refused: ${report.errors.slice(0, 5).join('; ')}`);
      return { seconds, report };
    };
    const first = await run();
    const second = await run();
    if (first.report.created !== rows.experts || second.report.unchanged !== rows.experts || second.report.applied)
      throw new Error('the import did not create every expert once and then change nothing');
    return {
      name: 'import',
      status: 'measured',
      note: `${rows.experts} experts, ${rows.employment} employment rows, ${rows.conflicts} conflicts; first run creates them all, the second changes nothing`,
      figures: [
        {
          name: `import of ${rows.experts} experts with histories`,
          value: Number(first.seconds.toFixed(2)),
          unit: 's',
          target: { value: 60, lowerIsBetter: true },
        },
        { name: 'the same files again (no changes)', value: Number(second.seconds.toFixed(2)), unit: 's' },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([experts.close(), venues.close()]);
  }
}
