// The saga scenario: 500 FILED Zhumadian projects arrange their venues at once through the gateway (arrangeVenues:
// the main room plus one auto-confirming county room each); the jobs process holds and confirms them through the
// booking saga. Measured: from the first request until no project is VENUES_ARRANGING any more.
import { issueToken } from '../gateway/tokens';
import { ZHUMADIAN_COUNTIES } from '../app/seed/henan';
import type { ScenarioContext, ScenarioReport } from './scenarios';

const IN_FLIGHT = 50;
export const SAGA_PROJECTS = 500;
const DEADLINE_MS = 180_000;
const ARRANGE =
  'mutation Arrange($projectId: ID!, $mainRoomId: ID!, $secondary: [SeatRequestInput!]!) { arrangeVenues(projectId: $projectId, mainRoomId: $mainRoomId, secondary: $secondary) { status } }';
const COUNT =
  'query Count($status: ProjectStatus!) { projects(status: $status, hostPlatformId: "411700", first: 1) { totalCount } }';

async function graphql(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ data?: Record<string, unknown>; errors?: { message: string }[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
}

export interface Settled {
  settled: number;
  accepted: number;
  confirmed: number;
  refused: string[];
  arranging: number;
}

/** Arranges the projects at once (IN_FLIGHT in flight) and waits until none is VENUES_ARRANGING; times in ms. */
export async function settleArrangements(
  context: ScenarioContext,
  sagaProjects: string[],
  deadlineMs = DEADLINE_MS,
): Promise<Settled> {
  const { config, gatewayUrl } = context;
  const operator = await issueToken(
    config,
    { sub: 'bench-operator', role: 'PLATFORM_OPERATOR', platform: '411700' },
    '1h',
  );
  const admin = await issueToken(config, { sub: 'bench-admin', role: 'PROVINCIAL_ADMIN', platform: '410000' }, '1h');
  const count = async (status: string): Promise<number> => {
    const body = await graphql(gatewayUrl, admin, COUNT, { status });
    if (body.errors) throw new Error(`counting ${status}: ${body.errors[0].message}`);
    return (body.data as { projects: { totalCount: number } }).projects.totalCount;
  };
  const confirmedBefore = await count('VENUES_CONFIRMED');
  const refused: string[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < sagaProjects.length) {
        const index = next++;
        const county = ZHUMADIAN_COUNTIES[index % ZHUMADIAN_COUNTIES.length];
        const body = await graphql(gatewayUrl, operator, ARRANGE, {
          projectId: sagaProjects[index],
          mainRoomId: 'room-411700-1',
          secondary: [{ roomId: `room-${county.code}-1`, seats: 1 }],
        });
        if (body.errors) refused.push(`${sagaProjects[index]}: ${body.errors[0].message}`);
      }
    }),
  );
  const accepted = performance.now() - started;
  context.log(
    `  saga: ${sagaProjects.length - refused.length} arrangements accepted in ${(accepted / 1000).toFixed(1)} s${refused.length ? `, ${refused.length} refused, first: ${refused[0]}` : ''}`,
  );
  let arranging = await count('VENUES_ARRANGING');
  while (arranging > 0 && performance.now() - started < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    arranging = await count('VENUES_ARRANGING');
  }
  const settled = performance.now() - started;
  const confirmed = (await count('VENUES_CONFIRMED')) - confirmedBefore;
  context.log(
    `  saga: settled in ${(settled / 1000).toFixed(1)} s, ${confirmed} confirmed, ${arranging} still arranging`,
  );
  return { settled, accepted, confirmed, refused, arranging };
}

/** The first 500 saga projects (a run with the growth scenario loads more for its curve). */
export async function sagaScenario(context: ScenarioContext): Promise<ScenarioReport> {
  const sagaProjects = context.sagaProjects.slice(0, SAGA_PROJECTS);
  const { settled, accepted, confirmed, refused, arranging } = await settleArrangements(context, sagaProjects);
  return {
    name: 'Saga',
    status: 'measured',
    note: `${sagaProjects.length} arrangeVenues mutations through the gateway (${IN_FLIGHT} in flight) as Zhumadian's operator, main room room-411700-1 and one seat at an auto-confirming county room each; settled = none VENUES_ARRANGING (polled through the gateway every 100 ms).${refused.length ? ` Refused: ${refused.length}, first: ${refused[0]}` : ''}${arranging ? ` ${arranging} had not settled after ${DEADLINE_MS / 1000} s.` : ''}`,
    figures: [
      { name: 'time until all settle', value: settled / 1000, unit: 's', target: { value: 10, lowerIsBetter: true } },
      { name: 'time until all arrangements accepted', value: accepted / 1000, unit: 's' },
      { name: 'confirmed', value: confirmed, unit: 'projects' },
      { name: 'refused or unsettled', value: refused.length + arranging, unit: 'projects' },
    ],
  };
}
