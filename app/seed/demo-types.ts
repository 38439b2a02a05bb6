// The shapes and constants the demo data generators share (generate.ts, generate-projects.ts).
import type { Insertable } from 'kysely';
import type {
  CooperationAgreementTable,
  PlatformTable,
  RoomTable,
  SeatTable,
  VenueTable,
} from '../../subgraphs/venues';
import type { DeclaredConflictTable, EmploymentTable, ExpertTable, PenaltyTable } from '../../subgraphs/experts';
import type { ProjectEventTable, ProjectTable } from '../../subgraphs/projects';

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

export const DAY_MS = 86_400_000;
export const addDays = (date: Date, days: number): Date => new Date(date.getTime() + days * DAY_MS);
export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);
export const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** An organisation of the demo province: experts work there, projects' bidders and agencies are drawn from them. */
export interface Employer {
  name: string;
  specialty: Specialty;
  /** The city the organisation sits in: the pool of employers an expert of that city draws from. */
  cityCode: string;
}
