// Migrations of schema "venues", in order.
import type { Migration } from 'kysely';
import * as m001 from './001_platforms_venues_bookings';
import * as m002 from './002_booking_saga';
import * as m010 from './010_bench_indexes';
import * as m011 from './011_rooms_blocks';
import * as m012 from './012_master_data';

export const venuesMigrations: Record<string, Migration> = {
  '001_platforms_venues_bookings': m001,
  '002_booking_saga': m002,
  '010_bench_indexes': m010,
  '011_rooms_blocks': m011,
  '012_master_data': m012,
};
