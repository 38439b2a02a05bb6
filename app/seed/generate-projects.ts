// The demo projects: a handful in early states, hosted by Zhumadian, with their hash-chained timelines.
import type { Department } from '../../lib/identity';
import type { Insertable } from 'kysely';
import type { ProjectCategory, ProjectEventTable, ProjectStatus } from '../../subgraphs/projects';
import { eventHash, GENESIS_HASH } from '../../subgraphs/projects';
import { ZHUMADIAN } from './henan';
import type { Random } from './random';
import { addDays, pad, REFERENCE_DATE, type DemoData, type Employer, type Specialty } from './demo-types';
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

export function generateProjects(rng: Random, employers: Employer[]): DemoData['projects'] {
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
