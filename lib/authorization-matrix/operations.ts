// The authorization matrix, its operations: one row per `Type.field`. lib/authorization.ts enforces it;
// test/schema-authorization.test.ts checks it against rights written by hand from DOMAIN.md and MASTER-DATA.md.
import { ADMIN_ONLY, DRAW_OVERSEERS, EVERYONE, HOST_OPERATOR, PROJECT_READERS, type AccessRule } from '../access-rules';

/** Every field of Query and Mutation: which roles may call it, and the scope each row's `enforcedBy` checks. */
export const OPERATION_RIGHTS: Readonly<Record<string, AccessRule>> = {
  // venues: reference data is for every authenticated caller; schedules and decisions are the rooms' platforms'.
  'Query.platform': EVERYONE,
  'Query.platforms': EVERYONE,
  // Agencies and experts have no business knowing when and where other projects are evaluated.
  'Query.schedule': {
    roles: {
      PROVINCIAL_ADMIN: 'ANY',
      PLATFORM_OPERATOR: 'ANY',
      SUPERVISOR: 'ANY',
      PARTNER_SYSTEM: 'OWN_PLATFORM_LIST',
    },
    enforcedBy: 'subgraphs/venues/resolvers.ts Query.schedule (visibleTo)',
  },
  'Query.webhookDeliveries': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM', PARTNER_SYSTEM: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/resolvers.ts Query.webhookDeliveries',
  },
  // Room blocks are part of the schedule: the same readers, a partner system its own rooms' blocks.
  'Query.scheduleBlocks': {
    roles: {
      PROVINCIAL_ADMIN: 'ANY',
      PLATFORM_OPERATOR: 'ANY',
      SUPERVISOR: 'ANY',
      PARTNER_SYSTEM: 'OWN_PLATFORM_LIST',
    },
    enforcedBy: 'subgraphs/venues/resolvers.ts Query.scheduleBlocks (visibleTo)',
  },
  // Venues and rooms: the platform's own operators and the province (MASTER-DATA.md); blocks also its partner system.
  'Mutation.createVenue': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/rooms.ts requireKeeper',
  },
  'Mutation.createRoom': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: "subgraphs/venues/rooms.ts requireKeeper (the venue's platform)",
  },
  'Mutation.updateRoom': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ROOM_PLATFORM' },
    enforcedBy: "subgraphs/venues/rooms.ts requireKeeper (the room's platform)",
  },
  'Mutation.retireRoom': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ROOM_PLATFORM' },
    enforcedBy: "subgraphs/venues/rooms.ts requireKeeper (the room's platform)",
  },
  'Mutation.putRoomBlock': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ROOM_PLATFORM', PARTNER_SYSTEM: 'ROOM_PLATFORM' },
    enforcedBy: "subgraphs/venues/blocks.ts putRoomBlock (requireKeeper, the room's platform)",
  },
  'Mutation.removeRoomBlock': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM', PARTNER_SYSTEM: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/blocks.ts removeRoomBlock (requireKeeper)',
  },
  'Mutation.confirmBooking': {
    roles: { PLATFORM_OPERATOR: 'ROOM_PLATFORM', PARTNER_SYSTEM: 'ROOM_PLATFORM' },
    enforcedBy: 'subgraphs/venues/decisions.ts requireRoomPlatform',
  },
  'Mutation.rejectBooking': {
    roles: { PLATFORM_OPERATOR: 'ROOM_PLATFORM', PARTNER_SYSTEM: 'ROOM_PLATFORM' },
    enforcedBy: 'subgraphs/venues/decisions.ts requireRoomPlatform',
  },
  // Master data (MASTER-DATA.md): a platform's operators keep its endpoint; agreements and rates are the province's.
  'Mutation.setPartnerEndpoint': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/endpoints.ts requireEndpointKeeper',
  },
  'Mutation.testPartnerEndpoint': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/endpoints.ts requireEndpointKeeper',
  },
  'Mutation.setCooperationAgreement': { roles: ADMIN_ONLY },
  'Mutation.endCooperationAgreement': { roles: ADMIN_ONLY },
  'Mutation.setFeeRates': { roles: ADMIN_ONLY },

  // experts: the pool is the province's; draws are overseen by the host, its supervisors and the province.
  'Query.experts': { roles: ADMIN_ONLY },
  'Query.expertDraw': { roles: DRAW_OVERSEERS, enforcedBy: 'subgraphs/experts/sealing.ts mayVerifyDraw' },
  'Query.verifyExpertDraw': { roles: DRAW_OVERSEERS, enforcedBy: 'subgraphs/experts/sealing.ts mayVerifyDraw' },
  'Query.myInvitations': {
    roles: { EXPERT: 'OWN_EXPERT_LIST' },
    enforcedBy: 'subgraphs/experts/draw-records.ts invitationsOfExpert (token expert id)',
  },
  'Query.sealedAccessAudit': {
    roles: { PROVINCIAL_ADMIN: 'ANY', SUPERVISOR: 'DEPARTMENT_REGION' },
    enforcedBy: 'subgraphs/experts/sealing.ts mayReadAccessAudit',
  },
  'Mutation.respondToInvitation': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/invitations.ts respondToInvitation',
  },
  'Query.accessAttempts': {
    roles: { PROVINCIAL_ADMIN: 'ANY', SUPERVISOR: 'DEPARTMENT_REGION' },
    enforcedBy: 'subgraphs/experts/sealing.ts mayReadAccessAudit',
  },
  // The specialty list is reference data; the pool's change records are the province's and its supervisors' (sealed
  // fields of a record are left out for supervisors: lib/master-data-audit.ts shownFields); the import is the province's.
  'Query.specialties': EVERYONE,
  'Query.masterDataChanges': { roles: { PROVINCIAL_ADMIN: 'ANY', SUPERVISOR: 'ANY' } },
  'Mutation.importExperts': { roles: ADMIN_ONLY },
  // Keeping the pool (MASTER-DATA.md): the province's; an expert keeps only its own declarations (the token's expert).
  'Mutation.registerExpert': { roles: ADMIN_ONLY },
  'Mutation.updateExpert': { roles: ADMIN_ONLY },
  'Mutation.recordEmployment': { roles: ADMIN_ONLY },
  'Mutation.suspendExpert': { roles: ADMIN_ONLY },
  'Mutation.reinstateExpert': { roles: ADMIN_ONLY },
  'Mutation.recordPenalty': { roles: ADMIN_ONLY },
  'Mutation.retireExpert': { roles: ADMIN_ONLY },
  'Mutation.removeConflict': { roles: ADMIN_ONLY },
  'Mutation.declareConflict': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/declarations.ts ownExpert (token expert id)',
  },
  'Mutation.declareUnavailability': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/declarations.ts ownExpert (token expert id)',
  },
  'Mutation.cancelUnavailability': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: "subgraphs/experts/declarations.ts cancelUnavailability (the window is the token expert's)",
  },
  // Every attempt to enter the evaluation area is recorded, refused ones too (supervisors read them in accessAttempts).
  'Mutation.checkIn': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/check-in.ts refusalOf',
    refusalsAudited: ['experts.access_attempt', 'experts.outbox', 'projects.project_event', 'projects.outbox'],
  },

  // projects: readers of a project by role; each workflow step by the role DOMAIN.md gives it.
  'Query.project': { roles: PROJECT_READERS, enforcedBy: 'subgraphs/projects/service.ts ProjectsService.canRead' },
  'Query.projects': {
    roles: {
      PROVINCIAL_ADMIN: 'ANY',
      PLATFORM_OPERATOR: 'HOST_PLATFORM_LIST',
      PARTNER_SYSTEM: 'HOST_PLATFORM_LIST',
      SUPERVISOR: 'DEPARTMENT_REGION_LIST',
      AGENCY: 'OWN_ORGANISATION_LIST',
    },
    enforcedBy: 'subgraphs/projects/service.ts ProjectsService.listProjects',
  },
  'Query.verifyProjectArchive': {
    roles: PROJECT_READERS,
    enforcedBy: 'subgraphs/projects/steps/archive.ts verifyProjectArchive (canRead)',
  },
  'Query.archiveBundle': {
    roles: PROJECT_READERS,
    enforcedBy: 'subgraphs/projects/steps/archive.ts archiveBundle (canRead; committee only where mayReadSeatExpert)',
  },
  'Query.archiveReleasePackage': {
    roles: PROJECT_READERS,
    enforcedBy: 'subgraphs/projects/steps/archive.ts archiveBundle (canRead, without sealed parts)',
  },
  'Query.platformBalances': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/projects/resolvers.ts Query.platformBalances',
  },
  'Query.reconciliationReport': { roles: ADMIN_ONLY },
  'Query.latestReconciliationReport': { roles: ADMIN_ONLY },
  'Query.projectsEvaluatedBetween': { roles: ADMIN_ONLY },
  'Mutation.runReconciliation': { roles: ADMIN_ONLY },
  'Mutation.submitProject': {
    roles: { AGENCY: 'OWN_ORGANISATION', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/projects/service.ts ProjectsService.submitProject',
  },
  'Mutation.fileProject': {
    roles: { SUPERVISOR: 'DEPARTMENT_REGION' },
    enforcedBy: 'subgraphs/projects/service.ts ProjectsService.fileProject',
  },
  'Mutation.arrangeVenues': {
    roles: HOST_OPERATOR,
    enforcedBy: 'subgraphs/projects/steps/arrange-venues.ts arrangeVenues',
  },
  'Mutation.advanceEvaluationFee': {
    roles: { AGENCY: 'OWN_ORGANISATION', PLATFORM_OPERATOR: 'HOST_PLATFORM' },
    enforcedBy: 'subgraphs/projects/steps/fee-advance.ts',
  },
  'Mutation.drawExperts': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps/draw-experts.ts drawExperts' },
  'Mutation.startEvaluation': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps startEvaluation' },
  'Mutation.replaceCommitteeMember': {
    roles: HOST_OPERATOR,
    enforcedBy: 'subgraphs/projects/steps replaceCommitteeMember',
  },
  'Mutation.completeEvaluation': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps completeEvaluation' },
  'Mutation.archiveProject': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps/archive.ts archiveProject' },
  'Mutation.cancelProject': {
    roles: { PLATFORM_OPERATOR: 'HOST_PLATFORM', PROVINCIAL_ADMIN: 'ANY' },
    enforcedBy: 'subgraphs/projects/steps/cancel-project.ts cancelProject',
  },
};
