// The stock gateway the board query is compared with: `new ApolloGateway({ supergraphSdl })` + `startStandaloneServer`,
// all defaults. The one addition: our subgraphs refuse unsigned requests, so a minimal RemoteGraphQLDataSource
// subclass signs a fixed identity (the provincial admin the bench queries as) over each body, exactly as the hub's
// gateway does. It verifies no token at all, which only makes it cheaper than ours.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { signIdentity, type Identity } from '../lib/identity';
import { readSupergraph } from '../schema/supergraph';

const secret = process.env.HUB_INTERNAL_SECRET!;
const identity: Identity = { sub: 'bench-admin', role: 'PROVINCIAL_ADMIN', platform: '410000' };
const urls: Record<string, string> = {
  venues: `http://127.0.0.1:${process.env.VENUES_PORT}/graphql`,
  experts: `http://127.0.0.1:${process.env.EXPERTS_PORT}/graphql`,
  projects: `http://127.0.0.1:${process.env.PROJECTS_PORT}/graphql`,
};

class SigningDataSource extends RemoteGraphQLDataSource {
  override willSendRequest({ request }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]) {
    // RemoteGraphQLDataSource.sendRequest sends JSON.stringify({ query, ...rest }) without `http`: sign exactly that.
    const { http: _http, query, ...rest } = request;
    const body = JSON.stringify({ query, ...rest });
    for (const [name, value] of Object.entries(signIdentity(secret, identity, body)))
      request.http?.headers.set(name, value);
  }
}

async function main(): Promise<void> {
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const gateway = new ApolloGateway({
    supergraphSdl: readSupergraph(),
    buildService: ({ name }) => new SigningDataSource({ url: urls[name] }),
  });
  const server = new ApolloServer({ gateway });
  await startStandaloneServer(server, { listen: { port: Number(process.env.STOCK_GATEWAY_PORT), host: '127.0.0.1' } });
  const stop = () => void server.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`stock gateway failed: ${String(error)}\n`);
  process.exit(1);
});
