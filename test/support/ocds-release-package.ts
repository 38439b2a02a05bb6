// A trimmed OCDS 1.1 release-package schema written with zod from the standard's documentation (no network here to
// fetch the official JSON Schema): the required fields of the package and of each release, the closed codelists the
// hub uses (release tags, initiation type, tender status, procurement method, main procurement category), ISO dates,
// and organization references. Fields the hub does not emit are left to passthrough.
import { z } from 'zod';

const dateTime = z.string().refine((value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)), 'an ISO 8601 date-time');
const RELEASE_TAGS = [
  'planning', 'planningUpdate', 'tender', 'tenderAmendment', 'tenderUpdate', 'tenderCancellation', 'award', 'awardUpdate',
  'awardCancellation', 'contract', 'contractUpdate', 'contractAmendment', 'implementation', 'implementationUpdate',
  'contractTermination', 'compiled',
] as const;
const organizationReference = z.object({ id: z.string().min(1), name: z.string().min(1) }).passthrough();
const period = z.object({ startDate: dateTime.optional(), endDate: dateTime.optional() }).passthrough();
const value = z.object({ amount: z.number().finite(), currency: z.string().regex(/^[A-Z]{3}$/) }).strict();

export const ocdsRelease = z
  .object({
    ocid: z.string().regex(/^ocds-[a-z0-9]{6}-.+$/, 'ocid: a registered prefix ocds-xxxxxx followed by an identifier'),
    id: z.string().min(1),
    date: dateTime,
    tag: z.array(z.enum(RELEASE_TAGS)).min(1),
    initiationType: z.literal('tender'),
    language: z.string().regex(/^[a-z]{2}$/).optional(),
    parties: z.array(organizationReference.extend({ roles: z.array(z.string().min(1)).min(1) })).optional(),
    buyer: organizationReference.optional(),
    tender: z
      .object({
        id: z.string().min(1),
        title: z.string().optional(),
        status: z.enum(['planning', 'planned', 'active', 'cancelled', 'unsuccessful', 'complete', 'withdrawn']).optional(),
        value: value.optional(),
        procurementMethod: z.enum(['open', 'selective', 'limited', 'direct']).optional(),
        mainProcurementCategory: z.enum(['goods', 'works', 'services']).optional(),
        procuringEntity: organizationReference.optional(),
        tenderers: z.array(organizationReference).optional(),
        numberOfTenderers: z.number().int().nonnegative().optional(),
        awardPeriod: period.optional(),
        tenderPeriod: period.optional(),
      })
      .passthrough()
      .optional(),
    awards: z.array(z.object({ id: z.string().min(1) }).passthrough()).optional(),
  })
  .passthrough();

export const ocdsReleasePackage = z
  .object({
    uri: z.string().url(),
    version: z.literal('1.1'),
    publishedDate: dateTime,
    publisher: z.object({ name: z.string().min(1), scheme: z.string().optional(), uid: z.string().optional(), uri: z.string().url().optional() }).passthrough(),
    releases: z.array(ocdsRelease).min(1),
    extensions: z.array(z.string().url()).optional(),
    license: z.string().url().optional(),
    publicationPolicy: z.string().url().optional(),
  })
  .strict()
  // Release ids are unique within a package, parties' ids within a release (OCDS uniqueness rules).
  .superRefine((pkg, ctx) => {
    const ids = pkg.releases.map((release) => `${release.ocid}/${release.id}`);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', message: 'release ids repeat' });
    for (const release of pkg.releases) {
      const parties = (release.parties ?? []).map((party) => party.id);
      if (new Set(parties).size !== parties.length) ctx.addIssue({ code: 'custom', message: `release ${release.id}: party ids repeat` });
    }
  });
