// Deterministic demo data for the whole hub: platforms, venues, the shared expert pool and a few projects.
// Pure: the same options always give the same rows (no clock, no I/O), so tests and demos can rely on them.
import type { Insertable } from 'kysely';
import { DEPARTMENTS, type Department } from '../../lib/identity';
import type {
  CooperationAgreementTable,
  PlatformTable,
  RoomTable,
  SeatTable,
  VenueTable,
} from '../../subgraphs/venues';
import type { DeclaredConflictTable, EmploymentTable, ExpertTable, PenaltyTable } from '../../subgraphs/experts';
import type { ProjectCategory, ProjectEventTable, ProjectStatus, ProjectTable } from '../../subgraphs/projects';
import { eventHash, GENESIS_HASH } from '../../subgraphs/projects';
import { HENAN_CITIES, HENAN_PROVINCE, ZHUMADIAN, ZHUMADIAN_COUNTIES, type Division } from './henan';
import { createRandom, type Random } from './random';

export const SPECIALTIES = [
  'CIVIL_ENGINEERING',
  'ROAD_AND_BRIDGE',
  'WATER_CONSERVANCY',
  'ELECTRICAL',
  'HVAC',
  'COST_ESTIMATION',
  'IT_SYSTEMS',
  'MEDICAL_EQUIPMENT',
  'GOODS_PROCUREMENT',
  'LANDSCAPING',
  'MUNICIPAL_WORKS',
  'LEGAL',
] as const;
export type Specialty = (typeof SPECIALTIES)[number];

/** Demo "now": windows and dates hang off this fixed instant (09:00 CST), never off the clock. */
export const REFERENCE_DATE = new Date('2026-12-01T01:00:00Z');

export interface DemoOptions {
  experts?: number;
  seed?: number;
}

export interface DemoData {
  venues: {
    platform: Insertable<PlatformTable>[];
    cooperation_agreement: Insertable<CooperationAgreementTable>[];
    venue: Insertable<VenueTable>[];
    room: Insertable<RoomTable>[];
    seat: Insertable<SeatTable>[];
  };
  experts: {
    expert: Insertable<ExpertTable>[];
    employment: Insertable<EmploymentTable>[];
    declared_conflict: Insertable<DeclaredConflictTable>[];
    penalty: Insertable<PenaltyTable>[];
  };
  projects: {
    project: Insertable<ProjectTable>[];
    project_event: Insertable<ProjectEventTable>[];
  };
}

// How common each specialty is in the pool: building works and cost estimation dominate real pools.
const SPECIALTY_WEIGHTS: Record<Specialty, number> = {
  CIVIL_ENGINEERING: 6,
  COST_ESTIMATION: 5,
  MUNICIPAL_WORKS: 3,
  ROAD_AND_BRIDGE: 3,
  ELECTRICAL: 3,
  WATER_CONSERVANCY: 2,
  GOODS_PROCUREMENT: 3,
  HVAC: 2,
  IT_SYSTEMS: 2,
  LANDSCAPING: 2,
  MEDICAL_EQUIPMENT: 1.5,
  LEGAL: 1.5,
};
// The kind of organisation an expert of a specialty works for.
const EMPLOYER_KIND: Record<Specialty, string> = {
  CIVIL_ENGINEERING: '建设工程有限公司',
  ROAD_AND_BRIDGE: '路桥工程有限公司',
  WATER_CONSERVANCY: '水利水电工程有限公司',
  ELECTRICAL: '电力工程有限公司',
  HVAC: '暖通设备安装有限公司',
  COST_ESTIMATION: '工程造价咨询有限公司',
  IT_SYSTEMS: '信息技术有限公司',
  MEDICAL_EQUIPMENT: '医疗器械有限公司',
  GOODS_PROCUREMENT: '商贸有限公司',
  LANDSCAPING: '园林绿化工程有限公司',
  MUNICIPAL_WORKS: '市政工程有限公司',
  LEGAL: '律师事务所',
};
const DEPARTMENT_OFFICE: Record<Department, string> = {
  FINANCE: '财政局',
  HOUSING_AND_CONSTRUCTION: '住房和城乡建设局',
  TRANSPORT: '交通运输局',
  WATER_RESOURCES: '水利局',
};
const SURNAMES =
  '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文'.split(
    '',
  );
const GIVEN =
  '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文斌鹏辉宇浩凯晨航振海波宁欣怡博佳琳雪梅俊峰永新庆春卫东'.split(
    '',
  );
// Invented two-character brand names, so no generated company can be mistaken for a real one.
const BRAND = '豫恒鼎泰瑞嘉博诚信达通德隆昌盛宏远安源汇中兴华睿景'.split('');
const PENALTY_REASONS = [
  '评标过程中私下接触投标人',
  '无正当理由拒不参加评标',
  '评标中未客观公正履行职责',
  '泄露评标委员会成员名单',
];

const DAY_MS = 86_400_000;
const addDays = (date: Date, days: number): Date => new Date(date.getTime() + days * DAY_MS);
const isoDay = (date: Date): string => date.toISOString().slice(0, 10);
const pad = (value: number, width: number): string => String(value).padStart(width, '0');
/** '驻马店市' → '驻马店', '西平县' → '西平': the short form used inside organisation names. */
const shortName = (division: Division): string => division.name.replace(/(市|县|区|省)$/, '');

export function generateDemoData(options: DemoOptions = {}): DemoData {
  const rng = createRandom(options.seed ?? 20261201);
  const expertCount = options.experts ?? 3000;
  const venues = generateVenues(rng);
  const employers = generateEmployers(rng);
  const experts = generateExperts(rng, expertCount, employers);
  const projects = generateProjects(rng, employers);
  return { venues, experts, projects };
}

// ---------------------------------------------------------------- platforms, venues, agreements

function generateVenues(rng: Random): DemoData['venues'] {
  const data: DemoData['venues'] = { platform: [], cooperation_agreement: [], venue: [], room: [], seat: [] };
  const addPlatform = (division: Division, level: PlatformTable['level'], parentId: string | null): void => {
    data.platform.push({
      id: division.code,
      name: `${division.name}公共资源交易中心`,
      name_en: `${division.nameEn}${level === 'PROVINCE' ? ' Provincial' : ''} Public Resource Trading Center`,
      level,
      parent_id: parentId,
      // Per half day, in fen; each center publishes its own rates, so they differ.
      expert_fee_rate: rng.int(40, 60) * 1000,
      seat_service_fee: rng.int(10, 20) * 500,
      webhook_url: null,
    });
    // The province and cities run larger evaluation centers than county branches.
    const roomCount = level === 'COUNTY' ? rng.int(1, 2) : rng.int(2, 4);
    const venueId = `ven-${division.code}`;
    data.venue.push({ id: venueId, platform_id: division.code, name: `${division.name}公共资源交易中心评标中心` });
    const roomWithoutVideo = level !== 'COUNTY' && rng.chance(0.3) ? roomCount : 0;
    for (let number = 1; number <= roomCount; number++) {
      const seats = level === 'COUNTY' ? rng.int(3, 5) : rng.int(5, 9);
      const roomId = `room-${division.code}-${number}`;
      data.room.push({
        id: roomId,
        venue_id: venueId,
        name: `${number}号评标室`,
        seats,
        video_terminal: number !== roomWithoutVideo,
      });
      for (let seatNo = 1; seatNo <= seats; seatNo++) data.seat.push({ room_id: roomId, seat_no: seatNo });
    }
  };
  addPlatform(HENAN_PROVINCE, 'PROVINCE', null);
  for (const city of HENAN_CITIES) addPlatform(city, 'CITY', HENAN_PROVINCE.code);
  for (const county of ZHUMADIAN_COUNTIES) addPlatform(county, 'COUNTY', county.parent);

  const agree = (a: string, b: string, autoConfirm: boolean): void => {
    data.cooperation_agreement.push({ platform_id: a, partner_id: b, auto_confirm: autoConfirm });
    data.cooperation_agreement.push({ platform_id: b, partner_id: a, auto_confirm: autoConfirm });
  };
  // Zhumadian pilots remote evaluation: its own counties confirm automatically, other cities by hand.
  for (const county of ZHUMADIAN_COUNTIES) agree(ZHUMADIAN, county.code, true);
  for (const city of HENAN_CITIES) if (city.code !== ZHUMADIAN) agree(ZHUMADIAN, city.code, false);
  const neighbours: [string, string][] = [
    ['410100', '410200'], // Zhengzhou - Kaifeng
    ['410100', '411000'], // Zhengzhou - Xuchang
    ['410300', '411200'], // Luoyang - Sanmenxia
    ['410700', '410600'], // Xinxiang - Hebi
    ['410800', '419001'], // Jiaozuo - Jiyuan
  ];
  for (const [a, b] of neighbours) agree(a, b, false);
  return data;
}

// ---------------------------------------------------------------- organisations

interface Employer {
  name: string;
  specialty: Specialty;
  /** The city the organisation sits in: the pool of employers an expert of that city draws from. */
  cityCode: string;
}

/** Fictional organisations per city and specialty; every name carries '示例' (example). */
function generateEmployers(rng: Random): Employer[] {
  const employers: Employer[] = [];
  const taken = new Set<string>();
  const regions: [Division, string][] = [
    ...HENAN_CITIES.map((city): [Division, string] => [city, city.code]),
    ...ZHUMADIAN_COUNTIES.map((county): [Division, string] => [county, county.parent]),
    // Province-wide firms ('河南…') employ experts of every city.
    [HENAN_PROVINCE, HENAN_PROVINCE.code],
  ];
  for (const [division, cityCode] of regions) {
    for (const specialty of SPECIALTIES) {
      const perRegion = division.code === cityCode ? 2 : 1;
      for (let i = 0; i < perRegion; i++) {
        let name: string;
        do name = `${shortName(division)}${rng.pick(BRAND)}${rng.pick(BRAND)}示例${EMPLOYER_KIND[specialty]}`;
        while (taken.has(name));
        taken.add(name);
        employers.push({ name, specialty, cityCode });
      }
    }
  }
  return employers;
}

// ---------------------------------------------------------------- the expert pool

function generateExperts(rng: Random, count: number, employers: Employer[]): DemoData['experts'] {
  const data: DemoData['experts'] = { expert: [], employment: [], declared_conflict: [], penalty: [] };
  // Cities hold most of the pool; Zhengzhou, the capital, the most.
  const homes: [Division, number][] = [
    ...HENAN_CITIES.map((city): [Division, number] => [city, city.code === '410100' ? 3 : 2]),
    ...ZHUMADIAN_COUNTIES.map((county): [Division, number] => [county, 1]),
  ];
  const byCity = new Map<string, Employer[]>();
  for (const employer of employers) byCity.set(employer.cityCode, [...(byCity.get(employer.cityCode) ?? []), employer]);
  const cityOf = (code: string): string => ZHUMADIAN_COUNTIES.find((county) => county.code === code)?.parent ?? code;
  const indexes = Array.from({ length: count }, (_, i) => i);
  const pickSet = (share: number): Set<number> => new Set(rng.sample(indexes, Math.round(count * share)));
  const supervisionStaff = pickSet(0.02);
  const suspended = pickSet(0.01);
  const penalised = pickSet(0.01);
  const withConflict = pickSet(0.03);

  for (let i = 0; i < count; i++) {
    const id = `exp-${pad(i + 1, 5)}`;
    const home = rng.weighted(homes);
    const specialties: Specialty[] = [];
    const wanted = rng.weighted([
      [1, 5],
      [2, 4],
      [3, 2],
    ] as const);
    while (specialties.length < wanted) {
      const specialty = rng.weighted(SPECIALTIES.map((s) => [s, SPECIALTY_WEIGHTS[s]] as const));
      if (!specialties.includes(specialty)) specialties.push(specialty);
    }
    const local = [...(byCity.get(cityOf(home.code)) ?? []), ...(byCity.get(HENAN_PROVINCE.code) ?? [])];
    const department = supervisionStaff.has(i) ? rng.pick(DEPARTMENTS) : null;
    const employer = department
      ? `${home.name}${DEPARTMENT_OFFICE[department]}`
      : rng.pick(local.filter((e) => e.specialty === specialties[0]));
    const employerName = typeof employer === 'string' ? employer : employer.name;
    data.expert.push({
      id,
      code: `HN-E-${pad(i + 1, 5)}`,
      name: rng.pick(SURNAMES) + rng.pick(GIVEN) + (rng.chance(0.7) ? rng.pick(GIVEN) : ''),
      phone: `139${pad(rng.int(0, 99_999_999), 8)}`,
      home_platform_id: home.code,
      specialties,
      employer: employerName,
      supervision_department: department,
      supervision_region: department ? home.code : null,
      status: suspended.has(i) ? 'SUSPENDED' : 'ACTIVE',
    });

    // Employment history, newest first: the current job, then 0-2 earlier ones (some of them board seats).
    let started = addDays(REFERENCE_DATE, -rng.int(365, 18 * 365));
    data.employment.push({
      expert_id: id,
      organisation: employerName,
      relation: 'EMPLOYEE',
      started_on: isoDay(started),
      ended_on: null,
    });
    for (
      let past = rng.weighted([
        [0, 4],
        [1, 4],
        [2, 2],
      ] as const);
      past > 0;
      past--
    ) {
      const ended = addDays(started, -rng.int(0, 60));
      started = addDays(ended, -rng.int(365, 6 * 365));
      const organisation = rng.pick(local.filter((e) => e.name !== employerName)).name;
      const relation = rng.chance(0.25) ? 'BOARD_MEMBER' : 'EMPLOYEE';
      data.employment.push({
        expert_id: id,
        organisation,
        relation,
        started_on: isoDay(started),
        ended_on: isoDay(ended),
      });
    }
    if (withConflict.has(i)) {
      const organisation = rng.pick(local.filter((e) => e.name !== employerName)).name;
      data.declared_conflict.push({
        expert_id: id,
        organisation,
        kind: rng.chance(0.5) ? 'KINSHIP' : 'ECONOMIC_INTEREST',
      });
    }
    if (penalised.has(i)) {
      const imposed = addDays(REFERENCE_DATE, -rng.int(30, 3 * 365));
      // A third expired, a third still running, a third open-ended.
      const kind = rng.int(0, 2);
      const until =
        kind === 2
          ? null
          : isoDay(kind === 0 ? addDays(imposed, rng.int(20, 29)) : addDays(REFERENCE_DATE, rng.int(30, 365)));
      data.penalty.push({ expert_id: id, reason: rng.pick(PENALTY_REASONS), imposed_on: isoDay(imposed), until });
    }
  }
  return data;
}

// ---------------------------------------------------------------- projects

interface ProjectSpec {
  host: string;
  name: string;
  tenderer: string;
  category: ProjectCategory;
  specialty: Specialty;
  status: Extract<ProjectStatus, 'SUBMITTED' | 'FILED' | 'REJECTED' | 'CANCELLED'>;
}
const DEPARTMENT_OF: Record<ProjectCategory, Department> = {
  CONSTRUCTION: 'HOUSING_AND_CONSTRUCTION',
  GOVERNMENT_PROCUREMENT: 'FINANCE',
  TRANSPORT: 'TRANSPORT',
  WATER_CONSERVANCY: 'WATER_RESOURCES',
  OTHER: 'FINANCE',
};
// Only states reachable without bookings or draws: later states are produced by the workflow itself.
const PROJECT_SPECS: ProjectSpec[] = [
  {
    host: ZHUMADIAN,
    name: '驻马店市示例中心城区安置小区二期施工',
    tenderer: '驻马店市示例城市建设投资有限公司',
    category: 'CONSTRUCTION',
    specialty: 'CIVIL_ENGINEERING',
    status: 'FILED',
  },
  {
    host: ZHUMADIAN,
    name: '驻马店市示例人民医院医疗设备采购',
    tenderer: '驻马店市示例人民医院',
    category: 'GOVERNMENT_PROCUREMENT',
    specialty: 'MEDICAL_EQUIPMENT',
    status: 'FILED',
  },
  {
    host: ZHUMADIAN,
    name: '驻马店市示例快速通道改建工程',
    tenderer: '驻马店市示例交通投资有限公司',
    category: 'TRANSPORT',
    specialty: 'ROAD_AND_BRIDGE',
    status: 'FILED',
  },
  {
    host: ZHUMADIAN,
    name: '驻马店市示例智慧政务平台建设',
    tenderer: '驻马店市示例大数据中心',
    category: 'GOVERNMENT_PROCUREMENT',
    specialty: 'IT_SYSTEMS',
    status: 'SUBMITTED',
  },
  {
    host: ZHUMADIAN,
    name: '驻马店市示例老旧小区改造配套管网工程',
    tenderer: '驻马店市示例城市建设投资有限公司',
    category: 'CONSTRUCTION',
    specialty: 'MUNICIPAL_WORKS',
    status: 'SUBMITTED',
  },
  {
    host: ZHUMADIAN,
    name: '驻马店市示例体育中心暖通改造',
    tenderer: '驻马店市示例体育事业发展中心',
    category: 'CONSTRUCTION',
    specialty: 'HVAC',
    status: 'REJECTED',
  },
  {
    host: ZHUMADIAN,
    name: '驻马店市示例公园景观提升工程',
    tenderer: '驻马店市示例园林绿化服务中心',
    category: 'CONSTRUCTION',
    specialty: 'LANDSCAPING',
    status: 'CANCELLED',
  },
  {
    host: '411721',
    name: '西平县示例灌区续建配套与节水改造',
    tenderer: '西平县示例水利工程管理站',
    category: 'WATER_CONSERVANCY',
    specialty: 'WATER_CONSERVANCY',
    status: 'FILED',
  },
  {
    host: '411728',
    name: '遂平县示例产业集聚区供电线路工程',
    tenderer: '遂平县示例产业集聚区管理委员会',
    category: 'CONSTRUCTION',
    specialty: 'ELECTRICAL',
    status: 'SUBMITTED',
  },
  {
    host: '411725',
    name: '确山县示例中小学课桌椅采购',
    tenderer: '确山县示例教育事业服务中心',
    category: 'GOVERNMENT_PROCUREMENT',
    specialty: 'GOODS_PROCUREMENT',
    status: 'CANCELLED',
  },
];
const AGENCIES = ['驻马店示例招标代理有限公司', '河南豫达示例项目管理有限公司', '驻马店天中示例工程咨询有限公司'];
// Evaluation windows in UTC: a morning, an afternoon and a full day in China Standard Time.
const WINDOWS: [startHourUtc: number, endHourUtc: number][] = [
  [1, 4],
  [6, 9],
  [1, 9],
];

function generateProjects(rng: Random, employers: Employer[]): DemoData['projects'] {
  const data: DemoData['projects'] = { project: [], project_event: [] };
  PROJECT_SPECS.forEach((spec, index) => {
    const id = `prj-demo-${pad(index + 1, 3)}`;
    const department = DEPARTMENT_OF[spec.category];
    const agency = AGENCIES[index % AGENCIES.length];
    const agencyActor = `agency:${agency}`;
    // Actors in the form actorOf (lib/authz) gives the real callers.
    const supervisorActor = `supervisor:${department}@${spec.host}:demo-supervisor`;
    const operatorActor = `platform_operator@${spec.host}:demo-operator`;
    // Budgets from 0.5 to 30 million CNY, in fen, as text (int8 never passes through a float).
    const budgetTenThousands = rng.int(50, 3000);
    const budget = `${budgetTenThousands}000000`;
    // Procurement of 10 million CNY or more needs at least 7 members; drawn experts are at least two thirds.
    const minimumSize = spec.category === 'GOVERNMENT_PROCUREMENT' && budgetTenThousands >= 1000 ? 7 : 5;
    const committeeSize = rng.pick([5, 7, 9].filter((size) => size >= minimumSize));
    const tendererRepresentatives = rng.int(0, Math.floor(committeeSize / 3));
    const candidates = employers.filter((e) => e.specialty === spec.specialty).map((e) => e.name);
    const bidders = rng.sample(candidates, rng.int(2, 5));
    // Evaluations one to four weeks after the reference date, skipping weekends.
    let day = addDays(REFERENCE_DATE, 7 + index * 2 + rng.int(0, 1));
    while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day = addDays(day, 1);
    const [startHour, endHour] = rng.pick(WINDOWS);
    const startsAt = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), startHour));
    const endsAt = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), endHour));
    const submittedAt = addDays(REFERENCE_DATE, -rng.int(4, 12));
    const filedAt = addDays(submittedAt, rng.int(1, 3));
    const code = `ZMD-2026-${pad(index + 1, 4)}`;
    // The timeline matches the status (submitted, then filed or rejected, perhaps cancelled) and chains its
    // hashes exactly as the projects service does, so verifyProjectArchive accepts seeded projects too.
    const events: Insertable<ProjectEventTable>[] = [];
    const event = (
      at: Date,
      kind: string,
      actor: string,
      detail: string | null,
      data: { [key: string]: string } = {},
    ): void => {
      const seq = events.length + 1;
      const prevHash = events.length === 0 ? GENESIS_HASH : events[events.length - 1].hash;
      const hash = eventHash(prevHash, { projectId: id, seq, at: at.toISOString(), kind, actor, detail, data });
      events.push({
        project_id: id,
        seq,
        at,
        kind,
        actor,
        detail,
        data: JSON.stringify(data),
        prev_hash: prevHash,
        hash,
      });
    };
    event(submittedAt, 'SUBMITTED', agencyActor, `project ${code} submitted for filing`, { code });
    if (spec.status === 'FILED') event(filedAt, 'FILED', supervisorActor, 'filing approved');
    if (spec.status === 'REJECTED')
      event(filedAt, 'REJECTED', supervisorActor, '投标人资格条件设置不合理，请修改后重新提交');
    if (spec.status === 'CANCELLED') {
      // One cancelled by the host after filing, one withdrawn by its agency before: both are allowed before archive.
      const wasFiled = index % 2 === 0;
      if (wasFiled) event(filedAt, 'FILED', supervisorActor, 'filing approved');
      event(addDays(filedAt, wasFiled ? 1 : 0), 'CANCELLED', wasFiled ? operatorActor : agencyActor, '招标人撤回项目');
    }
    data.project.push({
      id,
      code,
      name: spec.name,
      category: spec.category,
      department,
      host_platform_id: spec.host,
      tenderer: spec.tenderer,
      agency,
      bidders,
      budget,
      // One county project stays local: the regional rule does not apply to it.
      mode: spec.host === '411725' ? 'LOCAL' : 'REMOTE',
      committee_size: committeeSize,
      tenderer_representatives: tendererRepresentatives,
      evaluation_starts_at: startsAt,
      evaluation_ends_at: endsAt,
      status: spec.status,
      fee_advance: null,
      submitted_by: agencyActor,
      created_at: submittedAt,
      updated_at: events[events.length - 1].at,
    });
    data.project_event.push(...events);
  });
  return data;
}
