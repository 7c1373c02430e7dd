// A path that is not one of wagraph's answers 404 with a JSON body that says where the API
// is, instead of Yoga's empty 404 (a newcomer's curl to `/` or `/api` learned nothing).
import type { Plugin } from 'graphql-yoga';

export function useNotFound(paths: readonly string[]): Plugin {
  const known = new Set(paths);
  return {
    onRequest({ url, endResponse }) {
      if (known.has(url.pathname)) return;
      endResponse(
        Response.json(
          {
            errors: [
              {
                message: 'Not found: the GraphQL API is at /graphql (POST a query; open it in a browser for GraphiQL).',
                extensions: { code: 'NOT_FOUND' },
              },
            ],
          },
          { status: 404 },
        ),
      );
    },
  };
}
