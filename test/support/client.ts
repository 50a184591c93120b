/** A GraphQL client over real HTTP, as front ends and scripts call the service. */

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }>;
  /** The raw body, for searching responses for secrets. */
  raw: string;
}

/** Every raw response body of the run's clients, searched for secrets at the end of a file. */
export const responseLog: string[] = [];

export class GraphQLClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | null = null,
  ) {}

  as(token: string | null): GraphQLClient {
    return new GraphQLClient(this.baseUrl, token);
  }

  async request<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(`${this.baseUrl}/graphql`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    const raw = await response.text();
    responseLog.push(raw);
    const body = JSON.parse(raw);
    return { status: response.status, data: body.data, errors: body.errors, raw };
  }

  /** Runs an operation that must succeed and returns its data. */
  async ok<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await this.request<T>(query, variables);
    if (response.errors?.length) {
      throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
    }
    return response.data as T;
  }

  /** Runs an operation that must fail and returns its first error's code and field. */
  async fails(query: string, variables: Record<string, unknown> = {}): Promise<{ code: string; field?: string; message: string; extensions: Record<string, any> }> {
    const response = await this.request(query, variables);
    const error = response.errors?.[0];
    if (!error) throw new Error(`expected an error, got ${response.raw}`);
    return { code: error.extensions?.code, field: error.extensions?.field, message: error.message, extensions: error.extensions ?? {} };
  }
}
