// Assembles the whole hub from one configuration: services, the three subgraphs, the gateway and the workers.
// `npm start` runs it in one process; tests start it on free ports; production runs each part as its own process.
import type { Kysely } from 'kysely';
import { startGateway, type RunningGateway } from '../gateway/server';
import { createJobHandlers, type JobServices } from '../jobs/handlers';
import { startJobs, type JobsRuntime } from '../jobs/runtime';
import { randomIds, systemClock, type Clock } from '../lib/clock';
import type { HubConfig } from '../lib/config';
import type { HubDatabases } from './hub-databases';
import type { Logger } from '../lib/logger';
import type { WithOutbox } from '../lib/outbox';
import { startSubgraph, type RunningSubgraph } from '../lib/subgraph';
import { drawPolicyOf, ExpertsService, expertsSubgraph, SeatAccessReader } from '../subgraphs/experts';
import { ocdsPublicationOf, ProjectAccessReader, ProjectsService, projectsSubgraph } from '../subgraphs/projects';
import { deliverySettingsOf, VenuesService, type TestDeliveryOptions } from '../subgraphs/venues';
import { venuesSubgraph } from '../subgraphs/venues';
import { bookingDeskOf, changeLogSourceOf, drawDeskOf } from '../app/adapters';

export interface HubServices extends JobServices {}

export function createServices(
  config: HubConfig,
  logger: Logger,
  databases: HubDatabases,
  clock: Clock = systemClock,
  webhookDelivery: TestDeliveryOptions = {},
): HubServices {
  const venues = new VenuesService(databases.venues.db, clock, deliverySettingsOf(config, webhookDelivery));
  return {
    config,
    logger,
    venues,
    experts: new ExpertsService(databases.experts.db, clock, drawPolicyOf(config)),
    projects: new ProjectsService(databases.projects.db, venues, clock, randomIds),
  };
}

export function outboxSources(databases: HubDatabases) {
  return (['venues', 'experts', 'projects'] as const).map((schema) => ({
    schema,
    db: databases[schema].db as unknown as Kysely<WithOutbox>,
    url: databases[schema].url,
  }));
}

export interface RunningHub {
  gateway: RunningGateway;
  subgraphs: Record<'venues' | 'experts' | 'projects', RunningSubgraph>;
  jobs: JobsRuntime | null;
  services: HubServices;
  stop(): Promise<void>;
}

export interface HubOptions {
  config: HubConfig;
  logger: Logger;
  databases: HubDatabases;
  /** Ports: 0 picks free ones (tests); undefined uses the configured ones. */
  ports?: { gateway: number; venues: number; experts: number; projects: number };
  /** Start the workers and the outbox relay in this process (default true). */
  jobs?: boolean;
  /** The time the workers' services read (default the system's): tests advance one of their own past a deadline. */
  clock?: Clock;
  /** Tests only: the resolver and test networks webhook deliveries use (lib/safe-delivery.ts). */
  webhookDelivery?: TestDeliveryOptions;
}

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const { config, logger, databases } = options;
  const ports = options.ports ?? {
    gateway: config.GATEWAY_PORT,
    venues: config.VENUES_PORT,
    experts: config.EXPERTS_PORT,
    projects: config.PROJECTS_PORT,
  };
  const services = createServices(config, logger, databases, options.clock, options.webhookDelivery);
  // Venues and experts decide who may see a project's bookings, draws and seats from the projects domain's facts (and
  // venues whether an expert holds a seat of a booking from the experts domain's).
  const projectAccess = new ProjectAccessReader(databases.projects.db, services.venues);
  const venues = await startSubgraph(
    venuesSubgraph(
      databases.venues.db,
      projectAccess,
      new SeatAccessReader(databases.experts.db),
      deliverySettingsOf(config, options.webhookDelivery),
    ),
    config,
    logger.child({ service: 'venues' }),
    ports.venues,
  );
  const experts = await startSubgraph(
    expertsSubgraph(databases.experts.db, projectAccess, drawPolicyOf(config), services.venues, {
      venues: changeLogSourceOf(services.venues),
    }),
    config,
    logger.child({ service: 'experts' }),
    ports.experts,
  );
  const projects = await startSubgraph(
    projectsSubgraph(databases.projects.db, {
      venues: bookingDeskOf(services.venues),
      experts: drawDeskOf(services.experts),
      ocds: ocdsPublicationOf(config),
    }),
    config,
    logger.child({ service: 'projects' }),
    ports.projects,
  );
  const gateway = await startGateway({
    config,
    logger: logger.child({ service: 'gateway' }),
    port: ports.gateway,
    subgraphUrls: { venues: venues.url, experts: experts.url, projects: projects.url },
  });
  const jobs =
    options.jobs === false
      ? null
      : startJobs({
          config,
          logger: logger.child({ service: 'jobs' }),
          outboxes: outboxSources(databases),
          handlers: createJobHandlers(services),
        });
  return {
    gateway,
    subgraphs: { venues, experts, projects },
    jobs,
    services,
    async stop() {
      await gateway.stop();
      await Promise.all([venues.stop(), experts.stop(), projects.stop()]);
      await jobs?.stop();
    },
  };
}
