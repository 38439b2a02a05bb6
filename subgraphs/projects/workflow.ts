// The project state machine of DOMAIN.md: every allowed transition is listed here and nowhere else.
import type { ProjectStatus } from './types';

/** For each state, the states it may move to. */
export const TRANSITIONS: Readonly<Record<ProjectStatus, readonly ProjectStatus[]>> = {
  SUBMITTED: ['FILED', 'REJECTED', 'CANCELLED'],
  FILED: ['VENUES_ARRANGING', 'CANCELLED'],
  REJECTED: [],
  // A failed arrangement (a partner rejects, a hold expires) returns the project to FILED.
  VENUES_ARRANGING: ['VENUES_CONFIRMED', 'FILED', 'CANCELLED'],
  VENUES_CONFIRMED: ['FEE_ADVANCED', 'CANCELLED'],
  FEE_ADVANCED: ['EXPERTS_DRAWING', 'CANCELLED'],
  // A failed draw returns the project to the state it was drawn from.
  EXPERTS_DRAWING: ['COMMITTEE_CONFIRMED', 'FEE_ADVANCED', 'CANCELLED'],
  COMMITTEE_CONFIRMED: ['IN_EVALUATION', 'CANCELLED'],
  IN_EVALUATION: ['EVALUATED', 'CANCELLED'],
  EVALUATED: ['ARCHIVED', 'CANCELLED'],
  ARCHIVED: [],
  CANCELLED: [],
};

export const TERMINAL_STATES: readonly ProjectStatus[] = (Object.keys(TRANSITIONS) as ProjectStatus[]).filter(
  (state) => TRANSITIONS[state].length === 0,
);

/** The states from which `to` may be reached. */
export function statesLeadingTo(to: ProjectStatus): ProjectStatus[] {
  return (Object.keys(TRANSITIONS) as ProjectStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}

export function canTransition(from: ProjectStatus, to: ProjectStatus): boolean {
  return TRANSITIONS[from].includes(to);
}
