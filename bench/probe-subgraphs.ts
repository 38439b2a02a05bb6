// Times each subgraph's part of the board query against a running bench stack (ports and secret from the environment).
import { encodeIdentity, IDENTITY_HEADER, SIGNATURE_HEADER, signatureFor } from '../lib/identity';

const secret = process.env.HUB_INTERNAL_SECRET!;
const identity = encodeIdentity({ sub: 'probe', role: 'PROVINCIAL_ADMIN', platform: '410000' });
const [from, to] = (process.env.PROBE_WINDOW ?? '2026-12-20T16:00:00.000Z,2026-12-21T16:00:00.000Z').split(',');

async function post(
  port: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ ms: number; body: { data?: Record<string, unknown[]>; errors?: unknown } }> {
  const body = JSON.stringify({ query, variables });
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [IDENTITY_HEADER]: identity,
      [SIGNATURE_HEADER]: signatureFor(secret, identity, body),
    },
    body,
  });
  const parsed = (await response.json()) as { data?: Record<string, unknown[]>; errors?: unknown };
  return { ms: performance.now() - started, body: parsed };
}

async function main(): Promise<void> {
  const schedule =
    'query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { id role seats startsAt endsAt status room { name venue { name platform { name } } } project { id } } }';
  const first = await post(process.env.VENUES_PORT!, schedule, { from, to });
  const projectIds = [
    ...new Set((first.body.data?.schedule as { project: { id: string } }[]).map((booking) => booking.project.id)),
  ];
  const representations = projectIds.map((id) => ({ __typename: 'Project', id }));
  const projects =
    'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Project { code status } } }';
  const draws =
    'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Project { expertDraw { status } } } }';
  for (let round = 0; round < 5; round++) {
    const a = await post(process.env.VENUES_PORT!, schedule, { from, to });
    const b = await post(process.env.PROJECTS_PORT!, projects, { representations });
    const c = await post(process.env.EXPERTS_PORT!, draws, { representations });
    process.stdout.write(
      `venues schedule ${a.ms.toFixed(0)} ms (${(a.body.data?.schedule ?? []).length}), projects ${b.ms.toFixed(0)} ms (${projectIds.length}) ${b.body.errors ? JSON.stringify(b.body.errors).slice(0, 200) : ''}, experts ${c.ms.toFixed(0)} ms ${c.body.errors ? JSON.stringify(c.body.errors).slice(0, 200) : ''}\n`,
    );
  }
}

void main();
