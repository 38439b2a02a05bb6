// Migrations of schema "experts", in order.
import type { Migration } from 'kysely';
import * as m001 from './001_pool_draws_seats';

export const expertsMigrations: Record<string, Migration> = {
  '001_pool_draws_seats': m001,
};
