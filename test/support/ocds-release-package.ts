// Two checks of an OCDS release package:
// - ocdsReleasePackage: a trimmed OCDS 1.1 release-package schema written with zod from the standard's documentation
//   (the required fields of the package and of each release, the closed codelists the hub uses, ISO dates, organization
//   references, the uniqueness rules); fields the hub does not emit are left to passthrough.
// - officialOcdsIssues: the official OCDS 1.1.5 JSON Schema (draft-04) from ../shared/data/ocds-1.1.5 beside the repo,
//   with the hub's extension (schema/ocds-extension) applied as the standard applies extensions: its release-schema.json
//   as a JSON merge patch (RFC 7396) of the release schema, its +codelists added to the official ones. Every value of a
//   field that names a codelist, open or closed, must be a code of it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { z } from 'zod';

const dateTime = z
  .string()
  .refine(
    (value) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
      !Number.isNaN(Date.parse(value)),
    'an ISO 8601 date-time',
  );
const RELEASE_TAGS = [
  'planning',
  'planningUpdate',
  'tender',
  'tenderAmendment',
  'tenderUpdate',
  'tenderCancellation',
  'award',
  'awardUpdate',
  'awardCancellation',
  'contract',
  'contractUpdate',
  'contractAmendment',
  'implementation',
  'implementationUpdate',
  'contractTermination',
  'compiled',
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
    language: z
      .string()
      .regex(/^[a-z]{2}$/)
      .optional(),
    parties: z.array(organizationReference.extend({ roles: z.array(z.string().min(1)).min(1) })).optional(),
    buyer: organizationReference.optional(),
    tender: z
      .object({
        id: z.string().min(1),
        title: z.string().optional(),
        status: z
          .enum(['planning', 'planned', 'active', 'cancelled', 'unsuccessful', 'complete', 'withdrawn'])
          .optional(),
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
    publisher: z
      .object({
        name: z.string().min(1),
        scheme: z.string().optional(),
        uid: z.string().optional(),
        uri: z.string().url().optional(),
      })
      .passthrough(),
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
      if (new Set(parties).size !== parties.length)
        ctx.addIssue({ code: 'custom', message: `release ${release.id}: party ids repeat` });
    }
  });

const REPO = join(__dirname, '..', '..');
export const OFFICIAL_OCDS_DIR = join(REPO, '..', 'shared', 'data', 'ocds-1.1.5');
export const HUB_EXTENSION_DIR = join(REPO, 'schema', 'ocds-extension');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface JsonSchemaNode {
  $ref?: string;
  codelist?: string;
  openCodelist?: boolean;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  definitions?: Record<string, JsonSchemaNode>;
}

const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;
const isObject = (value: unknown): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7396: objects merge key by key, null removes a key, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: { [key: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** The rows of a CSV file (RFC 4180: fields in double quotes may hold commas, newlines and doubled quotes). */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') field += text[++i];
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((value) => value !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  row.push(field);
  if (row.some((value) => value !== '')) rows.push(row);
  return rows;
}

/** The codes of a codelist CSV: its Code column. */
function codesOf(path: string): string[] {
  const [header, ...rows] = csvRows(readFileSync(path, 'utf8'));
  const column = header.indexOf('Code');
  if (column < 0) throw new Error(`${path}: no Code column`);
  return rows.map((row) => row[column]);
}

interface OcdsSchemaSet {
  validate: ValidateFunction;
  releaseSchema: JsonSchemaNode;
  codelists: Map<string, Set<string>>;
}

let cached: OcdsSchemaSet | undefined;

function schemaSet(): OcdsSchemaSet {
  if (cached) return cached;
  const extension = readJson(join(HUB_EXTENSION_DIR, 'extension.json')) as { schemas?: string[]; codelists?: string[] };
  let releaseSchema = readJson(join(OFFICIAL_OCDS_DIR, 'release-schema.json'));
  for (const patch of extension.schemas ?? [])
    releaseSchema = mergePatch(releaseSchema, readJson(join(HUB_EXTENSION_DIR, patch)));
  const codelists = new Map<string, Set<string>>();
  for (const file of readdirSync(join(OFFICIAL_OCDS_DIR, 'codelists')))
    codelists.set(file, new Set(codesOf(join(OFFICIAL_OCDS_DIR, 'codelists', file))));
  for (const file of extension.codelists ?? []) {
    const codes = codesOf(join(HUB_EXTENSION_DIR, 'codelists', file));
    if (file.startsWith('+')) {
      const official = codelists.get(file.slice(1));
      if (!official) throw new Error(`the extension adds to ${file.slice(1)}, which is no official codelist`);
      for (const code of codes) official.add(code);
    } else if (file.startsWith('-')) {
      for (const code of codes) codelists.get(file.slice(1))?.delete(code);
    } else {
      codelists.set(file, new Set(codes));
    }
  }
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema(releaseSchema as object);
  const validate = ajv.compile(readJson(join(OFFICIAL_OCDS_DIR, 'release-package-schema.json')) as object);
  cached = { validate, releaseSchema: releaseSchema as JsonSchemaNode, codelists };
  return cached;
}

/** Values of codelist fields that are not codes of their codelist (with the extension's codes added). */
function codelistIssues(set: OcdsSchemaSet, node: JsonSchemaNode, value: Json, path: string, issues: string[]): void {
  const resolved = node.$ref ? set.releaseSchema.definitions![node.$ref.replace('#/definitions/', '')] : node;
  if (!resolved || value === null) return;
  if (resolved.codelist) {
    const codes = set.codelists.get(resolved.codelist);
    if (!codes) issues.push(`${path}: codelist ${resolved.codelist} is unknown`);
    for (const code of Array.isArray(value) ? value : [value]) {
      if (codes && !codes.has(String(code)))
        issues.push(
          `${path}: ${JSON.stringify(code)} is not a code of ${resolved.codelist}${resolved.openCodelist ? ' (open: an extension must add it)' : ''}`,
        );
    }
  }
  if (resolved.properties && isObject(value)) {
    for (const [key, field] of Object.entries(value))
      if (resolved.properties[key]) codelistIssues(set, resolved.properties[key], field, `${path}.${key}`, issues);
  }
  if (resolved.items && Array.isArray(value))
    value.forEach((item, i) => codelistIssues(set, resolved.items!, item, `${path}[${i}]`, issues));
}

/**
 * Everything the official OCDS 1.1.5 schema, with the hub's extension applied, finds wrong with a release package
 * (parsed JSON): schema errors as "path: message", then codelist values that are no code. Empty when it conforms.
 */
export function officialOcdsIssues(pkg: unknown): string[] {
  const set = schemaSet();
  const issues: string[] = [];
  if (!set.validate(pkg))
    issues.push(
      ...(set.validate.errors ?? []).map(
        (error) => `${error.instancePath || '/'}: ${error.message} ${JSON.stringify(error.params)}`,
      ),
    );
  const releases = isObject(pkg) && Array.isArray(pkg.releases) ? pkg.releases : [];
  releases.forEach((release, i) => codelistIssues(set, set.releaseSchema, release, `releases[${i}]`, issues));
  return issues;
}
