/**
 * A tiny static HTTP server on localhost for the browser example and the
 * browser tests: fixed routes held in memory, nothing read from disk per
 * request, and optionally the two headers that make a page cross-origin
 * isolated (`Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`), which is what gives a page
 * `SharedArrayBuffer`. Deliberately left out: everything a real web server
 * does (caching, ranges, compression, directory listings).
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** One route's body and its content type. */
export interface Route {
  readonly type: string;
  readonly body: string | Uint8Array;
}

/** A running server: its address and how to stop it. */
export interface RunningServer {
  readonly url: string;
  readonly close: () => Promise<void>;
}

/** What `serveRoutes` takes besides the routes. */
export interface ServeOptions {
  /** The port (default 0: a free one). */
  readonly port?: number;
  /** Send the cross-origin isolation headers (default false). */
  readonly isolated?: boolean;
}

/**
 * Serves `routes` (path to body) on 127.0.0.1 until `close()`; any other
 * path is a 404.
 *
 * @example
 * const server = await serveRoutes(new Map([["/", { type: "text/html", body: "<p>hi</p>" }]]));
 * console.log(server.url); // http://127.0.0.1:40123/
 */
export async function serveRoutes(routes: ReadonlyMap<string, Route>, options: ServeOptions = {}): Promise<RunningServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const route = routes.get(path);
    const headers: Record<string, string> = { "cache-control": "no-store" };
    if (options.isolated === true) {
      headers["cross-origin-opener-policy"] = "same-origin";
      headers["cross-origin-embedder-policy"] = "require-corp";
    }
    if (route === undefined || request.method !== "GET") {
      response.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found");
      return;
    }
    response.writeHead(200, { ...headers, "content-type": route.type }).end(route.body);
  });
  await new Promise<void>((listening, failed) => {
    server.once("error", failed);
    server.listen(options.port ?? 0, "127.0.0.1", () => listening());
  });
  const { port } = server.address() as AddressInfo; // listening on a TCP port, so the address is an AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}
