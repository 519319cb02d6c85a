import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP server for a fake API: started on a port (0 for any), stopped with its connections. */
export class LoopbackServer {
  private server: Server | undefined;

  constructor(private readonly handler: (req: IncomingMessage, res: ServerResponse) => void) {}

  /** Listens and returns `http://host:port`. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer(this.handler);
    this.server.listen(port, host);
    await once(this.server, 'listening');
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A fake source API on a loopback server: `start`, `stop`, and its base URL for subclasses. */
export abstract class FakeSourceApi {
  private readonly server = new LoopbackServer((req, res) => this.handle(req, res));
  protected base = '';

  /** `http://127.0.0.1:PORT`, once started. */
  get url(): string {
    return this.base;
  }

  /** Listens on `port` (0 for any free one). */
  async start(port = 0): Promise<this> {
    this.base = await this.server.start(port);
    return this;
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): void;
}
