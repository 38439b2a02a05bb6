// The busy-day scenario (issue 19, item 1): 20 identities polling the board, the 29 partner systems polling their own
// platform's schedule for the next 7 days, and about 5 writes/s of a real day's mix, all at once, against the hub as
// deployed (response cache on), the stock gateway over the same subgraphs, and the hub with its cache off; alternating.
import { issueToken } from '../gateway/tokens';
import type { Identity } from '../lib/identity';
import { HENAN_CITIES } from '../app/seed/henan';
import { openMaterialDatabases, nextWindow, nextWindowOf, prepareMaterial, type Material } from './busy-material';
import {
  reportOf,
  ROUNDS,
  SECONDS,
  summarise,
  WRITES_PER_SECOND,
  type BusyRun,
  type Latencies,
  type Poller,
  type Side,
} from './busy-report';
import type { ScenarioContext, ScenarioReport } from './scenarios';
import { freePort, startProcess, startStockGateway, waitReady } from './stack';

/** Connections per board identity (20 identities) and per partner system (29). */
const BOARD_LOOPS = 2;
const PARTNER_LOOPS = 1;
/**
 * Of every 20 writes: 5 invitations answered, 4 bookings confirmed, 3 room blocks put by partner systems, 3 projects
 * submitted, 2 filed, 3 check-ins.
 */
const MIX = [
  'invitation',
  'confirm',
  'block',
  'submit',
  'checkIn',
  'invitation',
  'confirm',
  'file',
  'block',
  'invitation',
  'confirm',
  'checkIn',
  'submit',
  'invitation',
  'block',
  'confirm',
  'file',
  'invitation',
  'submit',
  'checkIn',
] as const;
type WriteKind = (typeof MIX)[number];
const share = (kind: WriteKind) => MIX.filter((entry) => entry === kind).length / MIX.length;

// The province board of the board scenario for provincial admins. Supervisors and operators may not read the projects
// of other departments and platforms (per-field authorization refuses the whole list), so theirs is the room board:
// the same bookings without the project. Operators ask for their own platform's rooms.
const ROOM_FIELDS = 'id role seats startsAt endsAt status room { name venue { name platform { name } } }';
const BOARD = `query Board($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { ${ROOM_FIELDS} project { code status expertDraw { status } } } }`;
const ROOM_BOARD = `query RoomBoard($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { ${ROOM_FIELDS} } }`;
const OWN_BOARD = `query OwnBoard($from: DateTime!, $to: DateTime!, $platformId: ID!) { schedule(from: $from, to: $to, platformId: $platformId) { ${ROOM_FIELDS} } }`;
const PARTNER =
  'query PartnerSchedule($from: DateTime!, $to: DateTime!, $platformId: ID!) { schedule(from: $from, to: $to, platformId: $platformId) { id role seats startsAt endsAt status holdExpiresAt room { id name } } }';
const WRITES: Record<WriteKind, string> = {
  invitation: 'mutation Answer($seatId: ID!) { respondToInvitation(seatId: $seatId, accept: true) { id status } }',
  checkIn: 'mutation CheckIn($seatId: ID!, $roomId: ID!) { checkIn(seatId: $seatId, roomId: $roomId) { id status } }',
  confirm: 'mutation Confirm($bookingId: ID!) { confirmBooking(bookingId: $bookingId) { id status } }',
  submit: 'mutation Submit($input: SubmitProjectInput!) { submitProject(input: $input) { id status } }',
  file: 'mutation File($projectId: ID!) { fileProject(projectId: $projectId, approve: true, note: "busy day") { id status } }',
  block:
    'mutation Block($roomId: ID!, $externalRef: String!, $from: DateTime!, $to: DateTime!) { putRoomBlock(roomId: $roomId, externalRef: $externalRef, from: $from, to: $to, seats: 1, reason: "本地评标") { id seats } }',
};

async function post(url: string, token: string | null, body: string): Promise<{ ok: boolean; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  return { ok: response.status === 200 && text.startsWith('{"data":') && !text.includes('"errors":'), text };
}

/** The hub cache outcome counter of a gateway's /metrics, by outcome. */
async function cacheOutcomes(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(url)).text();
  const outcomes: Record<string, number> = {};
  for (const match of text.matchAll(/^hub_response_cache_queries_total\{([^}]*)\}\s+(\S+)$/gm)) {
    const outcome = /outcome="([^"]+)"/.exec(match[1])?.[1] ?? 'unknown';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + Number(match[2]);
  }
  return outcomes;
}

export async function busyScenario(context: ScenarioContext): Promise<ScenarioReport> {
  const { config, stack, log, busiestDay } = context;
  const token = (identity: Identity) => issueToken(config, identity, '4h');
  const platforms = HENAN_CITIES.map((city) => city.code);
  // 20 board identities: 2 provincial admins, 6 supervisors (the province's 4 departments, 2 cities), 12 city operators.
  const boardIdentities: { identity: Identity; own: boolean }[] = [
    ...[1, 2].map((n) => ({
      identity: { sub: `busy-admin-${n}`, role: 'PROVINCIAL_ADMIN' as const, platform: '410000' },
      own: false,
    })),
    ...(['FINANCE', 'HOUSING_AND_CONSTRUCTION', 'TRANSPORT', 'WATER_RESOURCES'] as const).map((department) => ({
      identity: { sub: `busy-supervisor-${department}`, role: 'SUPERVISOR' as const, platform: '410000', department },
      own: false,
    })),
    ...platforms.slice(0, 2).map((platform) => ({
      identity: {
        sub: `busy-supervisor-${platform}`,
        role: 'SUPERVISOR' as const,
        platform,
        department: 'HOUSING_AND_CONSTRUCTION' as const,
      },
      own: false,
    })),
    ...platforms.slice(0, 12).map((platform) => ({
      identity: { sub: `busy-operator-${platform}`, role: 'PLATFORM_OPERATOR' as const, platform },
      own: true,
    })),
  ];
  const day = { from: busiestDay.from, to: busiestDay.to };
  const week = {
    from: busiestDay.from,
    to: new Date(new Date(busiestDay.from).getTime() + 7 * 86_400_000).toISOString(),
  };
  const material = openMaterialDatabases(config);
  const allPlatforms = (await material.venues.db.selectFrom('platform').select('id').orderBy('id').execute()).map(
    (row) => row.id,
  );
  const pollers: Poller[] = [];
  for (const { identity, own } of boardIdentities) {
    const query = identity.role === 'PROVINCIAL_ADMIN' ? BOARD : ROOM_BOARD;
    const body = JSON.stringify(
      own ? { query: OWN_BOARD, variables: { ...day, platformId: identity.platform } } : { query, variables: day },
    );
    for (let n = 0; n < BOARD_LOOPS; n++) pollers.push({ kind: 'board', body, token: await token(identity) });
  }
  // Each partner system polls its own platform's rooms for the 7 days from the busiest day (the data set's "today").
  for (const platform of allPlatforms) {
    const body = JSON.stringify({ query: PARTNER, variables: { ...week, platformId: platform } });
    for (let n = 0; n < PARTNER_LOOPS; n++)
      pollers.push({
        kind: 'partner',
        body,
        token: await token({ sub: `busy-partner-${platform}`, role: 'PARTNER_SYSTEM', platform }),
      });
  }
  const operatorTokens = new Map<string, Promise<string>>();
  const operatorToken = (platform: string) => {
    if (!operatorTokens.has(platform))
      operatorTokens.set(platform, token({ sub: `busy-operator-${platform}`, role: 'PLATFORM_OPERATOR', platform }));
    return operatorTokens.get(platform)!;
  };
  const supervisor = await token({
    sub: 'busy-filing-supervisor',
    role: 'SUPERVISOR',
    platform: '410000',
    department: 'HOUSING_AND_CONSTRUCTION',
  });

  const uncachedPort = await freePort();
  const uncached = startProcess(
    'gateway-uncached-busy',
    ['dist/gateway/main.js'],
    {
      ...stack.env,
      GATEWAY_PORT: String(uncachedPort),
      METRICS_PORT: String(await freePort()),
      HUB_RESPONSE_CACHE_MB: '0',
    },
    uncachedPort,
  );
  await waitReady(`http://127.0.0.1:${uncachedPort}/readyz`);
  const stock = await startStockGateway(stack);
  const uncachedUrl = `http://127.0.0.1:${uncachedPort}/graphql`;
  const sides: Side[] = [
    {
      name: 'hub, cache on (as deployed)',
      readUrl: context.gatewayUrl,
      writeUrl: context.gatewayUrl,
      metricsUrl: `http://127.0.0.1:${stack.ports.metrics}/metrics`,
      tokens: true,
    },
    { name: 'stock gateway', readUrl: `http://127.0.0.1:${stock.port}/`, writeUrl: uncachedUrl, tokens: false },
    { name: 'hub, cache off', readUrl: uncachedUrl, writeUrl: uncachedUrl, tokens: true },
  ];
  const send = async (tokenValue: string, query: string, variables: Record<string, unknown>) => {
    const response = await fetch(uncachedUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenValue}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { errors?: { message: string }[] };
  };

  const runs: BusyRun[] = [];
  try {
    // Every poll checked once through every side before anything is measured: a query a role may not run is a bench bug.
    for (const side of sides) {
      for (const poller of pollers) {
        const answer = await post(side.readUrl, side.tokens ? poller.token : null, poller.body);
        if (!answer.ok)
          throw new Error(`busy: a ${poller.kind} poll through the ${side.name} answered ${answer.text.slice(0, 400)}`);
      }
    }
    const writesPerRun = Math.ceil(SECONDS * WRITES_PER_SECOND);
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of sides) {
        const prepared = await prepareMaterial(
          material,
          writesPerRun,
          { invitation: share('invitation'), confirm: share('confirm'), checkIn: share('checkIn') },
          send,
          operatorToken,
        );
        const before = side.metricsUrl ? await cacheOutcomes(side.metricsUrl) : undefined;
        const run = await measure(side, pollers, prepared, { operatorToken, supervisor, token });
        if (side.metricsUrl && before) {
          const after = await cacheOutcomes(side.metricsUrl);
          const outcomes = Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - (before[key] ?? 0)]));
          const total = Object.values(outcomes).reduce((sum, value) => sum + value, 0);
          run.cache = { hit: outcomes.hit ?? 0, total, hitRate: total ? (outcomes.hit ?? 0) / total : 0, outcomes };
        }
        run.round = round + 1;
        runs.push(run);
        log(
          `  busy ${side.name}, round ${round + 1}: board ${run.board.rps.toFixed(0)} req/s p50 ${run.board.p50.toFixed(0)} p99 ${run.board.p99.toFixed(0)} ms bad ${run.board.bad}; partner ${run.partner.rps.toFixed(0)} req/s p99 ${run.partner.p99.toFixed(0)} ms bad ${run.partner.bad}; writes ${run.write.rps.toFixed(1)}/s p99 ${run.write.p99.toFixed(0)} ms bad ${run.write.bad}${run.cache ? `; cache hits ${(run.cache.hitRate * 100).toFixed(1)}%` : ''}`,
        );
        if (run.write.firstBad) log(`    first bad write: ${run.write.firstBad}`);
        // The side just loaded drains before the next starts.
        await post(side.readUrl, side.tokens ? pollers[0].token : null, pollers[0].body).catch(() => undefined);
      }
    }
  } finally {
    await stock.stop();
    await uncached.stop();
    await material.close();
  }
  return reportOf(runs, sides, pollers);
}

interface Tokens {
  operatorToken(platform: string): Promise<string>;
  supervisor: string;
  token(identity: Identity): Promise<string>;
}

/** One measured run of one side: every poller in a closed loop, the writes at a constant rate, for SECONDS. */
async function measure(side: Side, pollers: Poller[], material: Material, tokens: Tokens): Promise<BusyRun> {
  const reads = { board: { times: [], bad: 0 } as Latencies, partner: { times: [], bad: 0 } as Latencies };
  const writes: Latencies = { times: [], bad: 0 };
  const byKind: Record<string, number> = {};
  const started = performance.now();
  const until = started + SECONDS * 1000;
  const loop = async (poller: Poller) => {
    const into = reads[poller.kind];
    while (performance.now() < until) {
      const at = performance.now();
      const answer = await post(side.readUrl, side.tokens ? poller.token : null, poller.body).catch(
        (error: unknown) => ({ ok: false, text: String(error) }),
      );
      into.times.push(performance.now() - at);
      if (!answer.ok) {
        into.bad++;
        into.firstBad ??= answer.text.slice(0, 300);
      }
    }
  };
  const submitted: string[] = [];
  const writeOne = async (index: number) => {
    let kind: WriteKind = MIX[index % MIX.length];
    if (kind === 'file' && !submitted.length) kind = 'submit';
    const request = await writeRequest(kind, index, material, submitted, tokens);
    if (!request) return;
    const at = performance.now();
    const answer = await post(
      side.writeUrl,
      request.token,
      JSON.stringify({ query: WRITES[kind], variables: request.variables }),
    ).catch((error: unknown) => ({ ok: false, text: String(error) }));
    writes.times.push(performance.now() - at);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (!answer.ok) {
      writes.bad++;
      writes.firstBad ??= `${kind}: ${answer.text.slice(0, 300)}`;
    } else if (kind === 'submit') {
      submitted.push((JSON.parse(answer.text) as { data: { submitProject: { id: string } } }).data.submitProject.id);
    }
  };
  // Open loop: a write every 1/WRITES_PER_SECOND s whether or not the last one answered, as independent users would.
  const inFlight: Promise<void>[] = [];
  const writer = (async () => {
    for (let index = 0; performance.now() < until; index++) {
      inFlight.push(writeOne(index));
      const due = started + ((index + 1) * 1000) / WRITES_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
  })();
  await Promise.all([...pollers.map(loop), writer]);
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  return {
    side: side.name,
    round: 0,
    board: summarise(reads.board, seconds),
    partner: summarise(reads.partner, seconds),
    write: { ...summarise(writes, seconds), byKind },
  };
}

let nextBlock = 0;
function blockWindow(): { startsAt: Date; endsAt: Date } {
  const { startsAt } = nextWindowOf(nextBlock++ % 400);
  const noon = new Date(startsAt);
  noon.setUTCHours(12, 0, 0, 0);
  return { startsAt: noon, endsAt: new Date(noon.getTime() + 3_600_000) };
}

async function writeRequest(
  kind: WriteKind,
  index: number,
  material: Material,
  submitted: string[],
  tokens: Tokens,
): Promise<{ token: string; variables: Record<string, unknown> } | null> {
  const expertToken = (seat: { expertId: string; platform: string }) =>
    tokens.token({
      sub: `busy-expert-${seat.expertId}`,
      role: 'EXPERT',
      platform: seat.platform,
      expert: seat.expertId,
    });
  if (kind === 'invitation') {
    const seat = material.invitations.shift();
    return seat ? { token: await expertToken(seat), variables: { seatId: seat.seatId } } : null;
  }
  if (kind === 'checkIn') {
    const seat = material.checkIns.shift();
    return seat ? { token: await expertToken(seat), variables: { seatId: seat.seatId, roomId: seat.roomId } } : null;
  }
  if (kind === 'confirm') {
    const hold = material.holds.shift();
    return hold ? { token: await tokens.operatorToken(hold.platform), variables: { bookingId: hold.bookingId } } : null;
  }
  if (kind === 'file') return { token: tokens.supervisor, variables: { projectId: submitted.shift() } };
  if (kind === 'block') {
    // The partner system's own room, an hour at noon (UTC) months ahead: outside every busy-day project's half day, so
    // blocks take none of the windows submissions need (those must start within two years).
    const platform = HENAN_CITIES[(index * 7) % HENAN_CITIES.length].code;
    const window = blockWindow();
    return {
      token: await tokens.token({ sub: `busy-partner-${platform}`, role: 'PARTNER_SYSTEM', platform }),
      variables: {
        roomId: `room-${platform}-1`,
        externalRef: `busy-${Date.now().toString(36)}-${index}`,
        from: window.startsAt.toISOString(),
        to: window.endsAt.toISOString(),
      },
    };
  }
  const host = HENAN_CITIES[index % HENAN_CITIES.length].code;
  const window = nextWindow();
  const input = {
    code: `BUSY-S-${Date.now().toString(36)}-${index}`,
    name: `繁忙日申报项目${index}`,
    category: 'CONSTRUCTION',
    department: 'HOUSING_AND_CONSTRUCTION',
    hostPlatformId: host,
    tenderer: '示例招标人',
    agency: '示例招标代理有限公司',
    bidders: ['示例投标人甲', '示例投标人乙'],
    budget: '500000000',
    mode: 'REMOTE',
    committeeSize: 5,
    tendererRepresentatives: 0,
    evaluationStartsAt: window.startsAt.toISOString(),
    evaluationEndsAt: window.endsAt.toISOString(),
  };
  return { token: await tokens.operatorToken(host), variables: { input } };
}
