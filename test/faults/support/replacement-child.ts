// A process that replaces one committee seat with the real ExpertsService.drawReplacement, for the replacement crash
// test. Started with `node -r ts-node/register/transpile-only`.
//   REPLACE_SEAT=<seat id>          the seat to replace (required)
//   FAULT_KILL_AFTER_WITHDRAWAL=1   SIGKILL itself once the old seat is written REPLACED, before the new one is drawn
import { writeSync } from 'node:fs';
import { randomIds, systemClock } from '../../../lib/clock';
import { loadConfig } from '../../../lib/config';
import { openHubDatabases } from '../../../app/hub-databases';
import { drawPolicyOf, ExpertsService } from '../../../subgraphs/experts';

const config = loadConfig();
const databases = openHubDatabases(config);
const seatId = process.env.REPLACE_SEAT!;
const kill = process.env.FAULT_KILL_AFTER_WITHDRAWAL === '1';

const experts = new ExpertsService(databases.experts.db, systemClock, drawPolicyOf(config), randomIds, {
  seatWithdrawn: async (withdrawn) => {
    if (!kill) return;
    // Written synchronously: the line must reach the pipe before the signal ends the process.
    writeSync(1, `replacement-child: seat ${withdrawn} written REPLACED, no replacement drawn yet; SIGKILL now\n`);
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => undefined);
  },
});

experts
  .drawReplacement(seatId, '突发疾病无法继续评审')
  .then(async (replacement) => {
    writeSync(1, `replacement-child: seat ${seatId} replaced by seat ${replacement.id}\n`);
    await databases.close();
  })
  .catch(async (error: unknown) => {
    writeSync(2, `replacement-child: ${error instanceof Error ? error.message : String(error)}\n`);
    await databases.close();
    process.exitCode = 1;
  });
