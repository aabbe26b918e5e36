// oidc-provider ships no types; this declares the part the local authorization server uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  type Json = Record<string, unknown>;

  export interface AdapterPayload extends Json {
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: number;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientMetadata extends Json {
    client_id: string;
  }

  export interface ProviderClient {
    clientId: string;
    scope?: string;
    grantTypes?: string[];
  }

  export interface ProviderToken {
    kind: string;
    accountId?: string;
    clientId?: string;
    scope?: string;
  }

  export interface KoaContext {
    method: string;
    path: string;
    status: number;
    body: unknown;
    req: IncomingMessage;
    request: { req: IncomingMessage };
    get(header: string): string;
    is(type: string): string | false | null;
    oidc?: { client?: ProviderClient; params?: Json };
  }

  export interface InteractionDetails {
    uid: string;
    grantId?: string;
    prompt: { name: string; details: Json };
    params: Json & { client_id?: string; scope?: string };
    session?: { accountId: string };
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface Configuration extends Json {
    adapter?: new (model: string) => Adapter;
    findAccount?: (ctx: KoaContext, id: string) => Promise<{ accountId: string; claims(): Promise<Json> } | undefined>;
    extraTokenClaims?: (ctx: KoaContext, token: ProviderToken) => Promise<Json | undefined>;
    issueRefreshToken?: (ctx: KoaContext, client: ProviderClient & { grantTypeAllowed(type: string): boolean }, code: unknown) => Promise<boolean>;
  }

  export type EventListener = (...args: never[]) => void;

  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: never[]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Json, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    Client: { find(id: string): Promise<ProviderClient | undefined> };
    Grant: {
      new (init: { accountId: string; clientId: string }): Grant;
      find(id: string): Promise<Grant | undefined>;
    };
  }
}
