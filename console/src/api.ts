/** The console's one way to the cloud: GraphQL over fetch with the person's bearer token. */
import { currentToken } from './auth.js';

export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

let endpoint = '/graphql';
let onUnauthenticated: () => void = () => undefined;

export function configureApi(api: string, unauthenticated: () => void): void {
  endpoint = api;
  onUnauthenticated = unauthenticated;
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const token = currentToken();
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json().catch(() => ({}))) as { data?: T; errors?: GraphQLErrorBody[] };
  const first = body.errors?.[0];
  if (first) {
    if (first.extensions?.code === 'UNAUTHENTICATED') onUnauthenticated();
    throw new ApiError(first.message, first.extensions?.code);
  }
  if (!res.ok || !body.data) throw new ApiError(`the API answered HTTP ${res.status}`, undefined);
  return body.data;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<N> {
  edges: { node: N }[];
  pageInfo: PageInfo;
}
