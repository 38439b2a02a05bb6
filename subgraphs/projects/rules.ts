// The rules a submitted project must satisfy (Tendering Law art. 37 and the committee provisions), each naming its field.
import { badInput } from '../../lib/errors';
import type { Department } from '../../lib/identity';
import type { EvaluationMode, ProcurementMethod, ProjectCategory } from './types';

export interface SubmitProjectInput {
  code: string;
  name: string;
  category: ProjectCategory;
  department: Department;
  hostPlatformId: string;
  tenderer: string;
  agency: string;
  bidders: string[];
  budget: bigint;
  mode: EvaluationMode;
  /** OPEN when the agency does not say. */
  procurementMethod?: ProcurementMethod | null;
  committeeSize: number;
  tendererRepresentatives: number;
  evaluationStartsAt: Date;
  evaluationEndsAt: Date;
}

/** Government procurement of 10,000,000 CNY or more needs a committee of 7 or more. */
export const LARGE_PROCUREMENT_BUDGET_FEN = 1_000_000_000n;
export const MAX_EVALUATION_DAYS = 14;
const MAX_TEXT = 200;
// Control characters have no place in names or codes; they break exports and logs.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function text(field: string, value: string, max = MAX_TEXT): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw badInput(field, 'must not be empty');
  if (trimmed.length > max) throw badInput(field, `must be at most ${max} characters`);
  if (CONTROL.test(trimmed)) throw badInput(field, 'must not contain control characters');
  return trimmed;
}

/** Checks a submission and returns it normalised (trimmed texts); throws BAD_USER_INPUT naming the field otherwise. */
export function checkSubmission(input: SubmitProjectInput, now: Date): SubmitProjectInput {
  const code = text('input.code', input.code, 64);
  if (!/^[\p{L}\p{N}_\-/.()]+$/u.test(code))
    throw badInput('input.code', 'may contain letters, digits and - _ / . ( ) only');
  const bidders = input.bidders.map((bidder, index) => text(`input.bidders[${index}]`, bidder));
  if (bidders.length === 0) throw badInput('input.bidders', 'must list at least one bidder');
  if (bidders.length > 500) throw badInput('input.bidders', 'must list at most 500 bidders');
  if (new Set(bidders).size !== bidders.length) throw badInput('input.bidders', 'must not list the same bidder twice');
  if (!/^\d{6}$/.test(input.hostPlatformId))
    throw badInput('input.hostPlatformId', 'must be a six-digit region code such as 411700');

  const size = input.committeeSize;
  if (!Number.isInteger(size) || size < 5 || size % 2 === 0)
    throw badInput('input.committeeSize', 'must be an odd number of 5 or more');
  if (size > 99) throw badInput('input.committeeSize', 'must be at most 99');
  if (input.category === 'GOVERNMENT_PROCUREMENT' && input.budget >= LARGE_PROCUREMENT_BUDGET_FEN && size < 7) {
    throw badInput(
      'input.committeeSize',
      'must be 7 or more for government procurement with a budget of 10,000,000 CNY or more',
    );
  }
  const representatives = input.tendererRepresentatives;
  if (!Number.isInteger(representatives) || representatives < 0)
    throw badInput('input.tendererRepresentatives', 'must be zero or more');
  if (3 * (size - representatives) < 2 * size) {
    throw badInput(
      'input.tendererRepresentatives',
      `too many: drawn experts (committeeSize - tendererRepresentatives) must be at least two thirds of the committee, so at most ${Math.floor(size / 3)} for a committee of ${size}`,
    );
  }

  const starts = input.evaluationStartsAt;
  const ends = input.evaluationEndsAt;
  if (ends.getTime() <= starts.getTime()) throw badInput('input.evaluationEndsAt', 'must be after evaluationStartsAt');
  if (ends.getTime() - starts.getTime() > MAX_EVALUATION_DAYS * 86_400_000)
    throw badInput('input.evaluationEndsAt', `the evaluation may last at most ${MAX_EVALUATION_DAYS} days`);
  if (starts.getTime() <= now.getTime()) throw badInput('input.evaluationStartsAt', 'must be in the future');
  if (starts.getTime() - now.getTime() > 2 * 366 * 86_400_000)
    throw badInput('input.evaluationStartsAt', 'must be within two years');

  return {
    ...input,
    code,
    name: text('input.name', input.name),
    tenderer: text('input.tenderer', input.tenderer),
    agency: text('input.agency', input.agency),
    bidders,
  };
}
