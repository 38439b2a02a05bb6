// Migrations of schema "experts", in order.
import type { Migration } from 'kysely';
import * as m001 from './001_pool_draws_seats';
import * as m002 from './002_draw_groups';
import * as m003 from './003_check_in';
import * as m004 from './004_eligibility_indexes';
import * as m005 from './005_pool_reads';
import * as m006 from './006_round_compression';
import * as m007 from './007_seal_audit';
import * as m008 from './008_master_data';
import * as m009 from './009_pool_keeping';
import * as m010 from './010_roster_version';

export const expertsMigrations: Record<string, Migration> = {
  '001_pool_draws_seats': m001,
  '002_draw_groups': m002,
  '003_check_in': m003,
  '004_eligibility_indexes': m004,
  '005_pool_reads': m005,
  '006_round_compression': m006,
  '007_seal_audit': m007,
  '008_master_data': m008,
  '009_pool_keeping': m009,
  '010_roster_version': m010,
};
