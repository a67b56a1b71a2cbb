import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { UserError } from '../model/errors';

/** Engine endpoint used when neither `--docker-host` nor `DOCKER_HOST` is given. */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
/** Engine API version we speak: docker.io 20.10's, also accepted by every newer Engine. */
export const DOCKER_API_VERSION = 'v1.41';

const REQUEST_TIMEOUT_MS = 10_000;
/** Bound on one JSON reply and on one unterminated event, so a broken peer cannot exhaust memory. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_EVENT_CHARS = 1024 * 1024;

/** Where the Engine listens: a unix socket path, and the URL the user wrote (for logs). */
export interface DockerEndpoint {
  readonly socketPath: string;
  readonly url: string;
}

/** Parse `--docker-host` / `DOCKER_HOST` (`unix:///path`); other schemes are a usage error. */
export function parseDockerHost(value: string | undefined, flag = 'Docker host'): DockerEndpoint {
  const url = value === undefined || value.trim() === '' ? DEFAULT_DOCKER_HOST : value.trim();
  const match = /^unix:\/\/(\/.+)$/.exec(url);
  if (match === null) {
    const scheme = /^([a-z0-9+.-]+):\/\//i.exec(url)?.[1];
    const why = scheme === undefined ? 'expected unix:///path/to/docker.sock' : `${scheme}:// is not supported, only unix:///path/to/docker.sock`;
    throw new UserError(`invalid ${flag} "${url}": ${why}`);
  }
  return { socketPath: match[1]!, url };
}

/** A failed Engine request: transport error (`status` undefined) or a non-2xx reply. */
export class DockerApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DockerApiError';
  }
}

/**
 * Splits the Engine's event stream into JSON objects. The Engine writes one object per line,
 * but HTTP chunks may cut an object anywhere; scanning brace depth (outside strings) also copes
 * with objects written back to back without a newline.
 */
export class JsonStreamSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  /** Feed a chunk; returns the complete objects it finished, parsed. Throws on malformed JSON. */
  push(chunk: string): unknown[] {
    this.buffer += chunk;
    const out: unknown[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b) this.depth++;
      else if (c === 0x7d && this.depth > 0) {
        if (--this.depth > 0) continue;
        out.push(JSON.parse(this.buffer.slice(start, i + 1)));
        start = i + 1;
      } else if (this.depth === 0 && c > 0x20) {
        throw new SyntaxError(`unexpected character ${JSON.stringify(this.buffer[i])} between events`);
      }
    }
    this.buffer = this.buffer.slice(start);
    this.scanned = this.buffer.length;
    if (this.buffer.length > MAX_EVENT_CHARS) throw new RangeError(`event larger than ${MAX_EVENT_CHARS} characters`);
    return out;
  }
}

/** Handlers of a followed event stream. `onEnd` is called once, with the reason it ended. */
export interface EventHandlers {
  onOpen(): void;
  onEvent(event: unknown): void;
  onEnd(error: Error): void;
}

/** A followed event stream; `close()` ends it without calling `onEnd`. */
export interface EventStream {
  close(): void;
}

/** The Engine calls the Docker source needs (an interface, so tests can fake the Engine). */
export interface DockerApi {
  listNetworks(): Promise<unknown>;
  listContainers(): Promise<unknown>;
  followEvents(handlers: EventHandlers): EventStream;
}

/** A tiny Engine API client over `node:http` and the unix socket (no dockerode: see README). */
export class DockerClient implements DockerApi {
  constructor(
    readonly endpoint: DockerEndpoint,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  /** `GET /networks`: every network, without their containers. */
  listNetworks(): Promise<unknown> {
    return this.getJson('/networks');
  }

  /** `GET /networks/{id}`: one network with its endpoints. */
  inspectNetwork(idOrName: string): Promise<unknown> {
    return this.getJson(`/networks/${encodeURIComponent(idOrName)}`);
  }

  /** `GET /containers/json`: running containers with their per-network addresses. */
  listContainers(): Promise<unknown> {
    return this.getJson('/containers/json');
  }

  /** GET an Engine path and parse the JSON reply. */
  getJson(path: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = this.get(path, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) req.destroy(new DockerApiError(`reply to GET ${path} larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (!isOk(res)) return reject(replyError(path, res, body));
          try {
            resolve(JSON.parse(body));
          } catch {
            reject(new DockerApiError(`reply to GET ${path} is not JSON`));
          }
        });
        res.on('error', (error) => reject(this.transportError(error)));
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new DockerApiError(`GET ${path} timed out after ${this.timeoutMs} ms`)));
      req.on('error', (error) => reject(this.transportError(error)));
    });
  }

  /** Follow `GET /events` for network and container events until closed or the Engine goes away. */
  followEvents(handlers: EventHandlers): EventStream {
    const filters = encodeURIComponent(JSON.stringify({ type: ['network', 'container'] }));
    const path = `/events?filters=${filters}`;
    let ended = false;
    const end = (error: Error): void => {
      if (ended) return;
      ended = true;
      req.destroy();
      handlers.onEnd(error);
    };
    const req: ClientRequest = this.get(path, (res) => {
      if (!isOk(res)) {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c.slice(0, 1000)));
        res.on('end', () => end(replyError('/events', res, body)));
        return;
      }
      handlers.onOpen();
      const splitter = new JsonStreamSplitter();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        let events: unknown[];
        try {
          events = splitter.push(chunk);
        } catch (error) {
          return end(new DockerApiError(`bad event stream: ${(error as Error).message}`));
        }
        for (const event of events) if (!ended) handlers.onEvent(event);
      });
      res.on('end', () => end(new DockerApiError('event stream ended')));
      res.on('error', (error) => end(this.transportError(error)));
    });
    req.on('error', (error) => end(this.transportError(error)));
    return { close: () => ((ended = true), req.destroy()) };
  }

  private get(path: string, onResponse: (res: IncomingMessage) => void): ClientRequest {
    const req = request({ socketPath: this.endpoint.socketPath, path: `/${DOCKER_API_VERSION}${path}`, method: 'GET', headers: { host: 'docker' } }, onResponse);
    req.end();
    return req;
  }

  private transportError(error: Error): DockerApiError {
    if (error instanceof DockerApiError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    return new DockerApiError(`cannot reach the Docker Engine at ${this.endpoint.url}: ${code ?? error.message}`);
  }
}

function isOk(res: IncomingMessage): boolean {
  return res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
}

/** The Engine's error replies are `{"message": "..."}`; quote that message. */
function replyError(path: string, res: IncomingMessage, body: string): DockerApiError {
  let message = body.trim().slice(0, 200);
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the raw text
  }
  return new DockerApiError(`GET ${path}: HTTP ${res.statusCode ?? '?'} ${message}`, res.statusCode);
}
