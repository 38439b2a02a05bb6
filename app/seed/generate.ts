// Deterministic demo data for the whole hub: platforms, venues, the shared expert pool and a few projects.
// Pure: the same options always give the same rows (no clock, no I/O), so tests and demos can rely on them.
import { DEPARTMENTS, type Department } from '../../lib/identity';
import type { PlatformTable } from '../../subgraphs/venues';
import { HENAN_CITIES, HENAN_PROVINCE, ZHUMADIAN, ZHUMADIAN_COUNTIES, type Division } from './henan';
import { createRandom, type Random } from './random';
import {
  addDays,
  isoDay,
  pad,
  REFERENCE_DATE,
  SPECIALTIES,
  type DemoData,
  type DemoOptions,
  type Employer,
  type Specialty,
} from './demo-types';
import { generateProjects } from './generate-projects';

export { REFERENCE_DATE, SPECIALTIES, type DemoData, type DemoOptions, type Specialty } from './demo-types';

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
