// `npm run compose`: composes the three subgraph SDLs into schema/supergraph.graphql, failing on any composition error.
import { writeFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_PATH } from './supergraph';

const result = composeSupergraph();
if (!result.ok) {
  process.stderr.write(`Composition failed:\n${result.errors.join('\n')}\n`);
  process.exit(1);
}
writeFileSync(SUPERGRAPH_PATH, result.supergraphSdl);
process.stdout.write(`wrote ${SUPERGRAPH_PATH}\n`);
