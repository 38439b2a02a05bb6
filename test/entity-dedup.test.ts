// The gateway's entity fetches without repeats (gateway/entity-dedup.ts): each distinct representation is sent once,
// and every object gets its own answer back, errors included, as if it had been asked for itself.
import { distinctRepresentations, spreadEntities } from '../gateway/entity-dedup';

const project = (id: string) => ({ __typename: 'Project', id });

describe('distinctRepresentations', () => {
  it('sends each representation once and remembers which one answers each object', () => {
    const asked = [project('p1'), project('p2'), project('p1'), project('p3'), project('p2')];
    expect(distinctRepresentations(asked)).toEqual({
      distinct: [project('p1'), project('p2'), project('p3')],
      twinOf: [0, 1, 0, 2, 1],
    });
  });

  it('leaves a fetch without repeats as it is', () => {
    expect(distinctRepresentations([project('p1'), project('p2')])).toBeNull();
  });

  it('tells representations apart by every field they hold, not by id alone', () => {
    const asked = [
      { __typename: 'Project', id: 'p1', code: 'A' },
      { __typename: 'Project', id: 'p1', code: 'B' },
      { __typename: 'Project', id: 'p1', code: 'A' },
      { __typename: 'ExpertDraw', id: 'p1' },
      project('p1'),
    ];
    expect(distinctRepresentations(asked)?.twinOf).toEqual([0, 1, 0, 2, 3]);
  });
});

describe('spreadEntities', () => {
  it('gives every object its answer, a copy of its own for each repeat', () => {
    const answer = {
      data: {
        _entities: [
          { code: 'A', draw: { status: 'SEALED' } },
          { code: 'B', draw: null },
        ],
      },
    };
    const spread = spreadEntities(answer, [0, 1, 0]);
    const entities = (spread.data as { _entities: { code: string; draw: unknown }[] })._entities;
    expect(entities).toEqual([
      { code: 'A', draw: { status: 'SEALED' } },
      { code: 'B', draw: null },
      { code: 'A', draw: { status: 'SEALED' } },
    ]);
    // The gateway merges later fetches into these objects: two objects must never share one.
    expect(entities[2]).not.toBe(entities[0]);
    expect(entities[2].draw).not.toBe(entities[0].draw);
  });

  it("repeats an entity's error at the index of every object it answered, and keeps the others as they are", () => {
    const answer = {
      data: { _entities: [null, { code: 'B' }] },
      errors: [
        { message: 'not yours', path: ['_entities', 0, 'code'] },
        { message: 'the subgraph is busy' },
        { message: 'late', path: ['_entities', 1] },
      ],
    };
    const spread = spreadEntities(answer, [1, 0, 0, 1]);
    expect(spread.data).toEqual({ _entities: [{ code: 'B' }, null, null, { code: 'B' }] });
    expect(spread.errors).toEqual([
      { message: 'not yours', path: ['_entities', 1, 'code'] },
      { message: 'not yours', path: ['_entities', 2, 'code'] },
      { message: 'the subgraph is busy' },
      { message: 'late', path: ['_entities', 0] },
      { message: 'late', path: ['_entities', 3] },
    ]);
  });

  it('passes an answer without entities (a refused fetch) through', () => {
    const answer = { data: null, errors: [{ message: 'unauthenticated' }] };
    expect(spreadEntities(answer, [0, 0])).toEqual(answer);
  });
});
