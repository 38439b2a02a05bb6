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
}

export interface ScenarioFigure {
  name: string;
  value: number;
  unit: string;
  /** The target, when the issue sets one, and whether lower is better. */
  target?: { value: number; lowerIsBetter: boolean };
}

export interface ScenarioReport {
  name: string;
  status: 'measured' | 'not available' | 'failed';
  note?: string;
  figures: ScenarioFigure[];
}

export type Scenario = (context: ScenarioContext) => Promise<ScenarioReport>;
