// Scenarios that drive the domains' own service functions (the committee draw, the booking saga).
import type { HubConfig } from '../lib/config';
import type { Stack } from './stack';

export interface ScenarioContext {
  config: HubConfig;
  env: NodeJS.ProcessEnv;
  stack: Stack;
  /** FILED projects hosted by Zhumadian, loaded for the saga. */
  sagaProjects: string[];
  log(line: string): void;
  bearer: Record<string, string>;
  gatewayUrl: string;
  /** The data set's busiest day (the board query reads it). */
  busiestDay: { from: string; to: string; bookings: number };
  /** bench/results/<resultsBase>.{json,md}: files a scenario writes beside them (charts) start with it. */
  resultsBase: string;
}

export interface ScenarioFigure {
  name: string;
  value: number;
  unit: string;
  /** The target, when the issue sets one, and whether lower is better. */
  target?: { value: number; lowerIsBetter: boolean; inclusive?: boolean };
}

export interface ScenarioReport {
  name: string;
  status: 'measured' | 'not available' | 'failed';
  note?: string;
  figures: ScenarioFigure[];
  /** Markdown tables (and chart links) printed under the scenario's heading. */
  markdown?: string[];
  /** Everything measured, for the JSON results. */
  detail?: unknown;
}

export type Scenario = (context: ScenarioContext) => Promise<ScenarioReport>;
