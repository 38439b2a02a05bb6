// Migrations of schema "venues", in order.
import type { Migration } from 'kysely';
import * as m001 from './001_platforms_venues_bookings';
import * as m010 from './010_bench_indexes';

export const venuesMigrations: Record<string, Migration> = {
  '001_platforms_venues_bookings': m001,
  '010_bench_indexes': m010,
};
