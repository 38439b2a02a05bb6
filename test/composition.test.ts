// The committed supergraph is what composing the committed subgraph SDLs produces.
import { composeSupergraph, readSupergraph } from '../schema/supergraph';

describe('composition', () => {
  it('composes the three subgraphs without errors', () => {
    const result = composeSupergraph();
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it('matches the committed schema/supergraph.graphql (run `npm run compose` when this fails)', () => {
    const result = composeSupergraph();
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(readSupergraph()).toBe(result.supergraphSdl);
  });
});
