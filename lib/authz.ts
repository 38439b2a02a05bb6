// Access checks shared by every subgraph: who the caller is, and refusals that say who may do a thing.
import type { Identity, Role } from './identity';
import { forbidden } from './errors';

/**
 * Refuses unless the caller has one of the roles.
 *
 * ```ts
 * requireRole(identity, ['PLATFORM_OPERATOR'], 'arrange venues');
 * ```
 */
export function requireRole(identity: Identity, roles: readonly Role[], action: string): void {
  if (!roles.includes(identity.role)) {
    throw forbidden(`only ${roles.join(' or ')} may ${action}; your token's role is ${identity.role}`);
  }
}

/** Refuses unless the caller acts for the given platform. */
export function requirePlatform(identity: Identity, platformId: string, action: string): void {
  if (identity.platform !== platformId) {
    throw forbidden(
      `only staff of platform ${platformId} may ${action}; your token is for platform ${identity.platform}`,
    );
  }
}

/** Describes the caller for timelines and audits without any personal data. */
export function actorOf(identity: Identity): string {
  switch (identity.role) {
    case 'AGENCY':
      return `agency:${identity.org}`;
    case 'SUPERVISOR':
      return `supervisor:${identity.department}@${identity.platform}:${identity.sub}`;
    case 'EXPERT':
      return `expert:${identity.expert}`;
    default:
      return `${identity.role.toLowerCase()}@${identity.platform}:${identity.sub}`;
  }
}
