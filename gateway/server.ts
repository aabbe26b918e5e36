/**
 * The Apollo Server both entries (local HTTP and Lambda) share: schema from the SDL files,
 * resolvers from the domain manifests, and the limits that refuse abusive documents during
 * validation, before any resolver (and so any DynamoDB call) runs.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLSchema } from 'graphql';
import { loadTypeDefs } from '../schema/index.js';
import { buildResolvers } from './resolvers.js';
import { executableSchema, type ExecutableSchemaOptions } from './executableSchema.js';
import { routedDomains, type RoutedDomain } from './manifests.js';
import { formatErrorFor } from './plugins/formatError.js';
import { introspectionForAdmins } from './plugins/introspectionForAdmins.js';
import { requestLogging } from './plugins/requestLogging.js';
import { MAX_QUERY_COST, queryCostLimit } from './plugins/queryCost.js';
import type { GatewayContext } from './context.js';
import { API_GATEWAY_BODY_LIMIT_BYTES } from './payloadLimits.js';

export const LIMITS = {
  maxDepth: 12,
  maxAliases: 20,
  maxTokens: 5000,
  /** Fields resolved, estimated with page sizes (gateway/plugins/queryCost.ts). */
  maxCost: MAX_QUERY_COST,
  maxDirectives: 20,
  /** API Gateway's body limit; the gateway Lambda's 6 MB event limit applies after it (gateway/payloadLimits.ts). */
  maxBodyBytes: API_GATEWAY_BODY_LIMIT_BYTES,
} as const;

export function buildSchema(domains: readonly RoutedDomain[] = routedDomains, opts: ExecutableSchemaOptions = {}): GraphQLSchema {
  return executableSchema(loadTypeDefs(process.env.SKYBOOT_SCHEMA_DIR), buildResolvers(domains), opts);
}

export interface GatewayOptions {
  domains?: readonly RoutedDomain[];
  production?: boolean;
  /** The Lambda entry's: its SDL files were validated before they were bundled (gateway/executableSchema.ts). */
  assumeValidSDL?: boolean;
}

export function buildGateway(opts: GatewayOptions = {}): ApolloServer<GatewayContext> {
  const production = opts.production ?? process.env.NODE_ENV === 'production';
  const armor = new ApolloArmor({
    maxDepth: { n: LIMITS.maxDepth },
    maxAliases: { n: LIMITS.maxAliases },
    maxTokens: { n: LIMITS.maxTokens },
    maxDirectives: { n: LIMITS.maxDirectives },
    // Skyboot's own estimate replaces armor's: it reads `first` from variables too and names what to cut.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  }).protect();
  return new ApolloServer<GatewayContext>({
    schema: buildSchema(opts.domains, { assumeValidSDL: opts.assumeValidSDL ?? false }),
    ...armor,
    allowBatchedHttpRequests: false,
    // The entries own shutdown (the local stack stops its emulators after the server).
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    // Introspection stays on in the engine; the plugin limits it to admins in production.
    introspection: true,
    includeStacktraceInErrorResponses: !production,
    formatError: formatErrorFor(production),
    plugins: [
      ...(armor.plugins as ApolloServerPlugin<GatewayContext>[]),
      // Apollo loads these features' plugins at start unless told not to. Skyboot reports to no
      // Apollo GraphOS (usage, schema), is no federated subgraph (inline traces) and has its own
      // IDE (gateway/ide.ts), so they stay off; the Lambda bundle leaves their code out
      // (cdk/lib/bundling.ts UNUSED_APOLLO_PLUGINS).
      ...[
        ApolloServerPluginLandingPageDisabled(),
        ApolloServerPluginUsageReportingDisabled(),
        ApolloServerPluginSchemaReportingDisabled(),
        ApolloServerPluginInlineTraceDisabled(),
      ].map((p) => p as ApolloServerPlugin<GatewayContext>),
      queryCostLimit<GatewayContext>(LIMITS.maxCost),
      requestLogging(),
      ...(production ? [introspectionForAdmins()] : []),
    ],
  });
}
